package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
)

// Failure is the kind of a failed fetch, as recorded on an item.
type Failure string

// Failure kinds. FailureNone is the kind of a nil error.
const (
	FailureNone      Failure = ""
	FailureDNS       Failure = "dns"
	FailureRefused   Failure = "refused"
	FailureTimeout   Failure = "timeout"
	FailureBlocked   Failure = "blocked" // SSRF guard: address or scheme refused
	FailureTooLarge  Failure = "too_large"
	FailureHTTP4xx   Failure = "http_4xx"
	FailureHTTP5xx   Failure = "http_5xx"
	FailureRedirects Failure = "redirects"
	FailureTLS       Failure = "tls"
	FailureError     Failure = "error" // anything else
)

// StatusError is returned with the Response when the status is not 2xx.
type StatusError struct {
	Status int
	URL    string
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("fetch %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// dnsError marks a failure of the resolver, whatever type it returned.
type dnsError struct {
	host string
	err  error
}

func (e *dnsError) Error() string { return fmt.Sprintf("fetch: resolve %s: %v", e.host, e.err) }
func (e *dnsError) Unwrap() error { return e.err }

// Classify returns the Failure kind of an error from Fetch.
func Classify(err error) Failure {
	if err == nil {
		return FailureNone
	}
	var se *StatusError
	var de *dnsError
	var ne *net.DNSError
	switch {
	case errors.As(err, &se):
		if se.Status >= 500 {
			return FailureHTTP5xx
		}
		if se.Status >= 400 {
			return FailureHTTP4xx
		}
		return FailureError // 1xx/3xx that was not followed
	case errors.Is(err, ErrBlocked):
		return FailureBlocked
	case errors.Is(err, ErrTooLarge):
		return FailureTooLarge
	case errors.Is(err, ErrTooManyRedirects):
		return FailureRedirects
	case errors.As(err, &de), errors.As(err, &ne):
		return FailureDNS
	case isTimeout(err):
		return FailureTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return FailureRefused
	case isTLS(err):
		return FailureTLS
	}
	return FailureError
}

// Transient reports whether retrying later may succeed: timeouts, refused
// connections, 5xx, 408 and 429, temporary DNS failures (SERVFAIL, resolver
// timeouts) and dropped connections. Blocked, too large, 4xx, redirect
// loops, TLS failures and names that do not exist are permanent.
func Transient(err error) bool {
	switch Classify(err) {
	case FailureTimeout, FailureRefused, FailureHTTP5xx:
		return true
	case FailureHTTP4xx:
		var se *StatusError
		errors.As(err, &se)
		return se.Status == http.StatusRequestTimeout || se.Status == http.StatusTooManyRequests
	case FailureDNS:
		var ne *net.DNSError
		if errors.As(err, &ne) {
			return !ne.IsNotFound // SERVFAIL, timeouts and other temporary errors
		}
		return true // an injected resolver's failure of unknown kind
	case FailureError:
		return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE)
	}
	return false
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func isTLS(err error) bool {
	var (
		cv *tls.CertificateVerificationError
		rh tls.RecordHeaderError
		al tls.AlertError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	return errors.As(err, &cv) || errors.As(err, &rh) || errors.As(err, &al) ||
		errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}
