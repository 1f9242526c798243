package smtpsink

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Limits of the server. Lines are limited as RFC 5321 4.5.3.1 says (1000
// octets with CRLF); the message size can be changed with WithMaxSize.
const (
	MaxLineLength   = 1000
	DefaultMaxSize  = 10 << 20
	MaxRecipients   = 100
	IdleTimeout     = 30 * time.Second
	maxBadCommands  = 20
	greetingName    = "smtpsink.test"
	maxConnsPerSink = 64
)

// Message is one message the sink accepted.
type Message struct {
	// From is the envelope sender (MAIL FROM), without angle brackets.
	From string
	// To are the envelope recipients (RCPT TO), without angle brackets.
	To []string
	// Data is the message as received, dot-unstuffed, line endings as sent.
	Data []byte
	// Header is the parsed header; nil if the message did not parse.
	Header mail.Header
	// Subject is the Subject header with RFC 2047 encoded words decoded.
	Subject string
	// Body is the body with its Content-Transfer-Encoding (quoted-printable
	// or base64) decoded and CRLF turned into LF.
	Body string
	// AuthUser is the user name the client authenticated as, if any.
	AuthUser string
	// TLS reports whether the message came over a STARTTLS connection.
	TLS bool
}

// Option configures a Sink.
type Option func(*Sink)

// WithAuth requires AUTH PLAIN with this user name and password before MAIL.
func WithAuth(user, password string) Option {
	return func(s *Sink) { s.user, s.pass = user, password }
}

// WithSTARTTLS offers STARTTLS with a fresh self-signed certificate valid for
// 127.0.0.1, ::1, localhost and the given names. Clients trust it through
// [Sink.ClientTLSConfig].
func WithSTARTTLS(names ...string) Option {
	return func(s *Sink) { s.tlsNames = append([]string{"localhost"}, names...); s.wantTLS = true }
}

// WithMaxSize sets the largest message accepted, in bytes (advertised as
// SIZE); larger messages are answered 552.
func WithMaxSize(n int) Option {
	return func(s *Sink) { s.maxSize = n }
}

type failure struct {
	code int
	text string
}

// Sink is a running SMTP server.
type Sink struct {
	// Addr is the host:port the server listens on (127.0.0.1).
	Addr string

	user, pass string
	wantTLS    bool
	tlsNames   []string
	tlsConf    *tls.Config
	roots      *x509.CertPool
	maxSize    int

	ln net.Listener
	wg sync.WaitGroup

	mu        sync.Mutex
	msgs      []Message
	failData  []failure
	dropNext  int
	failRcpt  []failure
	rejected  int
	conns     map[net.Conn]struct{}
	changed   chan struct{}
	closed    bool
	connCount int
}

// Start starts a sink on 127.0.0.1 with a free port; it is closed when the
// test ends.
func Start(t testing.TB, opts ...Option) *Sink {
	t.Helper()
	s := &Sink{maxSize: DefaultMaxSize, conns: make(map[net.Conn]struct{}), changed: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if s.wantTLS {
		if err := s.makeCert(); err != nil {
			t.Fatalf("smtpsink: certificate: %v", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtpsink: listen: %v", err)
	}
	s.ln = ln
	s.Addr = ln.Addr().String()
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

// ClientTLSConfig returns a TLS configuration that trusts the sink's
// certificate; nil unless WithSTARTTLS was given.
func (s *Sink) ClientTLSConfig() *tls.Config {
	if s.roots == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.roots, MinVersion: tls.VersionTLS12}
}

// errDropped ends a session without a reply (DropNextReply).
var errDropped = errors.New("smtpsink: reply dropped")

// FailNext makes the sink answer the next n messages with code and text at
// the end of DATA instead of accepting them (for example 451 or 550).
func (s *Sink) FailNext(n, code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failData = append(s.failData, failure{code, text})
	}
}

// DropNextReply makes the sink take the next n messages and then close the
// connection instead of replying to the end of DATA, as a relay whose
// reply is lost: the message is delivered, the client cannot know it.
func (s *Sink) DropNextReply(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropNext += n
}

// FailNextRcpt makes the sink answer the next n RCPT commands with code and
// text (for example 550 for an unknown mailbox).
func (s *Sink) FailNextRcpt(n, code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failRcpt = append(s.failRcpt, failure{code, text})
	}
}

// Rejected returns how many RCPT commands or messages were answered with a
// failure set by FailNext or FailNextRcpt.
func (s *Sink) Rejected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

// Messages returns a copy of the messages accepted so far, oldest first.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor waits until at least n messages were accepted and returns them;
// it fails the test after timeout.
func (s *Sink) WaitFor(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			out := append([]Message(nil), s.msgs...)
			s.mu.Unlock()
			return out
		}
		ch, got := s.changed, len(s.msgs)
		s.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			t.Fatalf("smtpsink: %d messages after %v, want %d", got, timeout, n)
			return nil
		}
	}
}

func (s *Sink) close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
}

func (s *Sink) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		if s.closed || len(s.conns) >= maxConnsPerSink {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			sess := &session{s: s, conn: c}
			sess.serve()
			s.mu.Lock()
			delete(s.conns, sess.conn)
			delete(s.conns, c)
			s.mu.Unlock()
			sess.conn.Close()
		}()
	}
}

func (s *Sink) store(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

// takeFailure pops the next queued failure of q, if any.
func (s *Sink) takeFailure(q *[]failure) (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(*q) == 0 {
		return failure{}, false
	}
	f := (*q)[0]
	*q = (*q)[1:]
	s.rejected++
	return f, true
}

func (s *Sink) makeCert() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "smtpsink test certificate"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              s.tlsNames,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	s.roots = x509.NewCertPool()
	s.roots.AddCert(cert)
	s.tlsConf = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}
	return nil
}

var errLineTooLong = errors.New("line too long")

// session is one client connection.
type session struct {
	s    *Sink
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer

	helo     bool
	tls      bool
	authUser string
	from     string
	hasFrom  bool
	to       []string
	bad      int
}

func (c *session) reply(code int, lines ...string) error {
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		fmt.Fprintf(c.w, "%d%s%s\r\n", code, sep, l)
	}
	return c.w.Flush()
}

// readLine reads one line with its ending; a line over MaxLineLength is
// read to its end and reported as errLineTooLong.
func (c *session) readLine() ([]byte, error) {
	var line []byte
	tooLong := false
	for {
		chunk, err := c.r.ReadSlice('\n')
		if !tooLong {
			line = append(line, chunk...)
			if len(line) > MaxLineLength {
				tooLong, line = true, nil
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	if tooLong {
		return nil, errLineTooLong
	}
	return line, nil
}

func (c *session) resetTx() {
	c.from, c.hasFrom, c.to = "", false, nil
}

func (c *session) serve() {
	c.r = bufio.NewReaderSize(c.conn, 4096)
	c.w = bufio.NewWriter(c.conn)
	c.conn.SetDeadline(time.Now().Add(IdleTimeout))
	if c.reply(220, greetingName+" ESMTP alliance smtpsink") != nil {
		return
	}
	for c.bad < maxBadCommands {
		c.conn.SetDeadline(time.Now().Add(IdleTimeout))
		raw, err := c.readLine()
		if err == errLineTooLong {
			c.bad++
			if c.reply(500, "5.5.2 Line too long") != nil {
				return
			}
			continue
		}
		if err != nil {
			return
		}
		line := strings.TrimRight(string(raw), "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		var rerr error
		switch strings.ToUpper(verb) {
		case "EHLO":
			c.helo = true
			c.resetTx()
			lines := []string{greetingName, "8BITMIME", "SIZE " + strconv.Itoa(c.s.maxSize), "ENHANCEDSTATUSCODES"}
			if c.s.tlsConf != nil && !c.tls {
				lines = append(lines, "STARTTLS")
			}
			if c.s.user != "" {
				lines = append(lines, "AUTH PLAIN")
			}
			rerr = c.reply(250, lines...)
		case "HELO":
			c.helo = true
			c.resetTx()
			rerr = c.reply(250, greetingName)
		case "STARTTLS":
			switch {
			case c.s.tlsConf == nil:
				rerr = c.reply(502, "5.5.1 STARTTLS not offered")
			case c.tls:
				rerr = c.reply(503, "5.5.1 TLS already active")
			default:
				if c.reply(220, "2.0.0 Ready to start TLS") != nil {
					return
				}
				tc := tls.Server(c.conn, c.s.tlsConf)
				if err := tc.Handshake(); err != nil {
					return
				}
				c.s.mu.Lock()
				c.s.conns[tc] = struct{}{}
				c.s.mu.Unlock()
				c.conn, c.tls = tc, true
				c.r = bufio.NewReaderSize(tc, 4096)
				c.w = bufio.NewWriter(tc)
				c.helo, c.authUser = false, ""
				c.resetTx()
			}
		case "AUTH":
			rerr = c.auth(arg)
		case "MAIL":
			rerr = c.mail(arg)
		case "RCPT":
			rerr = c.rcpt(arg)
		case "DATA":
			rerr = c.data()
		case "RSET":
			c.resetTx()
			rerr = c.reply(250, "2.0.0 OK")
		case "NOOP":
			rerr = c.reply(250, "2.0.0 OK")
		case "VRFY":
			rerr = c.reply(252, "2.5.0 Cannot verify")
		case "QUIT":
			c.reply(221, "2.0.0 Bye")
			return
		default:
			c.bad++
			rerr = c.reply(500, "5.5.1 Command not recognized")
		}
		if rerr != nil {
			return
		}
	}
	c.reply(421, "4.7.0 Too many errors")
}

func (c *session) auth(arg string) error {
	switch {
	case c.s.user == "":
		return c.reply(502, "5.5.1 AUTH not offered")
	case !c.helo:
		return c.reply(503, "5.5.1 EHLO first")
	case c.authUser != "":
		return c.reply(503, "5.5.1 Already authenticated")
	}
	mech, ir, _ := strings.Cut(arg, " ")
	if !strings.EqualFold(mech, "PLAIN") {
		return c.reply(504, "5.5.4 Mechanism not supported")
	}
	if ir == "" {
		if err := c.reply(334, ""); err != nil {
			return err
		}
		raw, err := c.readLine()
		if err == errLineTooLong {
			return c.reply(500, "5.5.2 Line too long")
		}
		if err != nil {
			return err
		}
		ir = strings.TrimRight(string(raw), "\r\n")
	}
	if ir == "*" {
		return c.reply(501, "5.0.0 Authentication cancelled")
	}
	dec, err := base64.StdEncoding.DecodeString(ir)
	if err != nil {
		return c.reply(501, "5.5.2 Bad base64")
	}
	parts := strings.Split(string(dec), "\x00")
	if len(parts) != 3 || parts[1] != c.s.user || parts[2] != c.s.pass {
		c.bad++
		return c.reply(535, "5.7.8 Authentication credentials invalid")
	}
	c.authUser = parts[1]
	return c.reply(235, "2.7.0 Authentication successful")
}

// pathArg extracts the address from "FROM:<a@b> PARAMS" or "TO:<a@b>".
func pathArg(arg, prefix string) (addr string, params []string, ok bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", nil, false
	}
	rest := strings.TrimLeft(arg[len(prefix):], " ")
	if !strings.HasPrefix(rest, "<") {
		return "", nil, false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", nil, false
	}
	return rest[1:end], strings.Fields(rest[end+1:]), true
}

func (c *session) mail(arg string) error {
	switch {
	case !c.helo:
		return c.reply(503, "5.5.1 EHLO first")
	case c.s.user != "" && c.authUser == "":
		return c.reply(530, "5.7.0 Authentication required")
	case c.hasFrom:
		return c.reply(503, "5.5.1 Sender already given")
	}
	addr, params, ok := pathArg(arg, "FROM:")
	if !ok {
		c.bad++
		return c.reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
	}
	for _, p := range params {
		if k, v, _ := strings.Cut(p, "="); strings.EqualFold(k, "SIZE") {
			if n, err := strconv.Atoi(v); err == nil && n > c.s.maxSize {
				return c.reply(552, "5.3.4 Message size exceeds fixed limit")
			}
		}
	}
	c.from, c.hasFrom = addr, true
	return c.reply(250, "2.1.0 OK")
}

func (c *session) rcpt(arg string) error {
	if !c.hasFrom {
		return c.reply(503, "5.5.1 MAIL first")
	}
	addr, _, ok := pathArg(arg, "TO:")
	if !ok || addr == "" {
		c.bad++
		return c.reply(501, "5.5.4 Syntax: RCPT TO:<address>")
	}
	if len(c.to) >= MaxRecipients {
		return c.reply(452, "4.5.3 Too many recipients")
	}
	if f, ok := c.s.takeFailure(&c.s.failRcpt); ok {
		return c.reply(f.code, f.text)
	}
	c.to = append(c.to, addr)
	return c.reply(250, "2.1.5 OK")
}

func (c *session) data() error {
	if len(c.to) == 0 {
		return c.reply(503, "5.5.1 RCPT first")
	}
	if err := c.reply(354, "End data with <CR><LF>.<CR><LF>"); err != nil {
		return err
	}
	var buf bytes.Buffer
	tooBig, tooLong := false, false
	for {
		c.conn.SetDeadline(time.Now().Add(IdleTimeout))
		line, err := c.readLine()
		if err == errLineTooLong {
			tooLong = true
			continue
		}
		if err != nil {
			return err
		}
		if string(line) == ".\r\n" || string(line) == ".\n" {
			break
		}
		if line[0] == '.' {
			line = line[1:]
		}
		if buf.Len()+len(line) > c.s.maxSize {
			tooBig = true
			continue
		}
		buf.Write(line)
	}
	from, to := c.from, c.to
	c.resetTx()
	switch {
	case tooLong:
		return c.reply(500, "5.5.2 Line too long")
	case tooBig:
		return c.reply(552, "5.3.4 Message size exceeds fixed limit")
	}
	if f, ok := c.s.takeFailure(&c.s.failData); ok {
		return c.reply(f.code, f.text)
	}
	m := Message{From: from, To: to, Data: buf.Bytes(), AuthUser: c.authUser, TLS: c.tls}
	parse(&m)
	c.s.store(m)
	c.s.mu.Lock()
	drop := c.s.dropNext > 0
	if drop {
		c.s.dropNext--
	}
	c.s.mu.Unlock()
	if drop {
		return errDropped
	}
	return c.reply(250, "2.0.0 OK queued")
}

// parse fills Header, Subject and Body from Data, as far as it parses.
func parse(m *Message) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		m.Body = strings.ReplaceAll(string(m.Data), "\r\n", "\n")
		return
	}
	m.Header = msg.Header
	if subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = subj
	} else {
		m.Subject = msg.Header.Get("Subject")
	}
	var r io.Reader = msg.Body
	switch strings.ToLower(strings.TrimSpace(msg.Header.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		b = m.Data
	}
	m.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
}
