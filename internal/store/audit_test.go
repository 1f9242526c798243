package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// appendEvents appends n audit events, alternating between two organisations,
// one transaction each, and returns them as appended.
func appendEvents(t *testing.T, db *store.DB, n int) []alliance.AuditEvent {
	t.Helper()
	var out []alliance.AuditEvent
	for i := range n {
		e := alliance.AuditEvent{
			ActorID: int64(i + 1), ActorLabel: fmt.Sprintf("user%d@example.org", i+1),
			OrgCode: []string{"SE-HOTLINE", "NO-POLICE"}[i%2], Action: "user.create",
			ObjectType: "user", ObjectID: fmt.Sprint(100 + i), RequestID: fmt.Sprintf("req-%d", i),
		}
		inTx(t, db, func(tx *store.Tx) error { return tx.AppendAudit(context.Background(), &e) })
		out = append(out, e)
	}
	return out
}

func verify(t *testing.T, db *store.DB) alliance.AuditVerification {
	t.Helper()
	v, err := db.VerifyAudit(context.Background())
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	return v
}

func TestAuditAppendAndList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		if v := verify(t, db); !v.OK || v.Rows != 0 || v.HeadHash != alliance.GenesisHash {
			t.Errorf("empty chain: %+v", v)
		}
		clock := testutil.NewFixedClock(testutil.Epoch.Add(999)) // nanoseconds are dropped
		db.SetClock(clock.Now)
		evs := appendEvents(t, db, 5)
		for i, e := range evs {
			if e.Seq != int64(i+1) || !e.Time.Equal(testutil.Epoch) || e.Hash != e.ComputeHash() {
				t.Errorf("event %d = %+v", i, e)
			}
			prev := alliance.GenesisHash
			if i > 0 {
				prev = evs[i-1].Hash
			}
			if e.PrevHash != prev {
				t.Errorf("event %d links to %s, want %s", i, e.PrevHash, prev)
			}
		}
		if v := verify(t, db); !v.OK || v.Rows != 5 || v.HeadHash != evs[4].Hash {
			t.Errorf("VerifyAudit = %+v", v)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.AppendAudit(ctx, &alliance.AuditEvent{}) }); err == nil {
			t.Error("an event without action was appended")
		}

		tests := []struct {
			name  string
			org   string
			after int64
			limit int
			want  []alliance.AuditEvent
		}{
			{"all", "", 0, 0, evs},
			{"after", "", 2, 10, evs[2:]},
			{"limit", "", 1, 2, evs[1:3]},
			{"org", "SE-HOTLINE", 0, 10, []alliance.AuditEvent{evs[0], evs[2], evs[4]}},
			{"org after", "NO-POLICE", 2, 10, []alliance.AuditEvent{evs[3]}},
			{"unknown org", "XX-NONE", 0, 10, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.InReadTx(ctx, func(tx *store.Tx) error {
					got, err := tx.AuditEvents(ctx, tt.org, tt.after, tt.limit)
					if err != nil {
						return err
					}
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("AuditEvents (-want +got):\n%s", diff)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			})
		}
		// Newest first, without reading the rest of the log.
		recent := []struct {
			org   string
			limit int
			want  []alliance.AuditEvent
		}{
			{"", 2, []alliance.AuditEvent{evs[4], evs[3]}},
			{"SE-HOTLINE", 2, []alliance.AuditEvent{evs[4], evs[2]}},
			{"NO-POLICE", 10, []alliance.AuditEvent{evs[3], evs[1]}},
			{"XX-NONE", 10, nil},
		}
		for _, tt := range recent {
			err := db.InReadTx(ctx, func(tx *store.Tx) error {
				got, err := tx.RecentAuditEvents(ctx, tt.org, tt.limit)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("RecentAuditEvents(%q, %d) (-want +got):\n%s", tt.org, tt.limit, diff)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestAuditTamper(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		stmts    []string
		brokenAt int64
	}{
		{"edit action", []string{`UPDATE audit_events SET action = 'x' WHERE seq = 3`}, 3},
		{"edit time", []string{`UPDATE audit_events SET occurred_at = (SELECT occurred_at FROM audit_events WHERE seq = 1) WHERE seq = 3`}, 3},
		{"edit hash", []string{`UPDATE audit_events SET hash = 'ff' WHERE seq = 3`}, 3},
		{"delete middle row", []string{`DELETE FROM audit_events WHERE seq = 3`}, 4},
		{"delete first row", []string{`DELETE FROM audit_events WHERE seq = 1`}, 2},
		{"delete last row", []string{`DELETE FROM audit_events WHERE seq = 5`}, 5},
		{"delete all rows", []string{`DELETE FROM audit_events`}, 1},
		{"swap rows 2 and 3", []string{
			`UPDATE audit_events SET seq = 1000 WHERE seq = 2`,
			`UPDATE audit_events SET seq = 2 WHERE seq = 3`,
			`UPDATE audit_events SET seq = 3 WHERE seq = 1000`,
		}, 2},
		{"row beyond the head", []string{
			`INSERT INTO audit_events (seq, occurred_at, actor_id, actor_label, org_code, action, object_type, object_id, request_id, prev_hash, hash)
			 SELECT 6, occurred_at, actor_id, actor_label, org_code, action, object_type, object_id, request_id, hash, hash
			 FROM audit_events WHERE seq = 5`,
		}, 6},
		{"head moved", []string{`UPDATE audit_head SET hash = 'ff'`}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
				appendEvents(t, db, 5)
				if v := verify(t, db); !v.OK {
					t.Fatalf("before tampering: %+v", v)
				}
				for _, s := range tt.stmts {
					if _, err := db.ExecRaw(context.Background(), s); err != nil {
						t.Fatalf("%s: %v", s, err)
					}
				}
				v := verify(t, db)
				if v.OK || v.BrokenAt != tt.brokenAt || v.Reason == "" || v.HeadHash != "" {
					t.Errorf("VerifyAudit = %+v, want broken at %d", v, tt.brokenAt)
				}
			})
		})
	}
}

// TestAuditConcurrent appends from several goroutines at once: the head
// serialises them, so the chain neither forks nor skips.
func TestAuditConcurrent(t *testing.T) {
	t.Parallel()
	const workers, each = 6, 20
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					err := db.InTx(ctx, func(tx *store.Tx) error {
						e := alliance.AuditEvent{ActorLabel: "system", Action: "test.concurrent",
							ObjectID: fmt.Sprintf("%d/%d", w, i)}
						return tx.AppendAudit(ctx, &e)
					})
					if err != nil {
						errs <- err
					}
				}
			})
		}
		// A verification running beside the writers sees a consistent snapshot.
		wg.Go(func() {
			for range 5 {
				v, err := db.VerifyAudit(ctx)
				if err != nil {
					errs <- err
				} else if !v.OK {
					errs <- fmt.Errorf("concurrent VerifyAudit: %+v", v)
				}
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if v := verify(t, db); !v.OK || v.Rows != workers*each {
			t.Errorf("VerifyAudit = %+v, want %d rows", v, workers*each)
		}
	})
}

// TestVerifyAuditPages crosses VerifyAudit's page size.
func TestVerifyAuditPages(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("slow")
	}
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		const n = 2100
		inTx(t, db, func(tx *store.Tx) error {
			for i := range n {
				if err := tx.AppendAudit(ctx, &alliance.AuditEvent{ActorLabel: "system", Action: "test.page",
					ObjectID: fmt.Sprint(i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if v := verify(t, db); !v.OK || v.Rows != n {
			t.Errorf("VerifyAudit = %+v", v)
		}
		if _, err := db.ExecRaw(ctx, `UPDATE audit_events SET object_id = 'x' WHERE seq = $1`, 2001); err != nil {
			t.Fatal(err)
		}
		if v := verify(t, db); v.OK || v.BrokenAt != 2001 || v.Rows != 2001 {
			t.Errorf("VerifyAudit after tampering = %+v", v)
		}
	})
}
