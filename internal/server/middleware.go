package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"alliance"
	"alliance/internal/httpapi"
)

// RequestIDHeader carries the request id in requests (from a trusted proxy)
// and in every response.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLength bounds an incoming request id.
const maxRequestIDLength = 64

// requestID gives every request an id: the incoming X-Request-ID when it is
// short and made of [A-Za-z0-9._-] (so it is safe in logs), a new random one
// otherwise. The id is set on the response and put into the context, where
// the access log and the audit log find it.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(alliance.NewContextWithRequestID(r.Context(), id)))
	})
}

// validRequestID reports whether an incoming request id can be used as it is.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// contentSecurityPolicy allows only the node's own scripts, styles and images
// (and data: images for inline SVG), and no framing.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// permissionsPolicy turns off the browser features the node never uses.
const permissionsPolicy = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), " +
	"microphone=(), payment=(), usb=()"

// securityHeaders sets the security headers on every response. Cache-Control
// is no-store by default, for the API and pages alike; a handler that serves
// something cacheable (static files) overrides it.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", permissionsPolicy)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanic turns a panic in a handler into a 500 that shows no detail:
// the JSON error envelope under /api/, a plain page elsewhere. The panic is
// logged with its stack and the request id. When the response had already
// begun, the connection is aborted instead, so that the client does not take
// a truncated response for a whole one.
func (s *Server) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw, ok := w.(*responseWriter)
		if !ok {
			rw = &responseWriter{ResponseWriter: w}
		}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			ctx := r.Context()
			s.log.ErrorContext(ctx, "server: panic serving request",
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()),
				"request_id", alliance.RequestIDFromContext(ctx), "method", r.Method, "path", r.URL.Path)
			if rw.wroteHeader {
				panic(http.ErrAbortHandler)
			}
			if isAPIPath(r.URL.Path) {
				httpapi.WriteError(rw, errors.New("panic"))
				return
			}
			http.Error(rw, "Internal error.", http.StatusInternalServerError)
		}()
		next.ServeHTTP(rw, r)
	})
}

// isAPIPath reports whether path belongs to the JSON API.
func isAPIPath(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/")
}

// observe writes the access log line and the HTTP metrics of each request.
// The route is r.Pattern, which the muxes set on this very request while
// routing it, so it is read after the request is done. The path is logged
// without its query string, which may carry personal data.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &responseWriter{ResponseWriter: w}
		completed := false
		defer func() {
			// Deferred so that an aborted request (a re-raised panic) is
			// still counted and logged; status 0 means nothing was sent.
			d := time.Since(start)
			status := rw.status
			if status == 0 && completed {
				status = http.StatusOK // the handler wrote nothing: an empty 200
			}
			route := routeLabel(r.Pattern)
			s.metrics.observe(r.Method, route, status, d)
			level := slog.LevelInfo
			if status >= 500 || !completed {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Int64("bytes", rw.bytes),
				slog.Duration("duration", d),
				slog.String("request_id", alliance.RequestIDFromContext(r.Context())),
			}
			if !completed {
				attrs = append(attrs, slog.Bool("aborted", true))
			}
			s.log.LogAttrs(r.Context(), level, "http request", attrs...)
		}()
		next.ServeHTTP(rw, r)
		completed = true
	})
}

// routeLabel turns a ServeMux pattern into the route label: the pattern
// without its method ("/api/v1/me"), or "unmatched" when nothing matched.
// Patterns are few and fixed, so the label cannot explode the metrics.
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return strings.TrimLeft(pattern[i+1:], " \t")
	}
	return pattern
}

// responseWriter records the status and size of a response.
type responseWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

// WriteHeader records the status of the response.
func (w *responseWriter) WriteHeader(status int) {
	if !w.wroteHeader && status >= 200 {
		w.status = status
		w.wroteHeader = true
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write records the size of the response.
func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap gives http.ResponseController the underlying writer (Flush,
// deadlines, Hijack).
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
