// Package testutil gives tests what they share: fresh, migrated databases
// (SQLite always, PostgreSQL too when ALLIANCE_TEST_POSTGRES holds a DSN), a
// fixed clock, fixtures, and a Chromium driver for end-to-end tests. Apart
// from outside test libraries it imports only the domain and the store, so
// any package's tests may use it.
package testutil
