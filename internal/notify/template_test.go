package notify

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"alliance/internal/testutil/smtpsink"
)

func TestDefaultTemplate(t *testing.T) {
	tpl := DefaultTemplate()
	if err := tpl.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	d := SampleData()
	subj, body, err := tpl.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if subj != "Removal request XX-2025-000123: material at files.example.com" {
		t.Errorf("subject %q", subj)
	}
	for _, want := range []string{d.ItemURL, "Reference: " + d.Reference, d.NodeName, d.Contact,
		"sha256: " + d.Hashes[0].Value, "pdq: " + d.Hashes[1].Value, "Issued:    2025-01-02 03:04 UTC"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "{{") || strings.Contains(body, "<no value>") {
		t.Errorf("body has template leftovers:\n%s", body)
	}
	// Optional fields left out leave no empty labels behind.
	d.Hashes, d.Contact, d.Host = nil, "", ""
	_, body, err = tpl.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "hashes") || strings.Contains(body, "Host:") || strings.Contains(body, " and write") {
		t.Errorf("empty fields rendered:\n%s", body)
	}
}

func TestTemplateValidate(t *testing.T) {
	tests := []struct {
		name    string
		tpl     Template
		wantErr string // substring of the error; "" means valid
	}{
		{name: "own template", tpl: Template{Subject: "Notice {{.Reference}}", Body: "Remove {{.ItemURL}}\n{{range .Hashes}}{{.Algorithm}}={{.Value}}\n{{end}}"}},
		{name: "unclosed action in subject", tpl: Template{Subject: "Notice {{.Reference", Body: "x"}, wantErr: "subject:1: unclosed action"},
		{name: "unclosed range in body", tpl: Template{Subject: "s", Body: "a\n{{range .Hashes}}x"}, wantErr: "body:2: unexpected EOF"},
		{name: "unknown field", tpl: Template{Subject: "s", Body: "{{.Colour}}"}, wantErr: "can't evaluate field Colour"},
		{name: "unknown function", tpl: Template{Subject: "s", Body: "{{exec .ItemURL}}"}, wantErr: `function "exec" not defined`},
		{name: "subject with newline", tpl: Template{Subject: "Notice\nBcc: x@example.test", Body: "x"}, wantErr: "subject must be one line"},
		{name: "subject renders a newline", tpl: Template{Subject: `Notice{{"\r\n"}}Bcc: x@example.test`, Body: "x"}, wantErr: "subject must render as one line"},
		{name: "subject too long", tpl: Template{Subject: strings.Repeat("s", MaxTemplateSubject+1), Body: "x"}, wantErr: "subject is 201 characters"},
		{name: "body too long", tpl: Template{Subject: "s", Body: strings.Repeat("b", MaxTemplateBody+1)}, wantErr: "body is 20481 bytes"},
		{name: "empty subject", tpl: Template{Subject: " ", Body: "x"}, wantErr: "subject is empty"},
		{name: "subject renders empty", tpl: Template{Subject: "{{if false}}x{{end}}", Body: "x"}, wantErr: "subject renders empty"},
		{name: "empty body", tpl: Template{Subject: "s"}, wantErr: "body is empty"},
		{name: "runaway recursion is bounded", tpl: Template{Subject: "s", Body: `{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}`}, wantErr: "render body"},
		{name: "runaway output is bounded", tpl: Template{Subject: "s", Body: `{{define "r"}}0123456789{{template "r" .}}{{end}}{{template "r" .}}`}, wantErr: "size limit"},
		{name: "not UTF-8", tpl: Template{Subject: "s\xff", Body: "x"}, wantErr: "not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.tpl.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestTemplateRenderFlattens(t *testing.T) {
	d := SampleData()
	d.Reference = "R1\r\nBcc: other@example.test"
	d.NodeName = "Hotline\nX-Injected: yes"
	tpl := Template{Subject: "Notice {{.Reference}} from {{.NodeName}}", Body: "Reference: {{.Reference}}\nFrom: {{.NodeName}}\n"}
	subj, body, err := tpl.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if subj != "Notice R1 Bcc: other@example.test from Hotline X-Injected: yes" {
		t.Errorf("subject %q", subj)
	}
	if want := "Reference: R1  Bcc: other@example.test\nFrom: Hotline X-Injected: yes\n"; body != want {
		t.Errorf("body %q, want %q", body, want)
	}
	// The flattened subject is accepted by the mail sender as is.
	if err := checkSubject(subj); err != nil {
		t.Errorf("checkSubject: %v", err)
	}

	// A long value is cut, not refused.
	d = SampleData()
	d.ItemURL = "https://files.example.com/" + strings.Repeat("ä", 3000)
	subj, _, err = Template{Subject: "Notice {{.ItemURL}}", Body: "x"}.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(subj); n != MaxTemplateSubject || !strings.HasSuffix(subj, "…") || !utf8.ValidString(subj) {
		t.Errorf("long subject: %d characters, %q", n, subj[len(subj)-10:])
	}
}

// TestRenderAndSend takes the default template through the mail sender into
// the sink: what the host receives is what was rendered.
func TestRenderAndSend(t *testing.T) {
	sink := smtpsink.Start(t)
	d := SampleData()
	d.NodeName = "Hotline Århus"
	subj, body, err := DefaultTemplate().Render(d)
	if err != nil {
		t.Fatal(err)
	}
	m := Multi{ChannelEmail: plainSender(sink)}
	n := Notice{ID: "n-1", Channel: ChannelEmail, To: "abuse@files.example.com", From: "notices@hotline.example.org", Subject: subj, Body: body}
	if err := m.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	got := sink.WaitFor(t, 1, 2*time.Second)[0]
	if got.Subject != subj || got.Body != body {
		t.Fatalf("received subject %q body %q\nwant %q %q", got.Subject, got.Body, subj, body)
	}
	// A channel without a sender is permanent.
	n.Channel = ChannelWebhook
	if err := m.Send(context.Background(), n); !Permanent(err) {
		t.Fatalf("unknown channel: %v", err)
	}
	if !Permanent(MarkPermanent(context.Canceled)) || MarkPermanent(nil) != nil || Permanent(context.Canceled) {
		t.Fatal("MarkPermanent/Permanent disagree")
	}
}
