package trace

import (
	"context"
	"errors"
	"net"
)

// Status is the outcome of tracing one host, recorded on the item as is.
type Status string

// The statuses a trace ends with.
const (
	StatusOK       Status = "ok"       // resolved; IP, country and AS filled in
	StatusNXDomain Status = "nxdomain" // the name does not exist (permanent)
	StatusTimeout  Status = "timeout"  // no answer in time (transient)
	StatusNoData   Status = "no data"  // the name exists but has no A/AAAA record (permanent)
	StatusError    Status = "error"    // anything else: SERVFAIL, refused, invalid name, cancelled
)

// Sentinel errors that resolvers return, wrapped, so that Classify and
// Transient can sort them. A Resolver written for tests returns these.
var (
	// ErrNXDomain: the name does not exist.
	ErrNXDomain = errors.New("trace: no such host")
	// ErrNoData: the name exists but has no A or AAAA record.
	ErrNoData = errors.New("trace: no address records")
	// ErrTimeout: the lookup did not finish in time.
	ErrTimeout = errors.New("trace: lookup timed out")
	// ErrServFail: the server failed for now (SERVFAIL and the like); retry later.
	ErrServFail = errors.New("trace: temporary DNS failure")
	// ErrInvalidHost: the host is not a syntactically valid name or address.
	ErrInvalidHost = errors.New("trace: invalid host name")
)

// Classify maps a lookup error to the Status to record: nil is StatusOK;
// ErrNXDomain, ErrNoData and ErrTimeout (or a context deadline, or a
// *net.DNSError saying so) give their status; everything else is StatusError.
//
// The system resolver cannot tell "no such name" from "no address records":
// Go's net package reports both as IsNotFound, which is classified nxdomain.
func Classify(err error) Status {
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		return StatusOK
	case errors.Is(err, ErrNXDomain):
		return StatusNXDomain
	case errors.Is(err, ErrNoData):
		return StatusNoData
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return StatusTimeout
	case errors.As(err, &dnsErr):
		switch {
		case dnsErr.IsNotFound:
			return StatusNXDomain
		case dnsErr.IsTimeout:
			return StatusTimeout
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return StatusTimeout
	}
	return StatusError
}

// Transient reports whether a retry, with backoff, may succeed: true for
// timeouts, SERVFAIL and other temporary DNS failures, cancellation and
// unknown errors; false for nil, nxdomain, no data and an invalid host name,
// which a retry will not change soon (a later periodic re-check may).
func Transient(err error) bool {
	switch {
	case err == nil, errors.Is(err, ErrInvalidHost):
		return false
	case errors.Is(err, ErrServFail), errors.Is(err, context.Canceled):
		return true
	}
	switch Classify(err) {
	case StatusNXDomain, StatusNoData:
		return false
	}
	return true
}
