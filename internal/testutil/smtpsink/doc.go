// Package smtpsink is an SMTP server for tests: it listens on 127.0.0.1,
// accepts mail for any recipient and keeps the messages in memory, so a test
// can assert what was sent without any mail leaving the machine.
//
// It speaks enough of RFC 5321 for real clients (net/smtp included): EHLO
// and HELO, optional STARTTLS with a self-signed certificate made on the
// spot, optional AUTH PLAIN, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP
// and QUIT, with limits on line length, message size, recipients and idle
// time. A test can make it answer the next messages with a 4xx or 5xx reply
// to exercise retries and permanent failures. The server is closed by
// t.Cleanup.
package smtpsink
