package app_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestReporterData covers reporters' personal data: the contact is kept
// for the configured retention and then purged (audited); before that an
// administrator of the node can export what is held about an e-mail and
// erase it, without the e-mail reaching the audit log.
func TestReporterData(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{ContactRetention: 48 * time.Hour})
		admin := testutil.CreateUser(t, db, "SE-HOTLINE", "admin@se.example.org", alliance.RoleAdmin)
		nlAdmin := testutil.CreateUser(t, db, "NL-HOTLINE", "admin@nl.example.org", alliance.RoleAdmin)
		const email = "Reporter@Example.org"
		for i, u := range []string{"https://a.example.com/1", "https://b.example.com/2"} {
			if _, err := e.app.SubmitReport(t.Context(), app.ReportInput{URLs: []string{u}, ReporterEmail: email,
				Client: fmt.Sprintf("198.51.100.%d", i+1)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.app.SubmitReport(t.Context(), app.ReportInput{URLs: []string{"https://c.example.com/3"},
			ReporterEmail: "other@example.org", Client: "198.51.100.9"}); err != nil {
			t.Fatal(err)
		}

		d, err := e.app.ReporterData(as(t, admin), "reporter@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Reports) != 2 || !slices.Equal(d.Reports[1].URLs, []string{"https://b.example.com/2"}) ||
			!d.Reports[0].PurgeAfter.Equal(testutil.Epoch.Add(48*time.Hour)) {
			t.Errorf("export: %+v", d)
		}
		for _, who := range []alliance.User{e.se, nlAdmin} {
			if _, err := e.app.ReporterData(as(t, who), email); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
				t.Errorf("%s exporting reporter data: %v", who.Email, err)
			}
		}
		if _, err := e.app.ReporterData(as(t, admin), "not an e-mail"); alliance.ErrorField(err) != "email" {
			t.Errorf("a bad e-mail: %v", err)
		}

		n, err := e.app.EraseReporter(as(t, admin), email)
		if err != nil || n != 2 {
			t.Fatalf("erase: %d %v", n, err)
		}
		if d, _ := e.app.ReporterData(as(t, admin), email); len(d.Reports) != 0 {
			t.Errorf("after erasure: %+v", d)
		}

		// The other contact goes after the retention, not before.
		e.clock.Advance(47 * time.Hour)
		if err := e.app.Housekeeping(t.Context()); err != nil {
			t.Fatal(err)
		}
		if d, _ := e.app.ReporterData(as(t, admin), "other@example.org"); len(d.Reports) != 1 {
			t.Errorf("purged before the retention: %+v", d)
		}
		e.clock.Advance(2 * time.Hour)
		if err := e.app.Housekeeping(t.Context()); err != nil {
			t.Fatal(err)
		}
		if d, _ := e.app.ReporterData(as(t, admin), "other@example.org"); len(d.Reports) != 0 {
			t.Errorf("kept after the retention: %+v", d)
		}
		actions := strings.Join(auditActions(t, db), "\n")
		for _, want := range []string{"admin@se.example.org contact.export", "admin@se.example.org contact.erase", "system contact.purge"} {
			if !strings.Contains(actions, want) {
				t.Errorf("no %s in the audit log: %v", want, actions)
			}
		}
		err = db.InReadTx(t.Context(), func(tx *store.Tx) error {
			evs, err := tx.AuditEvents(t.Context(), "", 0, 1000)
			for _, ev := range evs {
				if s := strings.ToLower(ev.ActorLabel + ev.ObjectType + ev.ObjectID); strings.Contains(s, "reporter@example.org") || strings.Contains(s, "other@example.org") {
					t.Errorf("the audit log holds a reporter's e-mail: %+v", ev)
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
