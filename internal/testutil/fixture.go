package testutil

import (
	"testing"

	"alliance"
	"alliance/internal/store"
)

// CreateUser inserts a user of the organisation with code orgCode straight
// into the store (no audit row, no password) and returns it, failing the test
// on error. For tests that need a user to exist, not tests of creating one.
func CreateUser(t testing.TB, db *store.DB, orgCode, email string, role alliance.Role) alliance.User {
	t.Helper()
	var u alliance.User
	err := db.InTx(t.Context(), func(tx *store.Tx) error {
		org, err := tx.OrganisationByCode(t.Context(), orgCode)
		if err != nil {
			return err
		}
		u = alliance.User{Email: email, Name: email, OrgID: org.ID, Role: role}
		return tx.CreateUser(t.Context(), &u)
	})
	if err != nil {
		t.Fatalf("testutil: create user %s: %v", email, err)
	}
	return u
}
