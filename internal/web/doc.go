// Package web is the server-rendered user interface of an Alliance node: the
// public pages (landing page, member countries), the login form and the home
// page of each role. It owns the HTML templates, the stylesheet, the
// message catalogues, web sessions and CSRF protection.
//
// Everything is embedded in the binary and works without JavaScript. Pages
// obey the node's Content-Security-Policy: no inline styles or scripts, one
// stylesheet under /static/.
//
// The package decides nothing about permissions: every page calls the use
// cases of internal/app with the actor of the session in the context, and
// maps the error codes those return to HTTP statuses and safe messages.
//
// Translations live in locales/active.LANG.toml, read with go-i18n. Adding a
// file adds a language; English is the fallback and the reference every other
// catalogue must cover.
package web
