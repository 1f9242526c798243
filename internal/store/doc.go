// Package store owns all SQL of Alliance: opening SQLite (ncruces, no cgo) or
// PostgreSQL (pgx) from one DSN, the embedded migrations of both dialects, the
// reference data, and the hand-written queries of every aggregate. Queries are
// written once with $n placeholders and rewritten for SQLite; driver errors are
// normalised into alliance error codes. Every write happens inside a
// transaction (DB.InTx) together with its audit row.
package store
