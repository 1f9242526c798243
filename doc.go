// Package alliance holds the domain of the Alliance platform: the types and
// rules that every other package shares (reports, organisations, users, roles
// and permissions, audit events, error codes) and nothing else. It imports only
// the standard library, so the domain stays independent of storage, HTTP and
// jobs; those live in internal/ and depend on this package, never the reverse.
package alliance
