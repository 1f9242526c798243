package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"alliance"
)

// StatusCode returns the HTTP status for an alliance error code: EINVALID 400,
// EUNAUTHORIZED 401, EFORBIDDEN 403, ENOTFOUND 404, ECONFLICT 409, ETOOLARGE
// 413, ERATELIMIT 429, EUNAVAILABLE 503, and 500 for anything else.
func StatusCode(code string) int {
	switch code {
	case alliance.EINVALID:
		return http.StatusBadRequest
	case alliance.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case alliance.EFORBIDDEN:
		return http.StatusForbidden
	case alliance.ENOTFOUND:
		return http.StatusNotFound
	case alliance.ECONFLICT:
		return http.StatusConflict
	case alliance.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case alliance.ERATELIMIT:
		return http.StatusTooManyRequests
	case alliance.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is the inside of the error envelope.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// WriteError writes err as the error envelope
// {"error":{"code":…,"message":…,"field":…}} with the status of its code. Only
// the user-safe message of an *alliance.Error is shown; any other error, and
// any code that maps to 500, is shown as code internal, "Internal error." (log
// it before calling WriteError). A 401 carries a WWW-Authenticate challenge
// for bearer tokens unless one is set already; a 429 carries Retry-After in
// whole seconds (see RetryAfterSeconds).
func WriteError(w http.ResponseWriter, err error) {
	code := alliance.ErrorCode(err)
	status := StatusCode(code)
	body := errorBody{Code: code, Message: alliance.ErrorMessage(err), Field: alliance.ErrorField(err)}
	switch status {
	case http.StatusInternalServerError:
		body = errorBody{Code: alliance.EINTERNAL, Message: "Internal error."}
	case http.StatusUnauthorized:
		if w.Header().Get("WWW-Authenticate") == "" {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.FormatInt(RetryAfterSeconds(alliance.ErrorRetryAfter(err)), 10))
	}
	writeEnvelope(w, status, body)
}

// RetryAfterSeconds turns a wait into the delay-seconds of a Retry-After
// header: rounded up, so that a client that waits as told is not refused
// again, and at least 1, as 0 would invite an immediate retry.
func RetryAfterSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// writeEnvelope writes body as the error envelope with status.
func writeEnvelope(w http.ResponseWriter, status int, body errorBody) {
	b, err := json.Marshal(struct {
		Error errorBody `json:"error"`
	}{body})
	if err != nil {
		// Three strings always marshal; keep the envelope even so.
		b = []byte(`{"error":{"code":"internal","message":"Internal error."}}`)
	}
	writeBody(w, status, append(b, '\n'))
}

// WriteJSON writes v as a JSON response with status. It marshals before
// writing anything, so a value that cannot be encoded returns an error while
// the response is still untouched; errors writing to the client are ignored
// (the client has gone).
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("httpapi: encode response: %w", err)
	}
	writeBody(w, status, append(b, '\n'))
	return nil
}

// writeBody writes a JSON body with its headers.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
