package smtpsink

import (
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// send delivers data with net/smtp, authenticating when user is set.
func send(s *Sink, user, pass string, useTLS bool, data string) error {
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.example.test"); err != nil {
		return err
	}
	if useTLS {
		cfg := s.ClientTLSConfig()
		cfg.ServerName = "127.0.0.1"
		if err := c.StartTLS(cfg); err != nil {
			return err
		}
	}
	if user != "" {
		if err := c.Auth(smtp.PlainAuth("", user, pass, "127.0.0.1")); err != nil {
			return err
		}
	}
	if err := c.Mail("from@example.test"); err != nil {
		return err
	}
	if err := c.Rcpt("to@example.test"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(data)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

const plainMsg = "From: <from@example.test>\r\nTo: <to@example.test>\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n\r\nline one\r\n.dot line\r\n=C3=A5 and soft=\r\nbreak\r\n"

func TestSink(t *testing.T) {
	tests := []struct {
		name      string
		opts      []Option
		setup     func(*Sink)
		user      string
		pass      string
		tls       bool
		data      string
		wantCode  int
		wantStore bool
	}{
		{name: "plain", data: plainMsg, wantStore: true},
		{name: "auth", opts: []Option{WithAuth("u", "p")}, user: "u", pass: "p", data: plainMsg, wantStore: true},
		{name: "auth wrong password", opts: []Option{WithAuth("u", "p")}, user: "u", pass: "x", data: plainMsg, wantCode: 535},
		{name: "auth required", opts: []Option{WithAuth("u", "p")}, data: plainMsg, wantCode: 530},
		{name: "starttls and auth", opts: []Option{WithSTARTTLS(), WithAuth("u", "p")}, tls: true, user: "u", pass: "p", data: plainMsg, wantStore: true},
		{name: "fail next 451", setup: func(s *Sink) { s.FailNext(1, 451, "4.3.0 Try later") }, data: plainMsg, wantCode: 451},
		{name: "fail rcpt 550", setup: func(s *Sink) { s.FailNextRcpt(1, 550, "5.1.1 No such user") }, data: plainMsg, wantCode: 550},
		{name: "too big", opts: []Option{WithMaxSize(100)}, data: plainMsg + strings.Repeat("x\r\n", 100), wantCode: 552},
		{name: "line too long", data: "Subject: x\r\n\r\n" + strings.Repeat("y", MaxLineLength+10) + "\r\n", wantCode: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Start(t, tc.opts...)
			if tc.setup != nil {
				tc.setup(s)
			}
			err := send(s, tc.user, tc.pass, tc.tls, tc.data)
			if got := code(err); got != tc.wantCode {
				t.Fatalf("send: code %d (%v), want %d", got, err, tc.wantCode)
			}
			if !tc.wantStore {
				if n := len(s.Messages()); n != 0 {
					t.Fatalf("stored %d messages, want none", n)
				}
				return
			}
			m := s.WaitFor(t, 1, 2*time.Second)[0]
			if m.From != "from@example.test" || len(m.To) != 1 || m.To[0] != "to@example.test" {
				t.Errorf("envelope %q -> %q", m.From, m.To)
			}
			if m.Subject != "Grüße" {
				t.Errorf("Subject = %q", m.Subject)
			}
			if want := "line one\n.dot line\nå and softbreak\n"; m.Body != want {
				t.Errorf("Body = %q, want %q", m.Body, want)
			}
			if m.AuthUser != tc.user || m.TLS != tc.tls {
				t.Errorf("AuthUser %q TLS %v", m.AuthUser, m.TLS)
			}
		})
	}
}

// TestSinkRetryAfterFailure checks that a queued failure is used up and the
// next attempt is accepted.
func TestSinkRetryAfterFailure(t *testing.T) {
	s := Start(t)
	s.FailNext(2, 451, "4.3.0 Try later")
	for i, want := range []int{451, 451, 0} {
		if got := code(send(s, "", "", false, plainMsg)); got != want {
			t.Fatalf("attempt %d: code %d, want %d", i, got, want)
		}
	}
	if s.Rejected() != 2 || len(s.WaitFor(t, 1, time.Second)) != 1 {
		t.Fatalf("rejected %d, messages %d", s.Rejected(), len(s.Messages()))
	}
}

// TestSinkProtocol speaks raw SMTP to check replies to bad sequences.
func TestSinkProtocol(t *testing.T) {
	s := Start(t)
	conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		cmd  string
		want int
	}{
		{"MAIL FROM:<a@example.test>", 503},
		{"HELO client.example.test", 250},
		{"RCPT TO:<b@example.test>", 503},
		{"MAIL FROM:a@example.test", 501},
		{"MAIL FROM:<a@example.test>", 250},
		{"RCPT TO:<b@example.test>", 250},
		{"RSET", 250},
		{"DATA", 503},
		{"NOOP", 250},
		{"BOGUS", 500},
		{"QUIT", 221},
	}
	for _, st := range steps {
		id, err := tp.Cmd("%s", st.cmd)
		if err != nil {
			t.Fatal(err)
		}
		tp.StartResponse(id)
		code, msg, _ := tp.ReadResponse(0)
		tp.EndResponse(id)
		if code != st.want {
			t.Errorf("%s: %d %s, want %d", st.cmd, code, msg, st.want)
		}
	}
}
