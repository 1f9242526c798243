package notify

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"alliance/internal/testutil/smtpsink"
)

var fixedNow = time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)

func emailNotice() Notice {
	return Notice{
		ID:      "42",
		Channel: ChannelEmail,
		To:      "abuse@host.example.com",
		From:    "Example Hotline <notices@hotline.example.org>",
		Subject: "Removal request XX-2025-1: Grüße aus Århus",
		Body:    "Hello,\n\nåü are kept.\n.a line starting with a dot\n..two dots\n.\nend\n",
	}
}

// plainSender sends to s without TLS, as a lab relay would be used.
func plainSender(s *smtpsink.Sink) *SMTPSender {
	return &SMTPSender{Addr: s.Addr, HeloName: "node.example.org", StartTLS: StartTLSNever, Timeout: 5 * time.Second, Now: func() time.Time { return fixedNow }}
}

func TestSMTPSend(t *testing.T) {
	long := strings.Repeat("ü", MaxTemplateSubject)
	tests := []struct {
		name string
		edit func(*Notice)
	}{
		{name: "non-ASCII and dots", edit: func(*Notice) {}},
		{name: "long non-ASCII subject", edit: func(n *Notice) { n.Subject = long }},
		{name: "ASCII only, bare address", edit: func(n *Notice) {
			n.From, n.Subject, n.Body = "notices@hotline.example.org", "Removal request", "Plain text."
		}},
		{name: "CRLF body and long line", edit: func(n *Notice) {
			n.Body = "first\r\n" + strings.Repeat("wörd ", 300) + "\r\nlast"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := smtpsink.Start(t)
			n := emailNotice()
			tc.edit(&n)
			if err := plainSender(sink).Send(context.Background(), n); err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := sink.WaitFor(t, 1, 2*time.Second)
			if len(msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(msgs))
			}
			m := msgs[0]
			from, _ := mail.ParseAddress(n.From)
			if m.From != from.Address || len(m.To) != 1 || m.To[0] != n.To {
				t.Errorf("envelope %q -> %q", m.From, m.To)
			}
			if m.Header == nil {
				t.Fatalf("message did not parse:\n%s", m.Data)
			}
			wantHeaders := map[string]string{
				"Message-Id":                "<notice-42@hotline.example.org>",
				"Mime-Version":              "1.0",
				"Content-Type":              "text/plain; charset=utf-8",
				"Content-Transfer-Encoding": "quoted-printable",
				"Auto-Submitted":            "auto-generated",
			}
			for k, want := range wantHeaders {
				if got := m.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if d, err := m.Header.Date(); err != nil || !d.Equal(fixedNow) {
				t.Errorf("Date = %v, %v", d, err)
			}
			if got, err := m.Header.AddressList("From"); err != nil || len(got) != 1 || got[0].Address != from.Address || got[0].Name != from.Name {
				t.Errorf("From header = %v, %v", got, err)
			}
			if got, err := m.Header.AddressList("To"); err != nil || len(got) != 1 || got[0].Address != n.To {
				t.Errorf("To header = %v, %v", got, err)
			}
			if m.Subject != n.Subject {
				t.Errorf("Subject = %q, want %q", m.Subject, n.Subject)
			}
			wantBody := strings.ReplaceAll(n.Body, "\r\n", "\n")
			if !strings.HasSuffix(wantBody, "\n") {
				wantBody += "\n"
			}
			if m.Body != wantBody {
				t.Errorf("Body = %q, want %q", m.Body, wantBody)
			}
			for i, line := range bytes.Split(m.Data, []byte("\r\n")) {
				if len(line) > 998 {
					t.Errorf("line %d is %d bytes", i, len(line))
				}
				if bytes.ContainsAny(line, "\r\n") {
					t.Errorf("line %d has a bare CR or LF", i)
				}
				for _, c := range line {
					if c >= 0x80 {
						t.Fatalf("line %d has a non-ASCII byte: %q", i, line)
					}
				}
			}
		})
	}
}

// TestSMTPSendAgain checks that a redelivery of the same notice carries the
// same Message-ID, so the receiver can tell it is the same notice.
func TestSMTPSendAgain(t *testing.T) {
	sink := smtpsink.Start(t)
	s := plainSender(sink)
	for range 2 {
		if err := s.Send(context.Background(), emailNotice()); err != nil {
			t.Fatal(err)
		}
	}
	msgs := sink.WaitFor(t, 2, 2*time.Second)
	if a, b := msgs[0].Header.Get("Message-Id"), msgs[1].Header.Get("Message-Id"); a != b || a == "" {
		t.Fatalf("Message-IDs %q and %q", a, b)
	}
}

func TestSMTPRefusesBadNotice(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Notice)
	}{
		{name: "CRLF in subject", edit: func(n *Notice) { n.Subject = "Notice\r\nBcc: other@example.test" }},
		{name: "LF in subject", edit: func(n *Notice) { n.Subject = "Notice\nBcc: other@example.test" }},
		{name: "control character in subject", edit: func(n *Notice) { n.Subject = "Notice\x00" }},
		{name: "CRLF in To", edit: func(n *Notice) { n.To = "abuse@host.example.com\r\nBcc: other@example.test" }},
		{name: "LF in From", edit: func(n *Notice) { n.From = "notices@hotline.example.org\nBcc: other@example.test" }},
		{name: "two recipients", edit: func(n *Notice) { n.To = "a@example.com, b@example.com" }},
		{name: "not an address", edit: func(n *Notice) { n.To = "not an address" }},
		{name: "no domain", edit: func(n *Notice) { n.To = "abuse" }},
		{name: "non-ASCII address", edit: func(n *Notice) { n.To = "åbuse@example.com" }},
		{name: "empty from", edit: func(n *Notice) { n.From = "" }},
		{name: "empty id", edit: func(n *Notice) { n.ID = "" }},
		{name: "id with angle bracket", edit: func(n *Notice) { n.ID = "1>@x" }},
		{name: "body too large", edit: func(n *Notice) { n.Body = strings.Repeat("x", MaxBodyBytes+1) }},
		{name: "body not UTF-8", edit: func(n *Notice) { n.Body = "\xff" }},
	}
	sink := smtpsink.Start(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := emailNotice()
			tc.edit(&n)
			err := plainSender(sink).Send(context.Background(), n)
			if err == nil || !Permanent(err) {
				t.Fatalf("Send = %v, want a permanent error", err)
			}
		})
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("sink got %d messages", n)
	}
}

func TestSMTPReplies(t *testing.T) {
	tests := []struct {
		name          string
		setup         func(*smtpsink.Sink)
		wantPermanent bool
	}{
		{name: "451 after DATA", setup: func(s *smtpsink.Sink) { s.FailNext(1, 451, "4.3.0 Try again later") }},
		{name: "550 after DATA", setup: func(s *smtpsink.Sink) { s.FailNext(1, 550, "5.7.1 Rejected") }, wantPermanent: true},
		{name: "450 to RCPT", setup: func(s *smtpsink.Sink) { s.FailNextRcpt(1, 450, "4.2.0 Mailbox busy") }},
		{name: "550 to RCPT", setup: func(s *smtpsink.Sink) { s.FailNextRcpt(1, 550, "5.1.1 No such mailbox") }, wantPermanent: true},
		{name: "552 too large", setup: func(*smtpsink.Sink) {}, wantPermanent: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []smtpsink.Option
			if tc.name == "552 too large" {
				opts = append(opts, smtpsink.WithMaxSize(200))
			}
			sink := smtpsink.Start(t, opts...)
			tc.setup(sink)
			s := plainSender(sink)
			err := s.Send(context.Background(), emailNotice())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if Permanent(err) != tc.wantPermanent {
				t.Fatalf("Permanent(%v) = %v, want %v", err, Permanent(err), tc.wantPermanent)
			}
			if Unconfirmed(err) {
				t.Fatalf("Unconfirmed(%v) after a reply", err)
			}
			if len(sink.Messages()) != 0 {
				t.Fatal("a rejected message was stored")
			}
			if !tc.wantPermanent {
				// The retry the caller makes goes through.
				if err := s.Send(context.Background(), emailNotice()); err != nil {
					t.Fatalf("retry: %v", err)
				}
				sink.WaitFor(t, 1, 2*time.Second)
			}
		})
	}
}

// TestSMTPReplyLost checks that a message the relay took without replying
// is reported unconfirmed: sending it again could deliver it twice.
func TestSMTPReplyLost(t *testing.T) {
	sink := smtpsink.Start(t)
	sink.DropNextReply(1)
	err := plainSender(sink).Send(context.Background(), emailNotice())
	if err == nil || !Unconfirmed(err) || Permanent(err) {
		t.Fatalf("Send = %v (unconfirmed %v), want an unconfirmed error", err, Unconfirmed(err))
	}
	if n := len(sink.Messages()); n != 1 {
		t.Fatalf("%d messages in the sink, want 1", n)
	}
}

// TestSMTPHandover checks that the Handover runs once the message is
// written and before its end, and that its error abandons the message: the
// connection closes without the final dot and the relay keeps nothing.
func TestSMTPHandover(t *testing.T) {
	sink := smtpsink.Start(t)
	n := emailNotice()
	handed := 0
	n.Handover = func() error { handed++; return nil }
	if err := plainSender(sink).Send(context.Background(), n); err != nil || handed != 1 {
		t.Fatalf("Send = %v with %d handovers, want nil and 1", err, handed)
	}
	sink.WaitFor(t, 1, 2*time.Second)
	stop := errors.New("claim lapsed")
	n.Handover = func() error { return stop }
	if err := plainSender(sink).Send(context.Background(), n); !errors.Is(err, stop) || Unconfirmed(err) {
		t.Fatalf("Send with a failing handover = %v, want its error", err)
	}
	time.Sleep(100 * time.Millisecond) // the sink would have stored it by now
	if got := len(sink.Messages()); got != 1 {
		t.Fatalf("%d messages in the sink, want 1 (the abandoned one is not delivered)", got)
	}
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(done)
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestSMTPTimeouts(t *testing.T) {
	addr := silentServer(t)
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a := ln.Addr().String()
		ln.Close()
		return a
	}()
	tests := []struct {
		name    string
		addr    string
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
	}{
		{name: "sender timeout", addr: addr, timeout: 300 * time.Millisecond, ctx: func() (context.Context, context.CancelFunc) {
			return context.Background(), func() {}
		}},
		{name: "context deadline", addr: addr, ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}},
		{name: "context cancelled", addr: addr, ctx: func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			return ctx, cancel
		}},
		{name: "connection refused", addr: closed, ctx: func() (context.Context, context.CancelFunc) {
			return context.Background(), func() {}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			s := &SMTPSender{Addr: tc.addr, StartTLS: StartTLSNever, Timeout: tc.timeout}
			start := time.Now()
			err := s.Send(ctx, emailNotice())
			if err == nil || Permanent(err) || Unconfirmed(err) {
				t.Fatalf("Send = %v, want a transient error, not unconfirmed (nothing was handed over)", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("Send took %v", d)
			}
		})
	}
}

func TestSMTPStartTLSAndAuth(t *testing.T) {
	const relay = "mail.example.test:587"
	tests := []struct {
		name      string
		opts      []smtpsink.Option
		sender    func(*smtpsink.Sink) *SMTPSender
		wantErr   bool
		wantTLS   bool
		wantAuth  string
		permanent bool
	}{
		{
			name: "required, with auth",
			opts: []smtpsink.Option{smtpsink.WithSTARTTLS("mail.example.test"), smtpsink.WithAuth("node", "pw")},
			sender: func(s *smtpsink.Sink) *SMTPSender {
				return &SMTPSender{Addr: relay, Dialer: dialTo(s.Addr), StartTLS: StartTLSRequired, TLSConfig: s.ClientTLSConfig(), Username: "node", Password: "pw"}
			},
			wantTLS: true, wantAuth: "node",
		},
		{
			name: "opportunistic upgrades",
			opts: []smtpsink.Option{smtpsink.WithSTARTTLS()},
			sender: func(s *smtpsink.Sink) *SMTPSender {
				return &SMTPSender{Addr: s.Addr, TLSConfig: s.ClientTLSConfig()}
			},
			wantTLS: true,
		},
		{
			name: "opportunistic without offer stays plain",
			sender: func(s *smtpsink.Sink) *SMTPSender {
				return &SMTPSender{Addr: s.Addr}
			},
		},
		{
			name: "required but not offered",
			sender: func(s *smtpsink.Sink) *SMTPSender {
				return &SMTPSender{Addr: s.Addr, StartTLS: StartTLSRequired}
			},
			wantErr: true,
		},
		{
			name: "untrusted certificate",
			opts: []smtpsink.Option{smtpsink.WithSTARTTLS("mail.example.test")},
			sender: func(s *smtpsink.Sink) *SMTPSender {
				return &SMTPSender{Addr: relay, Dialer: dialTo(s.Addr), StartTLS: StartTLSRequired}
			},
			wantErr: true,
		},
		{
			name: "auth over plain text to a remote relay refused",
			opts: []smtpsink.Option{smtpsink.WithAuth("node", "pw")},
			sender: func(s *smtpsink.Sink) *SMTPSender {
				return &SMTPSender{Addr: relay, Dialer: dialTo(s.Addr), StartTLS: StartTLSNever, Username: "node", Password: "pw"}
			},
			wantErr: true,
		},
		{
			name: "auth over plain text to loopback",
			opts: []smtpsink.Option{smtpsink.WithAuth("node", "pw")},
			sender: func(s *smtpsink.Sink) *SMTPSender {
				return &SMTPSender{Addr: s.Addr, StartTLS: StartTLSNever, Username: "node", Password: "pw"}
			},
			wantAuth: "node",
		},
		{
			name: "wrong password is transient",
			opts: []smtpsink.Option{smtpsink.WithAuth("node", "pw")},
			sender: func(s *smtpsink.Sink) *SMTPSender {
				return &SMTPSender{Addr: s.Addr, StartTLS: StartTLSNever, Username: "node", Password: "wrong"}
			},
			wantErr: true,
		},
		{
			name: "bad mode",
			sender: func(s *smtpsink.Sink) *SMTPSender {
				return &SMTPSender{Addr: s.Addr, StartTLS: "sometimes"}
			},
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := smtpsink.Start(t, tc.opts...)
			s := tc.sender(sink)
			s.Timeout = 5 * time.Second
			err := s.Send(context.Background(), emailNotice())
			if tc.wantErr {
				if err == nil || Permanent(err) != tc.permanent {
					t.Fatalf("Send = %v (permanent %v), want an error (permanent %v)", err, Permanent(err), tc.permanent)
				}
				if len(sink.Messages()) != 0 {
					t.Fatal("message stored despite the error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			m := sink.WaitFor(t, 1, 2*time.Second)[0]
			if m.TLS != tc.wantTLS || m.AuthUser != tc.wantAuth {
				t.Fatalf("TLS %v auth %q, want %v %q", m.TLS, m.AuthUser, tc.wantTLS, tc.wantAuth)
			}
		})
	}
}

// dialTo connects to addr whatever address is asked for: the relay's name
// stays a reserved test name while the bytes go to the local sink.
func dialTo(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}
