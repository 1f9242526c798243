// Package server owns the root HTTP handler of an Alliance node and the
// process-level HTTP concerns around it: mounting the JSON API at /api/ and
// the web UI at /, request ids, panic recovery, the access log, Prometheus
// metrics on the node's own registry, security headers, cross-origin (CSRF)
// protection of the web UI, the /healthz, /readyz and /metrics endpoints, and
// serving with timeouts and graceful shutdown. It also builds the process
// logger (NewLogger). Nothing imports this package but cmd.
package server
