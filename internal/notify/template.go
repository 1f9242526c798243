package notify

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"
)

// Template limits.
const (
	// MaxTemplateSubject caps the subject template and the rendered
	// subject, in characters; a longer rendered subject is cut with "…".
	MaxTemplateSubject = 200
	// MaxTemplateBody caps the body template, in bytes. The rendered body
	// is capped by MaxBodyBytes.
	MaxTemplateBody = 20 << 10
)

// Template is an organisation's notice text: text/template sources for the
// subject and the body, executed with [TemplateData].
type Template struct {
	Subject, Body string
}

// TemplateData is what a template can use. Strings are flattened to one
// line (control characters become spaces) before rendering, so a value
// from a report cannot add lines or headers.
type TemplateData struct {
	Node      string // sender organisation code
	NodeName  string // sender organisation name
	ItemURL   string
	Reference string
	Host      string
	Country   string
	ItemID    int64
	Hashes    []Hash
	IssuedAt  time.Time
	Contact   string // where the host can reply
}

// SampleData is the data Validate renders a template with.
func SampleData() TemplateData {
	return TemplateData{
		Node:      "XX",
		NodeName:  "Example Hotline",
		ItemURL:   "https://files.example.com/a/b/c.jpg",
		Reference: "XX-2025-000123",
		Host:      "files.example.com",
		Country:   "XX",
		ItemID:    123,
		Hashes: []Hash{
			{Algorithm: "sha256", Value: strings.Repeat("0", 64)},
			{Algorithm: "pdq", Value: strings.Repeat("f", 64)},
		},
		IssuedAt: time.Date(2025, time.January, 2, 3, 4, 5, 0, time.UTC),
		Contact:  "notices@example.org",
	}
}

const defaultSubject = `Removal request {{.Reference}}: material at {{.Host}}`

const defaultBody = `Hello,

This is a removal request from {{.NodeName}}{{if .Node}} ({{.Node}}){{end}}.

Material at the address below, served from your network, has been assessed
by our analysts as illegal. We ask you to remove it, or to disable access to
it, as soon as possible. Please do not download or forward the material:
removing access is enough.

Reference: {{.Reference}}
URL:       {{.ItemURL}}
{{- if .Host}}
Host:      {{.Host}}{{end}}
Issued:    {{.IssuedAt.UTC.Format "2006-01-02 15:04 UTC"}}
{{- if .Hashes}}

File hashes, to find copies on your systems:
{{- range .Hashes}}
  {{.Algorithm}}: {{.Value}}
{{- end}}
{{- end}}

We check the address regularly until the material is no longer available.
Please quote the reference {{.Reference}} in any reply{{if .Contact}} and write
to {{.Contact}}{{end}}.

Thank you for your help.

{{.NodeName}}
`

// DefaultTemplate returns the neutral English notice used when an
// organisation has none of its own: it asks the host to remove the material
// at the URL and cites the reference, without describing the content.
func DefaultTemplate() Template {
	return Template{Subject: defaultSubject, Body: defaultBody}
}

// errTooLarge stops template execution at the output limit.
var errTooLarge = errors.New("output exceeds the size limit")

// capWriter collects output up to max bytes, then fails, or with cut set
// drops the rest silently.
type capWriter struct {
	buf bytes.Buffer
	max int
	cut bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); len(p) > room {
		if !w.cut {
			return 0, errTooLarge
		}
		w.buf.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return w.buf.Write(p)
}

// parse parses both sources, after checking their sizes.
func (t Template) parse() (subj, body *template.Template, err error) {
	if n := utf8.RuneCountInString(t.Subject); n > MaxTemplateSubject {
		return nil, nil, fmt.Errorf("notify: template subject is %d characters, limit %d", n, MaxTemplateSubject)
	}
	if len(t.Body) > MaxTemplateBody {
		return nil, nil, fmt.Errorf("notify: template body is %d bytes, limit %d", len(t.Body), MaxTemplateBody)
	}
	if !utf8.ValidString(t.Subject) || !utf8.ValidString(t.Body) {
		return nil, nil, errors.New("notify: template is not valid UTF-8")
	}
	if strings.TrimSpace(t.Subject) == "" {
		return nil, nil, errors.New("notify: template subject is empty")
	}
	if strings.TrimSpace(t.Body) == "" {
		return nil, nil, errors.New("notify: template body is empty")
	}
	subj, err = template.New("subject").Option("missingkey=error").Parse(t.Subject)
	if err != nil {
		return nil, nil, fmt.Errorf("notify: template subject: %w", err)
	}
	body, err = template.New("body").Option("missingkey=error").Parse(t.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("notify: template body: %w", err)
	}
	return subj, body, nil
}

// Validate checks that t parses, is within the size limits, has a one-line
// subject, and renders against SampleData. The error names the problem
// (with the template's line for syntax errors).
func (t Template) Validate() error {
	if strings.ContainsAny(t.Subject, "\r\n") {
		return errors.New("notify: template subject must be one line")
	}
	st, bt, err := t.parse()
	if err != nil {
		return err
	}
	subj, body, err := execute(st, bt, SampleData())
	if err != nil {
		return err
	}
	if strings.ContainsAny(subj, "\r\n") {
		return errors.New("notify: template subject must render as one line")
	}
	if strings.TrimSpace(subj) == "" {
		return errors.New("notify: template subject renders empty")
	}
	if strings.TrimSpace(body) == "" {
		return errors.New("notify: template body renders empty")
	}
	return nil
}

// Render executes the template with d. The subject comes out as one line
// without control characters, cut to MaxTemplateSubject characters; the
// body has LF line endings and is at most MaxBodyBytes.
func (t Template) Render(d TemplateData) (subject, body string, err error) {
	st, bt, err := t.parse()
	if err != nil {
		return "", "", err
	}
	subject, body, err = execute(st, bt, d.flat())
	if err != nil {
		return "", "", err
	}
	subject = strings.Join(strings.Fields(oneLine(subject)), " ")
	if utf8.RuneCountInString(subject) > MaxTemplateSubject {
		r := []rune(subject)
		subject = string(r[:MaxTemplateSubject-1]) + "…"
	}
	if subject == "" {
		return "", "", errors.New("notify: template subject renders empty")
	}
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	return subject, body, nil
}

func execute(st, bt *template.Template, d TemplateData) (subject, body string, err error) {
	// A long value (a URL) may make the subject long: it is cut, not refused.
	sw := &capWriter{max: 4 * MaxTemplateSubject, cut: true}
	if err := st.Execute(sw, d); err != nil {
		return "", "", fmt.Errorf("notify: render subject: %w", err)
	}
	bw := &capWriter{max: MaxBodyBytes}
	if err := bt.Execute(bw, d); err != nil {
		return "", "", fmt.Errorf("notify: render body: %w", err)
	}
	if !utf8.Valid(bw.buf.Bytes()) {
		return "", "", errors.New("notify: rendered body is not valid UTF-8")
	}
	return sw.buf.String(), bw.buf.String(), nil
}

// oneLine replaces control characters and Unicode line separators with
// spaces, and invalid UTF-8 with U+FFFD.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// flat returns d with every string flattened to one line.
func (d TemplateData) flat() TemplateData {
	d.Node, d.NodeName, d.ItemURL = oneLine(d.Node), oneLine(d.NodeName), oneLine(d.ItemURL)
	d.Reference, d.Host, d.Country, d.Contact = oneLine(d.Reference), oneLine(d.Host), oneLine(d.Country), oneLine(d.Contact)
	if d.Hashes != nil {
		hs := make([]Hash, len(d.Hashes))
		for i, h := range d.Hashes {
			hs[i] = Hash{Algorithm: oneLine(h.Algorithm), Value: oneLine(h.Value)}
		}
		d.Hashes = hs
	}
	return d
}
