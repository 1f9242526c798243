package httpapi

import (
	"net/http"
	"strings"

	"alliance"
)

// authenticate reads the bearer token of r, if any, and returns r with the
// token's actor in its context. Without an Authorization header the request
// goes on as the anonymous actor (the use case decides whether that is
// enough). A malformed header or an unknown token is an EUNAUTHORIZED error,
// with a WWW-Authenticate challenge naming the invalid token (RFC 6750).
func (h *api) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return r, nil
	}
	token, ok := bearerToken(values)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
		return r, alliance.Errorf(alliance.EUNAUTHORIZED, `Malformed Authorization header; use "Bearer <token>".`)
	}
	actor, err := h.app.TokenActor(r.Context(), token)
	if alliance.ErrorCode(err) == alliance.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		return r, err
	} else if err != nil {
		return r, err
	}
	return r.WithContext(alliance.NewContextWithActor(r.Context(), actor)), nil
}

// bearerToken returns the token of a single "Bearer <token>" header value.
// The scheme is case-insensitive (RFC 9110); the token is one word.
func bearerToken(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}
