package httpapi

// RoutePatterns returns the pattern of every route in the routes table, in
// its order, for the access matrix of the external tests (access_test.go).
func RoutePatterns() []string {
	out := make([]string, len(routes))
	for i, rt := range routes {
		out[i] = rt.pattern
	}
	return out
}
