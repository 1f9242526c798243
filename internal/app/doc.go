// Package app holds the use cases of Alliance. Each one authorises the actor
// from the context against the domain's role × permission table, validates its
// input, performs its change in one store transaction together with the audit
// row, and enqueues any follow-up jobs. It is the only place where access is
// decided: the JSON API, the web UI, the CLI and background jobs all call it.
package app
