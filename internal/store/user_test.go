package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// inTx runs fn in a transaction and fails the test on error.
func inTx(t *testing.T, db *store.DB, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := db.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func orgID(t *testing.T, db *store.DB, code string) int64 {
	t.Helper()
	var id int64
	inTx(t, db, func(tx *store.Tx) error {
		o, err := tx.OrganisationByCode(context.Background(), code)
		id = o.ID
		return err
	})
	return id
}

func TestUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clock := testutil.NewFixedClock(testutil.Epoch.Add(123)) // nanoseconds are dropped
		db.SetClock(clock.Now)
		se, no, fr := orgID(t, db, "SE-HOTLINE"), orgID(t, db, "NO-POLICE"), orgID(t, db, "FR-POLICE")

		alice := alliance.User{Email: " Alice@Example.ORG ", Name: "Alice", OrgID: se, Role: alliance.RoleAdmin,
			PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"}
		inTx(t, db, func(tx *store.Tx) error { return tx.CreateUser(ctx, &alice) })
		if alice.ID == 0 || alice.Email != "alice@example.org" || alice.OrgCode != "SE-HOTLINE" ||
			!alice.CreatedAt.Equal(testutil.Epoch) {
			t.Fatalf("created %+v", alice)
		}
		bob := alliance.User{Email: "bob@example.org", OrgID: se, Role: alliance.RoleAnalyst, Disabled: true}
		carol := alliance.User{Email: "carol@example.org", OrgID: no, Role: alliance.RolePolice}
		inTx(t, db, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, &carol); err != nil {
				return err
			}
			return tx.CreateUser(ctx, &bob)
		})

		tests := []struct {
			name  string
			email string
			code  string
		}{
			{"duplicate", "alice@example.org", alliance.ECONFLICT},
			{"duplicate in other case", "ALICE@example.org", alliance.ECONFLICT},
			{"empty", " ", alliance.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.InTx(ctx, func(tx *store.Tx) error {
					return tx.CreateUser(ctx, &alliance.User{Email: tt.email, OrgID: no, Role: alliance.RoleAnalyst})
				})
				if alliance.ErrorCode(err) != tt.code {
					t.Errorf("CreateUser(%q) = %v, want code %s", tt.email, err, tt.code)
				}
			})
		}
		t.Run("unknown organisation", func(t *testing.T) {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				return tx.CreateUser(ctx, &alliance.User{Email: "x@example.org", OrgID: 99999, Role: alliance.RoleAnalyst})
			})
			if alliance.ErrorCode(err) != alliance.EINVALID {
				t.Errorf("CreateUser with unknown org = %v, want EINVALID", err)
			}
		})

		err := db.InReadTx(ctx, func(tx *store.Tx) error {
			got, err := tx.UserByEmail(ctx, "ALICE@example.org ")
			if err != nil {
				return err
			}
			if diff := cmp.Diff(alice, got); diff != "" {
				t.Errorf("UserByEmail (-want +got):\n%s", diff)
			}
			got, err = tx.UserByID(ctx, bob.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(bob, got); diff != "" {
				t.Errorf("UserByID (-want +got):\n%s", diff)
			}
			if _, err := tx.UserByEmail(ctx, "nobody@example.org"); alliance.ErrorCode(err) != alliance.ENOTFOUND {
				t.Errorf("UserByEmail(nobody) = %v", err)
			}
			if _, err := tx.UserByID(ctx, 424242); alliance.ErrorCode(err) != alliance.ENOTFOUND {
				t.Errorf("UserByID(424242) = %v", err)
			}
			users, err := tx.UsersByOrg(ctx, se)
			if err != nil {
				return err
			}
			if diff := cmp.Diff([]alliance.User{alice, bob}, users); diff != "" {
				t.Errorf("UsersByOrg (-want +got):\n%s", diff)
			}
			if users, err := tx.UsersByOrg(ctx, fr); err != nil || len(users) != 0 {
				t.Errorf("UsersByOrg(empty org) = %v, %v", users, err)
			}
			if n, err := tx.CountUsers(ctx); err != nil || n != 3 {
				t.Errorf("CountUsers = %d, %v", n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clock := testutil.NewFixedClock(testutil.Epoch)
		db.SetClock(clock.Now)
		u := testutil.CreateUser(t, db, "SE-HOTLINE", "alice@example.org", alliance.RoleAdmin)
		sum := sha256.Sum256([]byte("secret"))
		tok := alliance.Token{UserID: u.ID, Name: "ci", Hash: sum[:]}
		inTx(t, db, func(tx *store.Tx) error { return tx.CreateToken(ctx, &tok) })
		if tok.ID == 0 || !tok.CreatedAt.Equal(testutil.Epoch) || tok.LastUsedAt != nil {
			t.Fatalf("created %+v", tok)
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateToken(ctx, &alliance.Token{UserID: u.ID, Name: "again", Hash: sum[:]})
		})
		if alliance.ErrorCode(err) != alliance.ECONFLICT {
			t.Errorf("duplicate hash: %v", err)
		}

		used := clock.Advance(time.Hour + time.Nanosecond)
		inTx(t, db, func(tx *store.Tx) error {
			if err := tx.TouchToken(ctx, tok.ID); err != nil {
				return err
			}
			if err := tx.TouchToken(ctx, 999999); alliance.ErrorCode(err) != alliance.ENOTFOUND {
				t.Errorf("TouchToken(missing) = %v", err)
			}
			got, gotUser, err := tx.TokenByHash(ctx, sum[:])
			if err != nil {
				return err
			}
			want := tok
			usedAt := used.Truncate(time.Microsecond)
			want.LastUsedAt = &usedAt
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("TokenByHash (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(u, gotUser); diff != "" {
				t.Errorf("TokenByHash user (-want +got):\n%s", diff)
			}
			other := sha256.Sum256([]byte("other"))
			if _, _, err := tx.TokenByHash(ctx, other[:]); alliance.ErrorCode(err) != alliance.ENOTFOUND {
				t.Errorf("TokenByHash(other) = %v", err)
			}
			return nil
		})
	})
}

func TestSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clock := testutil.NewFixedClock(testutil.Epoch)
		db.SetClock(clock.Now)
		u := testutil.CreateUser(t, db, "SE-HOTLINE", "alice@example.org", alliance.RoleAdmin)
		mk := func(id string, ttl time.Duration) alliance.Session {
			h := sha256.Sum256([]byte(id))
			return alliance.Session{Hash: h[:], UserID: u.ID, CSRF: "csrf-" + id, ExpiresAt: clock.Now().Add(ttl)}
		}
		short, long := mk("short", time.Minute), mk("long", 12*time.Hour+time.Nanosecond)
		inTx(t, db, func(tx *store.Tx) error {
			if err := tx.CreateSession(ctx, &short); err != nil {
				return err
			}
			return tx.CreateSession(ctx, &long)
		})
		if !short.CreatedAt.Equal(testutil.Epoch) || long.ExpiresAt.Nanosecond()%1000 != 0 {
			t.Errorf("created %+v", long)
		}
		dup := mk("short", time.Hour)
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSession(ctx, &dup) }); alliance.ErrorCode(err) != alliance.ECONFLICT {
			t.Errorf("duplicate session: %v", err)
		}

		lookup := func(s alliance.Session) error {
			return db.InReadTx(ctx, func(tx *store.Tx) error {
				got, gotUser, err := tx.SessionByHash(ctx, s.Hash)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(s, got); diff != "" {
					t.Errorf("SessionByHash (-want +got):\n%s", diff)
				}
				if gotUser.ID != u.ID || gotUser.OrgCode != "SE-HOTLINE" {
					t.Errorf("SessionByHash user = %+v", gotUser)
				}
				return nil
			})
		}
		steps := []struct {
			name        string
			at          time.Time
			short, long string // want: "" found, else the error code
		}{
			{"fresh", testutil.Epoch, "", ""},
			{"just before short expiry", testutil.Epoch.Add(time.Minute - time.Microsecond), "", ""},
			{"at short expiry", testutil.Epoch.Add(time.Minute), alliance.ENOTFOUND, ""},
			{"after long expiry", testutil.Epoch.Add(13 * time.Hour), alliance.ENOTFOUND, alliance.ENOTFOUND},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				clock.Set(st.at)
				if err := lookup(short); alliance.ErrorCode(err) != st.short {
					t.Errorf("short session: %v, want %q", err, st.short)
				}
				if err := lookup(long); alliance.ErrorCode(err) != st.long {
					t.Errorf("long session: %v, want %q", err, st.long)
				}
			})
		}

		clock.Set(testutil.Epoch.Add(time.Hour))
		inTx(t, db, func(tx *store.Tx) error {
			n, err := tx.DeleteExpiredSessions(ctx)
			if err != nil || n != 1 {
				t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
			}
			if err := tx.DeleteSession(ctx, long.Hash); err != nil {
				return err
			}
			return tx.DeleteSession(ctx, long.Hash) // missing: no error
		})
		if err := lookup(long); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("deleted session: %v", err)
		}
	})
}

func TestInTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		org := orgID(t, db, "SE-HOTLINE")
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, &alliance.User{Email: "rolled@example.org", OrgID: org, Role: alliance.RoleAnalyst}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("InTx = %v, want boom", err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Error("panic not propagated")
				}
			}()
			_ = db.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.CreateUser(ctx, &alliance.User{Email: "panic@example.org", OrgID: org, Role: alliance.RoleAnalyst}); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		err = db.InReadTx(ctx, func(tx *store.Tx) error {
			if n, err := tx.CountUsers(ctx); err != nil || n != 0 {
				t.Errorf("CountUsers after rollbacks = %d, %v", n, err)
			}
			return tx.CreateUser(ctx, &alliance.User{Email: "ro@example.org", OrgID: org, Role: alliance.RoleAnalyst})
		})
		if err == nil {
			t.Error("a write in a read-only transaction succeeded")
		}
	})
}
