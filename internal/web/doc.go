// Package web is the server-rendered user interface of an Alliance node: the
// public pages (landing page, member countries, the report form), the login
// form, the home page of each role and the intake pages of hotline and
// police staff (reported items with their trace, route, takedown and
// assessments, the notices sent to the host, reports, the work queues, the
// forms that assess an item and place or clear a police hold, and the
// takedown figures with their charts), and the victim-identification pages
// of police and the secretariat (series with their status history, the
// owner's status and edit forms, the alerts inbox, and each item's
// deconfliction answer: stand down, coordinate or new material). It owns
// the HTML templates, the stylesheet, the message catalogues, web sessions
// and CSRF protection.
//
// Forms posted without a session (login, report) carry a double-submit
// token: an HMAC, per form, of a random secret in an HttpOnly __Host- cookie.
// Within a session the token is derived from the session's CSRF secret.
// Reported URLs are shown as text, never as links.
//
// Everything is embedded in the binary and works without JavaScript. Pages
// obey the node's Content-Security-Policy: no inline styles or scripts, one
// stylesheet under /static/.
//
// The package decides nothing about permissions: every page calls the use
// cases of internal/app with the actor of the session in the context, and
// maps the error codes those return to HTTP statuses and safe messages. It
// only chooses which forms to show (an assessment form to the analysts of
// the organisation an item is routed to, hold and clear to the police it
// waits for, the takedown figures' link to those the app lets see them,
// a series' forms to its owner);
// the app checks every request again.
//
// Charts are inline SVG written by the templates: chart.go computes their
// geometry (scales, axes, labels) in plain Go, and each chart has role="img",
// a title and a description, and is followed by a table of its numbers.
//
// Translations live in locales/active.LANG.toml, read with go-i18n. Adding a
// file adds a language; English is the fallback and the reference every other
// catalogue must cover.
package web
