// Package app holds the use cases of Alliance. Each one authorises the actor
// from the context against the domain's role × permission table, validates its
// input, performs its change in one store transaction together with the audit
// row, and enqueues any follow-up jobs. It is the only place where access is
// decided: the JSON API, the web UI, the CLI and background jobs all call it.
//
// Intake is built for volume: SubmitReport validates everything up front,
// then queues the report for a group-committing writer (intake_writer.go)
// that stores concurrent reports in one transaction, each with its audit
// row; no job is enqueued per report. A periodic job calls TraceBatch, which
// claims due items, traces them outside any transaction and records traces
// and routes in batches.
package app
