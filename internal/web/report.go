package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"alliance"
	"alliance/internal/app"
)

// maxReportFormBytes bounds the body of the report form: the same megabyte
// the JSON API accepts, enough for the most URLs one report may carry.
const maxReportFormBytes = 1 << 20

// Names of the report form's fields.
const (
	fieldURLs        = "urls"
	fieldCategory    = "category"
	fieldDescription = "description"
	fieldEmail       = "email"
	fieldKey         = "key" // idempotency key: a double-click or a resent form makes one report
)

// referenceRE is what a report reference looks like. The thanks page shows
// only a reference of this form, so its URL cannot be made to say anything else.
var referenceRE = regexp.MustCompile(`^R-[A-Za-z0-9-]{1,64}$`)

// formKeyRE is what an idempotency key made by this package looks like.
var formKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// categoryOption is one radio button of the category choice.
type categoryOption struct {
	Value   string
	Label   string // message id
	Checked bool
}

// fieldError is one error of the report form, shown next to its field and
// in the summary at the top, which links to the field.
type fieldError struct {
	Anchor string // id of the element the summary links to
	Text   string // localised
	Detail string // the app's message, in English; may be ""
}

// reportData is the content of the report form.
type reportData struct {
	CSRF          string
	Key           string
	URLs          string // the textarea as sent
	Category      string
	Description   string
	Email         string
	Categories    []categoryOption
	MaxURLs       int
	MaxText       int
	RetentionDays int
	Alert         string // a localised message for the whole form, e.g. the rate limit; "" when none
	Errors        []fieldError
	URLError      *fieldError
	CategoryError *fieldError
	TextError     *fieldError
	EmailError    *fieldError
}

// reportForm shows the empty report form.
func (h *handler) reportForm(w http.ResponseWriter, r *http.Request) {
	h.renderReport(w, r, http.StatusOK, &reportData{Key: newFormKey()})
}

// renderReport fills in what every rendering of the form needs and shows it.
func (h *handler) renderReport(w http.ResponseWriter, r *http.Request, status int, d *reportData) {
	if alliance.ActorFromContext(r.Context()).Anonymous() {
		secret, err := h.formCSRFSecret(w, r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.CSRF = csrfToken(secret, purposeReport)
	} else {
		d.CSRF = csrfToken(sessionFrom(r.Context()).csrf, purposeReport)
	}
	d.Categories = make([]categoryOption, 0, len(alliance.Categories))
	for _, c := range alliance.Categories {
		d.Categories = append(d.Categories, categoryOption{Value: string(c), Label: categoryMessage(c), Checked: string(c) == d.Category})
	}
	d.MaxURLs, d.MaxText = alliance.MaxReportURLs, alliance.MaxDescriptionLength
	d.RetentionDays = int(h.app.ContactRetention() / (24 * time.Hour))
	h.render(w, r, status, "report", "ReportTitle", d)
}

// categoryMessage is the message id of a category's label.
func categoryMessage(c alliance.Category) string { return "ReportCategory" + camel(string(c)) }

// submitReport takes a report from the form. Valid input goes to the app and
// the browser on to the thanks page (Post/Redirect/Get, so a reload sends
// nothing twice); invalid input comes back with the user's input kept and
// the error next to its field.
func (h *handler) submitReport(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxReportFormBytes)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			h.renderError(w, r, http.StatusRequestEntityTooLarge, "ErrorTooLarge", "")
			return
		}
		h.renderError(w, r, http.StatusBadRequest, "ErrorBadForm", "")
		return
	}
	ctx := r.Context()
	var csrfOK bool
	if alliance.ActorFromContext(ctx).Anonymous() {
		csrfOK = h.checkFormCSRF(r, purposeReport)
	} else {
		csrfOK = checkSessionCSRF(r, purposeReport)
	}
	if !csrfOK {
		h.renderError(w, r, http.StatusForbidden, "ErrorCSRF", "")
		return
	}

	d := &reportData{
		URLs:        strings.Join(r.PostForm[fieldURLs], "\n"), // several fields read as one
		Category:    r.PostFormValue(fieldCategory),
		Description: r.PostFormValue(fieldDescription),
		Email:       strings.TrimSpace(r.PostFormValue(fieldEmail)),
		Key:         r.PostFormValue(fieldKey),
	}
	if !formKeyRE.MatchString(d.Key) {
		d.Key = newFormKey()
	}
	urls, lines := splitURLs(d.URLs)
	res, err := h.app.SubmitReport(ctx, app.ReportInput{
		URLs:           urls,
		Description:    d.Description,
		Category:       d.Category,
		ReporterEmail:  d.Email,
		IdempotencyKey: d.Key,
		Client:         clientAddr(r),
	})
	tr := h.translatorFrom(ctx)
	switch alliance.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/report/thanks?ref="+url.QueryEscape(res.Report.Reference), http.StatusSeeOther)
	case alliance.EINVALID, alliance.ETOOLARGE:
		d.addError(tr, err, lines)
		status := http.StatusBadRequest
		if alliance.ErrorCode(err) == alliance.ETOOLARGE {
			status = http.StatusRequestEntityTooLarge
		}
		h.renderReport(w, r, status, d)
	case alliance.ERATELIMIT:
		wait := alliance.ErrorRetryAfter(err)
		if wait <= 0 {
			wait = time.Minute
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		d.Alert = waitMessage(tr, wait)
		h.renderReport(w, r, http.StatusTooManyRequests, d)
	case alliance.ECONFLICT:
		// The key came with other input before: the user went back and
		// changed the form. A fresh key lets them send it as a new report.
		d.Key = newFormKey()
		d.Alert, _ = tr.T("ReportResend")
		h.renderReport(w, r, http.StatusConflict, d)
	default:
		h.fail(w, r, err)
	}
}

// splitURLs returns the non-blank lines of the URL field, trimmed, and for
// each the number of its line, counted from 1, so that an error about
// urls[i] can point at the line the user sees.
func splitURLs(text string) (urls []string, lines []int) {
	n := 0
	for line := range strings.Lines(text) {
		n++
		if s := strings.TrimSpace(line); s != "" {
			urls = append(urls, s)
			lines = append(lines, n)
		}
	}
	return urls, lines
}

// addError turns the app's error into a message next to the field it names.
// Only the first invalid input is reported; the app checks nothing further.
func (d *reportData) addError(tr *translator, err error, lines []int) {
	field, detail := alliance.ErrorField(err), alliance.ErrorMessage(err)
	fe := &fieldError{Detail: detail}
	switch {
	case strings.HasPrefix(field, fieldURLs+"["):
		fe.Anchor = fieldURLs
		i, perr := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(field, fieldURLs+"["), "]"))
		if perr == nil && i >= 0 && i < len(lines) {
			fe.Text, _ = tr.T("ReportErrorURLLine", "Line", lines[i])
		} else {
			fe.Text, _ = tr.T("ReportErrorURLs")
		}
		d.URLError = fe
	case field == fieldURLs:
		fe.Anchor = fieldURLs
		fe.Text, _ = tr.T("ReportErrorURLs")
		d.URLError = fe
	case field == fieldCategory:
		fe.Anchor = "category-" + string(alliance.Categories[0])
		fe.Text, _ = tr.T("ReportErrorCategory")
		d.CategoryError = fe
	case field == fieldDescription:
		fe.Anchor = fieldDescription
		fe.Text, _ = tr.T("ReportErrorDescription", "Max", alliance.MaxDescriptionLength)
		d.TextError = fe
	case strings.Contains(field, fieldEmail):
		fe.Anchor = fieldEmail
		fe.Text, _ = tr.T("ReportErrorEmail")
		d.EmailError = fe
	default:
		fe.Anchor = fieldURLs
		fe.Text, _ = tr.T("ReportErrorOther")
	}
	d.Errors = append(d.Errors, *fe)
}

// waitMessage says how long to wait, rounded up to whole minutes past one.
func waitMessage(tr *translator, wait time.Duration) string {
	var msg string
	if wait < time.Minute {
		msg, _ = tr.T("ReportWaitSeconds", "Count", int(math.Ceil(wait.Seconds())))
	} else {
		msg, _ = tr.T("ReportWaitMinutes", "Count", int(math.Ceil(wait.Minutes())))
	}
	return msg
}

// newFormKey returns a random idempotency key for one rendering of the form.
func newFormKey() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// thanksData is the content of the thanks page.
type thanksData struct {
	Reference     string
	RetentionDays int
}

// reportThanks shows the reference of a report just sent. The reference is
// not a secret and the page says nothing about the report beyond it: not
// what was reported and nothing about any assessment.
func (h *handler) reportThanks(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("ref")
	if !referenceRE.MatchString(ref) {
		h.notFound(w, r)
		return
	}
	h.render(w, r, http.StatusOK, "thanks", "ThanksTitle", thanksData{
		Reference: ref, RetentionDays: int(h.app.ContactRetention() / (24 * time.Hour)),
	})
}

// camel turns a code such as "no-hotline" or "no data" into "NoHotline" or
// "NoData", the tail of a message id.
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		case r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}
