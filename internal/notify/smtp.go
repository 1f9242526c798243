package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// StartTLS modes of SMTPSender.
const (
	StartTLSNever         = "never"         // plain text: tests and labs only
	StartTLSOpportunistic = "opportunistic" // upgrade when offered (default)
	StartTLSRequired      = "required"      // fail unless the upgrade succeeds
)

// DefaultSMTPTimeout bounds one delivery when SMTPSender.Timeout is zero.
const DefaultSMTPTimeout = time.Minute

// SMTPSender sends e-mail notices through one SMTP relay. It is safe for
// concurrent use; each Send is one connection.
type SMTPSender struct {
	// Addr is the relay's host:port.
	Addr string
	// HeloName is the name given in EHLO; "localhost" when empty. Set it to
	// the node's host name: receivers score mail by it.
	HeloName string
	// Username and Password enable AUTH PLAIN, which is only used over TLS
	// or to a loopback relay.
	Username, Password string
	// StartTLS is "never", "opportunistic" (the default when empty) or
	// "required".
	StartTLS string
	// TLSConfig is used for STARTTLS; nil means the system roots with the
	// relay's host name. ServerName defaults to the host of Addr.
	TLSConfig *tls.Config
	// Timeout bounds the whole delivery, connect to QUIT; zero means
	// DefaultSMTPTimeout. A context deadline that comes first wins.
	Timeout time.Duration
	// Dialer connects to Addr; nil means a net.Dialer.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now gives the Date header; nil means time.Now.
	Now func() time.Time
}

// Send delivers n as a plain-text e-mail. SMTP 5xx replies to MAIL, RCPT
// and DATA and invalid addresses or headers are permanent errors; network
// failures, timeouts, 4xx replies and relay configuration problems are
// transient.
func (s *SMTPSender) Send(ctx context.Context, n Notice) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	msg, from, to, err := buildMessage(n, now())
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("notify: smtp relay address %q: %w", s.Addr, err)
	}
	mode := s.StartTLS
	switch mode {
	case "":
		mode = StartTLSOpportunistic
	case StartTLSNever, StartTLSOpportunistic, StartTLSRequired:
	default:
		return fmt.Errorf("notify: smtp: unknown StartTLS mode %q", s.StartTLS)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	dial := s.Dialer
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("notify: smtp connect %s: %w", s.Addr, err)
	}
	// net/smtp knows no contexts: the deadline bounds every read and write,
	// and a cancelled context expires it at once.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	fail := func(stage string, err error, permanentOn5xx bool) error {
		err = fmt.Errorf("notify: smtp %s %s: %w", stage, s.Addr, err)
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("%w (%v)", err, cerr)
		}
		var te *textproto.Error
		if permanentOn5xx && errors.As(err, &te) && te.Code >= 500 && te.Code <= 599 {
			return &permanentError{err}
		}
		return err
	}

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fail("greeting", err, false)
	}
	defer c.Close()
	helo := s.HeloName
	if helo == "" {
		helo = "localhost"
	}
	if err := c.Hello(helo); err != nil {
		return fail("EHLO", err, false)
	}
	secure := false
	if mode != StartTLSNever {
		if ok, _ := c.Extension("STARTTLS"); ok {
			cfg := &tls.Config{}
			if s.TLSConfig != nil {
				cfg = s.TLSConfig.Clone()
			}
			if cfg.ServerName == "" {
				cfg.ServerName = host
			}
			if cfg.MinVersion == 0 {
				cfg.MinVersion = tls.VersionTLS12
			}
			if err := c.StartTLS(cfg); err != nil {
				return fail("STARTTLS", err, false)
			}
			secure = true
		} else if mode == StartTLSRequired {
			return fail("STARTTLS", errors.New("relay does not offer STARTTLS and StartTLS is required"), false)
		}
	}
	if s.Username != "" {
		if !secure && !isLoopback(host) {
			return fail("AUTH", errors.New("refusing AUTH PLAIN over an unencrypted connection"), false)
		}
		if ok, _ := c.Extension("AUTH"); !ok {
			return fail("AUTH", errors.New("relay does not offer AUTH"), false)
		}
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fail("AUTH", err, false)
		}
	}
	if err := c.Mail(from); err != nil {
		return fail("MAIL FROM", err, true)
	}
	if err := c.Rcpt(to); err != nil {
		return fail("RCPT TO", err, true)
	}
	w, err := c.Data()
	if err != nil {
		return fail("DATA", err, true)
	}
	// net/smtp's DATA writer sends the final dot only on Close: the
	// message so far is buffered or written, and no relay delivers it
	// before the dot.
	if _, err := w.Write(msg); err != nil {
		return fail("DATA", err, true)
	}
	if err := n.handover(); err != nil {
		return err // the deferred Close drops the connection without the dot
	}
	if err := w.Close(); err != nil {
		err = fail("end of DATA", err, true)
		// No reply to the end of the message: the relay may have taken it.
		if _, replied := errors.AsType[*textproto.Error](err); !replied {
			return &unconfirmedError{err}
		}
		return err
	}
	// The relay has taken the message; a failing QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// isLoopback reports whether host names the loopback interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseAddress validates one e-mail address: no CR/LF, ASCII only (no
// SMTPUTF8), at most MaxAddressLen, one mailbox with a domain.
func parseAddress(field, s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, permanentf("notify: %s address contains a line break", field)
	}
	if len(s) > MaxAddressLen+200 {
		return nil, permanentf("notify: %s address too long (%d bytes)", field, len(s))
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, permanentf("notify: %s address %q: %w", field, s, err)
	}
	if len(a.Address) > MaxAddressLen {
		return nil, permanentf("notify: %s address too long (%d bytes)", field, len(a.Address))
	}
	for i := 0; i < len(a.Address); i++ {
		if a.Address[i] >= utf8.RuneSelf || a.Address[i] < 0x21 {
			return nil, permanentf("notify: %s address %q: only printable ASCII is supported", field, a.Address)
		}
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 || at == len(a.Address)-1 {
		return nil, permanentf("notify: %s address %q has no domain", field, a.Address)
	}
	return a, nil
}

// checkSubject refuses what must not reach a header.
func checkSubject(s string) error {
	if len(s) > MaxSubjectBytes {
		return permanentf("notify: subject too long (%d bytes, limit %d)", len(s), MaxSubjectBytes)
	}
	if !utf8.ValidString(s) {
		return permanentf("notify: subject is not valid UTF-8")
	}
	for _, r := range s {
		if r == '\r' || r == '\n' {
			return permanentf("notify: subject contains a line break")
		}
		if r < 0x20 && r != '\t' || r == 0x7f {
			return permanentf("notify: subject contains control character %U", r)
		}
	}
	return nil
}

// checkBody validates the text body shared by both channels.
func checkBody(s string) error {
	if len(s) > MaxBodyBytes {
		return permanentf("notify: body too long (%d bytes, limit %d)", len(s), MaxBodyBytes)
	}
	if !utf8.ValidString(s) {
		return permanentf("notify: body is not valid UTF-8")
	}
	return nil
}

// buildMessage validates n and returns the RFC 5322 message with CRLF line
// endings, and the envelope sender and recipient.
func buildMessage(n Notice, now time.Time) (msg []byte, from, to string, err error) {
	if err := checkID(n.ID); err != nil {
		return nil, "", "", err
	}
	fa, err := parseAddress("From", n.From)
	if err != nil {
		return nil, "", "", err
	}
	ta, err := parseAddress("To", n.To)
	if err != nil {
		return nil, "", "", err
	}
	if err := checkSubject(n.Subject); err != nil {
		return nil, "", "", err
	}
	if err := checkBody(n.Body); err != nil {
		return nil, "", "", err
	}
	domain := fa.Address[strings.LastIndexByte(fa.Address, '@')+1:]
	var b bytes.Buffer
	header := func(k, v string) {
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteString("\r\n")
	}
	header("Date", now.Format(time.RFC1123Z))
	header("From", fa.String())
	header("To", ta.String())
	header("Subject", encodeSubject(n.Subject))
	header("Message-ID", "<notice-"+n.ID+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	// RFC 3834: no autoresponder should answer the notice address.
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(n.Body)); err != nil {
		return nil, "", "", fmt.Errorf("notify: encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, "", "", fmt.Errorf("notify: encode body: %w", err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), fa.Address, ta.Address, nil
}

// encodeSubject RFC 2047-encodes a subject with non-ASCII characters and
// folds between encoded words so no header line grows past the limits.
func encodeSubject(s string) string {
	enc := mime.QEncoding.Encode("utf-8", s)
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}
