package alliance

import (
	"errors"
	"fmt"
	"time"
)

// Error codes shared by every layer. Only the HTTP and web edges map them to
// status codes; everything below speaks in codes.
const (
	ECONFLICT     = "conflict"     // the object already exists or changed underneath
	EINTERNAL     = "internal"     // a bug or an outage; details go to the log only
	EINVALID      = "invalid"      // the input failed validation
	ENOTFOUND     = "not_found"    // no such object, or not visible to the actor
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // authenticated, but not allowed
	ERATELIMIT    = "rate_limited" // too many requests; retry later
	ETOOLARGE     = "too_large"    // the input is over a size limit
	EUNAVAILABLE  = "unavailable"  // a dependency (database) is not reachable
)

// Error is an application error whose Message is safe to show to users.
// Field names the offending input field, if any, so clients can point at it.
type Error struct {
	Code    string
	Message string
	Field   string
	// RetryAfter says when to try again, for ERATELIMIT (Retry-After header).
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("alliance error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("alliance error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted, user-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID *Error naming the offending field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err. Errors that are not an
// *Error are internal: their text may leak detail, so a generic message is used.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the offending field of err, if it names one.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorRetryAfter returns how long to wait before retrying err, if it says.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
