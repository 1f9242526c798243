// Package httpapi owns the /api/v1 JSON API of Alliance: the routes and their
// handlers, bearer-token authentication, the single error envelope
// ({"error":{"code","message","field"}}) with its mapping from alliance error
// codes to HTTP status codes, request-body decoding with limits, and the
// OpenAPI 3.1 document (openapi.json, embedded and served at
// /api/v1/openapi.json).
//
// The intake routes take reports (POST /api/v1/reports, anonymous or with a
// token, with Idempotency-Key) and show reports and items with their trace
// and route. Rate limits are the app's; this package turns them into 429 with
// Retry-After and keys the public's limit on the connection's address, or on
// X-Forwarded-For only behind proxies named in Options.TrustedProxies.
//
// Handlers only translate between HTTP and the use cases of internal/app,
// which decide access; they never talk to the store. Every route is one line
// of the routes table in api.go plus its entry in openapi.json; a test checks
// that the two agree.
package httpapi
