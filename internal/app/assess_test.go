package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

func queueIDs(t *testing.T, a *app.App, ctx context.Context, kind app.QueueKind) []int64 {
	t.Helper()
	items, err := a.Queue(ctx, app.QueueFilter{Kind: kind})
	if err != nil {
		t.Fatalf("queue %s: %v", kind, err)
	}
	var ids []int64
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return ids
}

var illegal = app.AssessInput{Verdict: "baseline", ContentType: "image", Labels: map[string]string{"age_band": "3_to_12"}}

// TestAssessAndPolice walks an item from the analyst queue through its
// assessment to the police, who hold it and clear it, with a confirming
// and a disputing second assessment on the way; and checks who may do what.
func TestAssessAndPolice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		se, nl := as(t, e.se), as(t, e.nl)
		se2 := as(t, testutil.CreateUser(t, db, "SE-HOTLINE", "analyst2@se.example.org", alliance.RoleAnalyst))
		sePolice := as(t, testutil.CreateUser(t, db, "SE-POLICE", "police@se.example.org", alliance.RolePolice))
		nlPolice := as(t, testutil.CreateUser(t, db, "NL-POLICE", "police@nl.example.org", alliance.RolePolice))
		seAdmin := as(t, testutil.CreateUser(t, db, "SE-HOTLINE", "admin@se.example.org", alliance.RoleAdmin))
		r := e.submit(t, se, app.ReportInput{URLs: []string{"http://se.example.test/a", "http://nl.example.test/b", "http://se.example.test/c"}})
		a, b, c := r.Items[0].ID, r.Items[1].ID, r.Items[2].ID
		e.traceAll(t, e.app)

		if got := queueIDs(t, e.app, se, ""); !slices.Equal(got, []int64{a, c}) {
			t.Errorf("SE analyst queue %v, want [%d %d]", got, a, c)
		}
		if got := queueIDs(t, e.app, nl, ""); !slices.Equal(got, []int64{b}) {
			t.Errorf("NL analyst queue %v, want [%d]", got, b)
		}
		// Who may assess what.
		if _, err := e.app.Assess(se, b, illegal); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("SE assessing the item forwarded to NL: %v, want forbidden", err)
		}
		if _, err := e.app.Assess(nl, a, illegal); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("NL assessing SE's item: %v, want not found", err)
		}
		if _, err := e.app.Assess(sePolice, a, illegal); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("police assessing: %v, want forbidden", err)
		}
		bad := illegal
		bad.Labels = map[string]string{"age_band": "unknown", "industry_class": "Z9"}
		if _, err := e.app.Assess(se, a, bad); alliance.ErrorField(err) != "labels.industry_class" {
			t.Errorf("bad label: %v", err)
		}

		as1, err := e.app.Assess(se, a, illegal)
		if err != nil {
			t.Fatal(err)
		}
		if as1.Agreement != alliance.AgreementFirst || as1.Analyst != e.se.Email {
			t.Errorf("first assessment: %+v", as1)
		}
		it, err := e.app.Item(se, a)
		if err != nil {
			t.Fatal(err)
		}
		td := it.Takedown
		if td.Status != alliance.TakedownPoliceNotified || td.Police != "SE-POLICE" || td.Verdict != alliance.VerdictBaseline ||
			td.AssessedAt == nil || td.NotifiedAt == nil || td.NextAction == nil || !td.NextAction.Equal(testutil.Epoch.Add(app.DefaultPoliceGrace)) {
			t.Fatalf("after the assessment: %+v", td)
		}
		var moves []string
		for _, ev := range it.TakedownHistory {
			moves = append(moves, string(ev.From)+">"+string(ev.To))
		}
		if want := []string{">assessed", "assessed>police_notified"}; !slices.Equal(moves, want) {
			t.Errorf("history %v, want %v", moves, want)
		}
		if got := queueIDs(t, e.app, se, ""); !slices.Equal(got, []int64{c}) {
			t.Errorf("SE queue after the assessment %v, want [%d]", got, c)
		}
		if got := queueIDs(t, e.app, sePolice, ""); !slices.Equal(got, []int64{a}) {
			t.Errorf("SE police queue %v, want [%d]", got, a)
		}
		if got := queueIDs(t, e.app, nlPolice, ""); len(got) != 0 {
			t.Errorf("NL police queue %v, want empty", got)
		}
		if _, err := e.app.Item(sePolice, a); err != nil {
			t.Errorf("the notified police cannot read the item: %v", err)
		}

		// A second opinion: the same verdict confirms, another disputes.
		if as2, err := e.app.Assess(se2, a, illegal); err != nil || as2.Agreement != alliance.AgreementConfirm {
			t.Errorf("confirming assessment: %+v %v", as2, err)
		}
		if got := queueIDs(t, e.app, seAdmin, app.QueueDisputed); len(got) != 0 {
			t.Errorf("disputed queue before a dispute: %v", got)
		}
		if as3, err := e.app.Assess(se2, a, app.AssessInput{Verdict: "not_illegal"}); err != nil || as3.Agreement != alliance.AgreementDispute {
			t.Errorf("disputing assessment: %+v %v", as3, err)
		}
		if got := queueIDs(t, e.app, seAdmin, app.QueueDisputed); !slices.Equal(got, []int64{a}) {
			t.Errorf("disputed queue %v, want [%d]", got, a)
		}
		if _, err := e.app.Queue(se, app.QueueFilter{Kind: app.QueueDisputed}); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("an analyst reading the disputed queue: %v", err)
		}

		// The police hold, renew and clear.
		until := testutil.Epoch.Add(48 * time.Hour)
		if err := e.app.Hold(nlPolice, a, "not ours", until); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("other police holding: %v, want not found", err)
		}
		if err := e.app.Hold(se, a, "x", until); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("an analyst holding: %v, want forbidden", err)
		}
		if err := e.app.Hold(sePolice, a, "", until); alliance.ErrorField(err) != "reason" {
			t.Errorf("hold without a reason: %v", err)
		}
		if err := e.app.Hold(sePolice, a, "investigation 17", until); err != nil {
			t.Fatal(err)
		}
		if err := e.app.Hold(sePolice, a, "investigation 17, extended", until.Add(24*time.Hour)); err != nil {
			t.Fatalf("renewing a hold: %v", err)
		}
		it, _ = e.app.Item(sePolice, a)
		if td := it.Takedown; td.Status != alliance.TakedownPoliceHold || td.HoldUntil == nil || !td.HoldUntil.Equal(until.Add(24*time.Hour)) ||
			td.HoldReason != "investigation 17, extended" || !td.NextAction.Equal(until.Add(24*time.Hour)) {
			t.Errorf("held: %+v", td)
		}
		if err := e.app.ClearHold(sePolice, a, ""); err != nil {
			t.Fatal(err)
		}
		it, _ = e.app.Item(sePolice, a)
		if td := it.Takedown; td.Status != alliance.TakedownPoliceCleared || td.HoldUntil != nil || !td.NextAction.Equal(testutil.Epoch) {
			t.Errorf("cleared: %+v", td)
		}
		// A forbidden move names the state.
		if err := e.app.Hold(sePolice, a, "late", until); alliance.ErrorCode(err) != alliance.ECONFLICT ||
			alliance.ErrorMessage(err) != "The item is police_cleared; it cannot become police_hold." {
			t.Errorf("holding a cleared item: %v", err)
		}

		// Not illegal closes the item; it leaves the queue.
		if _, err := e.app.Assess(se, c, app.AssessInput{Verdict: "not_illegal", Note: "A test page."}); err != nil {
			t.Fatal(err)
		}
		if it, _ := e.app.Item(se, c); it.Takedown.Status != alliance.TakedownClosedNotIllegal {
			t.Errorf("not illegal: %+v", it.Takedown)
		}
		if got := queueIDs(t, e.app, se, ""); len(got) != 0 {
			t.Errorf("SE queue at the end: %v", got)
		}
		audits := auditActions(t, db)
		for _, want := range []string{"analyst@se.example.org item.assess item", "police@se.example.org item.hold item", "police@se.example.org item.clear item"} {
			if !slices.Contains(audits, want) {
				t.Errorf("no audit row %q", want)
			}
		}
	})
}
