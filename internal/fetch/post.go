package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
)

// Limits of Post.
const (
	// MaxPostBytes caps the request body Post sends.
	MaxPostBytes = 1 << 20
	// postDiscardBytes is how much of a response body Post reads (and drops)
	// so the connection can be reused; the rest is cut off.
	postDiscardBytes = 64 << 10
)

// ErrRedirect is wrapped by Post's error when the server answers with a
// redirect: a POST is never followed, since resending a signed body to
// another address is not what the sender agreed to.
var ErrRedirect = errors.New("fetch: redirect not followed for POST")

// ErrNoAnswer is wrapped by Post's error when the request was written in
// full and no response came: the server may have acted on it.
var ErrNoAnswer = errors.New("fetch: request sent, no answer")

type beforeSendKey struct{}

// WithBeforeSend returns a context under which Post calls fn when the
// request's turn at the host has come (after the per-host slot and
// interval), just before it is sent; an error from fn abandons the request
// and Post returns it. A notice sender marks its point of no return there.
func WithBeforeSend(ctx context.Context, fn func() error) context.Context {
	return context.WithValue(ctx, beforeSendKey{}, fn)
}

// Post sends body to rawURL with the given header through the same guarded
// transport as Fetch: the SSRF guard, the timeout and the per-host
// politeness apply alike. The User-Agent is the fetcher's unless header sets
// one. It returns the status of the final response with a nil error whatever
// the status, except a 3xx, which returns the status and an error wrapping
// [ErrRedirect]. The response body is read up to a small cap and dropped.
func (f *Fetcher) Post(ctx context.Context, rawURL string, body []byte, header http.Header) (int, error) {
	if len(body) > MaxPostBytes {
		return 0, fmt.Errorf("fetch: post body of %d bytes exceeds %d: %w", len(body), MaxPostBytes, ErrTooLarge)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, fmt.Errorf("fetch: parse url: %w", err)
	}
	if err := checkScheme(u); err != nil {
		return 0, err
	}
	if u.Hostname() == "" {
		return 0, fmt.Errorf("fetch: url %q has no host", u.Redacted())
	}
	// The per-host slot as for GET, so MaxPerHost bounds POSTs too.
	h := &hold{}
	defer f.release(h)
	if err := f.acquire(ctx, h, u.Hostname()); err != nil {
		return 0, err
	}
	if err := f.wait(ctx, u.Hostname()); err != nil {
		return 0, err
	}
	if fn, _ := ctx.Value(beforeSendKey{}).(func() error); fn != nil {
		if err := fn(); err != nil {
			return 0, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("fetch: new request: %w", err)
	}
	for k, vs := range header {
		req.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", f.opts.UserAgent)
	}
	// Same transport (and so the same guarded dialer), but redirects come
	// back as responses instead of being followed.
	c := &http.Client{
		Transport:     f.client.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
	}))
	resp, err := c.Do(req)
	if err != nil {
		if wrote.Load() {
			return 0, fmt.Errorf("fetch: post %s: %w: %w", u.Redacted(), ErrNoAnswer, err)
		}
		return 0, fmt.Errorf("fetch: post %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, postDiscardBytes))
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return resp.StatusCode, fmt.Errorf("fetch: post %s: HTTP %d: %w", u.Redacted(), resp.StatusCode, ErrRedirect)
	}
	return resp.StatusCode, nil
}
