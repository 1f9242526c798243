package app_test

import (
	"crypto/md5"
	"slices"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/demosite"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestDeconfliction is issue 7's "done when" without a browser: a bank
// import that names series and identified victims creates the series;
// an item matching an identified, do-not-duplicate series is "stand down"
// with the owning agency; an item matching an unidentified series alerts
// the owner once (a second sighting on the same host merges); an unmatched
// item is new material and tops the queue.
func TestDeconfliction(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newFetchEnv(t, db)
		se := as(t, e.se)
		sePolice := as(t, testutil.CreateUser(t, db, "SE-POLICE", "police@se.example.org", alliance.RolePolice))
		nlPolice := as(t, testutil.CreateUser(t, db, "NL-POLICE", "police@nl.example.org", alliance.RolePolice))
		secretariat := as(t, testutil.CreateUser(t, db, "INT-SECRETARIAT", "sec@example.org", alliance.RoleSecretariat))

		md5Of := func(seed uint64) []byte { s := md5.Sum(demosite.NoisePNG(seed)); return s[:] }
		// Unclassified entries: the items stay partially known and queued,
		// so the queue's order can be seen.
		yes := true
		importEntries(t, e.app, se, "vics",
			alliance.HashEntry{Algorithm: alliance.HashMD5, Value: md5Of(31), Series: "S-IDENT", VictimIdentified: &yes},
			alliance.HashEntry{Algorithm: alliance.HashMD5, Value: md5Of(32), Series: "S-OPEN"},
			alliance.HashEntry{Algorithm: alliance.HashMD5, Value: md5Of(33), Series: "S-OPEN"})

		// The import created the series, owned by the police of the bank's country.
		ident, err := e.app.Series(sePolice, "S-IDENT")
		if err != nil {
			t.Fatal(err)
		}
		if ident.OwnerOrg != "SE-POLICE" || ident.Status != alliance.SeriesIdentified || ident.IdentifiedAt == nil {
			t.Fatalf("imported identified series: %+v", ident)
		}
		if _, err := e.app.UpdateSeries(sePolice, "S-IDENT", app.SeriesInput{DoNotDuplicate: true, Contact: "SE-POLICE victim identification desk", Notes: "case notes"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.app.UpdateSeries(nlPolice, "S-IDENT", app.SeriesInput{}); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("another agency changing the series: %v", err)
		}
		if _, err := e.app.SetSeriesStatus(sePolice, "S-IDENT", "under_investigation", ""); alliance.ErrorField(err) != "reason" {
			t.Errorf("going back without a reason: %v", err)
		}

		r := e.submit(t, se, app.ReportInput{URLs: []string{
			e.base + "/noise/31.png", e.base + "/noise/32.png", e.base + "/noise/33.png", e.base + "/noise/34.png",
		}})
		ids := []int64{r.Items[0].ID, r.Items[1].ID, r.Items[2].ID, r.Items[3].ID}
		if n := e.fetchAll(t); n != 4 {
			t.Fatalf("fetched %d", n)
		}

		// Identified and do-not-duplicate: stand down, with the owner.
		d, err := e.app.Deconflict(se, app.DeconflictQuery{ItemID: ids[0]})
		if err != nil {
			t.Fatal(err)
		}
		if d.Action != alliance.ActionStandDown || len(d.Series) != 1 || d.Series[0].Owner != "SE-POLICE" || d.Series[0].Code != "" {
			t.Errorf("analyst's answer for the identified series: %+v (analysts see the owner, not the series)", d)
		}
		if d, _ := e.app.Deconflict(sePolice, app.DeconflictQuery{Series: "S-IDENT"}); d.Action != alliance.ActionStandDown || len(d.Series) != 1 || d.Series[0].Code != "S-IDENT" {
			t.Errorf("police answer: %+v", d)
		}
		// A hash in a bank the police may not use answers nothing.
		if d, err := e.app.Deconflict(sePolice, app.DeconflictQuery{Algorithm: "md5", Hash: hexString(md5Of(31))}); err != nil || d.Action != alliance.ActionNewMaterial {
			t.Errorf("police asking about a hash of another organisation's private bank: %+v %v", d, err)
		}
		// Unidentified: coordinate; the owner got one alert for two sightings on the host.
		if d, _ := e.app.Deconflict(se, app.DeconflictQuery{ItemID: ids[1]}); d.Action != alliance.ActionCoordinate {
			t.Errorf("answer for the open series: %+v", d)
		}
		alerts, err := e.app.Alerts(sePolice, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(alerts) != 1 || alerts[0].SeriesCode != "S-OPEN" || alerts[0].Count != 2 || alerts[0].Host != "site.example.test" || alerts[0].Read {
			t.Errorf("alerts: %+v", alerts)
		}
		if a, _ := e.app.Alerts(nlPolice, 0); len(a) != 0 {
			t.Errorf("NL police got alerts: %+v", a)
		}
		if err := e.app.MarkAlertRead(nlPolice, alerts[0].ID); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("another agency marking the alert: %v", err)
		}
		if err := e.app.MarkAlertRead(sePolice, alerts[0].ID); err != nil {
			t.Fatal(err)
		}
		// Unmatched: new material, first in the queue; identified last.
		if d, _ := e.app.Deconflict(se, app.DeconflictQuery{ItemID: ids[3]}); d.Action != alliance.ActionNewMaterial || len(d.Series) != 0 {
			t.Errorf("answer for new material: %+v", d)
		}
		if got := queueIDs(t, e.app, se, ""); !slices.Equal(got, []int64{ids[3], ids[1], ids[2], ids[0]}) {
			t.Errorf("queue %v, want new material, then the open series, then the identified one: %v", got, []int64{ids[3], ids[1], ids[2], ids[0]})
		}
		// The queue is read class by class: a short page stops inside a class.
		for n := 1; n <= 4; n++ {
			page, err := e.app.Queue(se, app.QueueFilter{Limit: n})
			var got []int64
			for _, it := range page {
				got = append(got, it.ID)
			}
			if want := []int64{ids[3], ids[1], ids[2], ids[0]}[:n]; err != nil || !slices.Equal(got, want) {
				t.Errorf("queue page of %d: %v %v, want %v", n, got, err, want)
			}
		}

		// By hash and by series, and the errors.
		if d, err := e.app.Deconflict(se, app.DeconflictQuery{Algorithm: "md5", Hash: hexString(md5Of(31))}); err != nil || d.Action != alliance.ActionStandDown {
			t.Errorf("by hash: %+v %v", d, err)
		}
		if d, err := e.app.Deconflict(secretariat, app.DeconflictQuery{Series: "S-OPEN"}); err != nil || d.Action != alliance.ActionCoordinate || d.Series[0].Code != "S-OPEN" {
			t.Errorf("by series: %+v %v", d, err)
		}
		if _, err := e.app.Deconflict(se, app.DeconflictQuery{Series: "S-NONE"}); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("unknown series: %v", err)
		}
		if _, err := e.app.Deconflict(se, app.DeconflictQuery{ItemID: ids[0], Series: "S-OPEN"}); alliance.ErrorCode(err) != alliance.EINVALID {
			t.Errorf("two questions at once: %v", err)
		}
		if s, err := e.app.Series(secretariat, "S-IDENT"); err != nil || s.Notes != "" || !s.DoNotDuplicate {
			t.Errorf("the secretariat's view (no notes): %+v %v", s, err)
		}
		if _, err := e.app.Series(se, "S-IDENT"); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("an analyst reading a series: %v", err)
		}

		// Linking by hand needs a reason, and alerts like a match. The
		// police see the item once they are notified of it.
		if err := e.app.LinkItem(sePolice, ids[3], "S-OPEN", "x"); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("police linking an item they were not notified of: %v", err)
		}
		if _, err := e.app.Assess(se, ids[3], illegal); err != nil {
			t.Fatal(err)
		}
		if err := e.app.LinkItem(sePolice, ids[3], "S-OPEN", ""); alliance.ErrorField(err) != "reason" {
			t.Errorf("link without reason: %v", err)
		}
		if err := e.app.LinkItem(sePolice, ids[3], "S-NONE", "seen before"); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("link to an unknown series: %v", err)
		}
		e.clock.Advance(alliance.AlertWindow + time.Hour) // a new alert, not merged
		if err := e.app.LinkItem(sePolice, ids[3], "S-OPEN", "same background as the series"); err != nil {
			t.Fatal(err)
		}
		if a, _ := e.app.Alerts(sePolice, 0); len(a) != 2 || a[0].ItemID != ids[3] {
			t.Errorf("alerts after the link by hand: %+v", a)
		}
		if err := e.app.UnlinkItem(sePolice, ids[3], "S-OPEN", "not the same"); err != nil {
			t.Fatal(err)
		}
		if d, _ := e.app.Deconflict(se, app.DeconflictQuery{ItemID: ids[3]}); d.Action != alliance.ActionNewMaterial {
			t.Errorf("after unlinking: %+v", d)
		}
	})
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
