package web

// PagePatterns returns the pattern of every route of the UI, for the access
// matrix of the external tests (access_test.go): the pages of pageRoutes,
// then the static files, which New serves before the session middleware.
func PagePatterns() []string {
	var h handler
	var out []string
	for _, p := range h.pageRoutes() {
		out = append(out, p.pattern)
	}
	return append(out, "GET /static/")
}

// CSRFToken is the form token for purpose derived from a session's (or the
// anonymous forms' cookie's) CSRF secret, as the pages put it in their forms.
func CSRFToken(secret, purpose string) string { return csrfToken(secret, purpose) }

// LoginCSRFCookie is the anonymous forms' cookie without secure cookies.
const LoginCSRFCookie = insecureLoginCSRF

// The CSRF purposes of the forms.
const (
	PurposeLogin     = purposeLogin
	PurposeLogout    = purposeLogout
	PurposeReport    = purposeReport
	PurposeRetrace   = purposeRetrace
	PurposeSeries    = purposeSeries
	PurposeReporting = purposeReporting
	PurposeUsers     = purposeUsers
	PurposeAccount   = purposeAccount
)
