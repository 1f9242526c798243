package app_test

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/federation"
	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// node is one Alliance node of a federation test: its app over its own
// database, its feed served on a local server.
type node struct {
	app  *app.App
	url  string
	key  string
	home string
}

func newNode(t testing.TB, db *store.DB, home string) *node {
	t.Helper()
	a := app.New(app.Options{DB: db, HomeOrg: home, PeerHTTP: &http.Client{Timeout: 10 * time.Second}, PullInterval: time.Millisecond,
		Tracer: newTracer(t, testHosts)})
	srv := httptest.NewServer(httpapi.NewFederation(a, nil))
	t.Cleanup(srv.Close)
	id, err := a.NodeIdentity(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Matcher().Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &node{app: a, url: srv.URL, key: federation.EncodePublicKey(id.Public()), home: home}
}

func (n *node) pull(t *testing.T) int {
	t.Helper()
	total := 0
	for range 10 {
		k, err := n.app.PullBatch(sys(t.Context()), 0)
		if err != nil {
			t.Fatalf("PullBatch: %v", err)
		}
		total += k
		if k == 0 {
			break
		}
	}
	return total
}

// TestFederationBanks replicates a shared bank from one node to another:
// entries match on the receiving node, labelled with their source, and a
// disabled entry stops matching there; an unknown node, a cursor from the
// future and a node outside the agreement get nothing.
func TestFederationBanks(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, dbA *store.DB) {
		dbB := testutil.NewSQLite(t)
		se, nl := newNode(t, dbA, "SE-HOTLINE"), newNode(t, dbB, "NL-HOTLINE")
		seOwner := alliance.NewContextWithActor(t.Context(), alliance.Actor{System: true, OrgCode: "SE-HOTLINE"})
		if _, err := se.app.CreateBank(seOwner, app.BankInput{Name: "shared"}); err != nil {
			t.Fatal(err)
		}
		if _, err := se.app.CreateBank(seOwner, app.BankInput{Name: "private"}); err != nil {
			t.Fatal(err)
		}
		sum := func(s string) []byte { h := md5.Sum([]byte(s)); return h[:] }
		entries := entrySlice{
			{Algorithm: alliance.HashMD5, Value: sum("a"), Series: "S1", Source: "hotline",
				Classification: alliance.Classification{Scheme: "test", Category: "baseline"}},
			{Algorithm: alliance.HashMD5, Value: sum("b")},
		}
		if _, err := se.app.ImportEntries(seOwner, "SE-HOTLINE/shared", &entries, nil); err != nil {
			t.Fatal(err)
		}
		private := entrySlice{{Algorithm: alliance.HashMD5, Value: sum("private")}}
		if _, err := se.app.ImportEntries(seOwner, "SE-HOTLINE/private", &private, nil); err != nil {
			t.Fatal(err)
		}

		ctx := sys(t.Context())
		if _, err := se.app.PutPeer(ctx, app.PeerInput{URL: nl.url, Key: nl.key, Country: "NL", Banks: []string{"SE-HOTLINE/shared"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := se.app.PutPeer(ctx, app.PeerInput{URL: nl.url, Key: nl.key, Country: "NL", Banks: []string{"SE-HOTLINE/none"}}); alliance.ErrorField(err) != "banks" {
			t.Errorf("a bank the node does not have: %v", err)
		}
		if _, err := se.app.PutPeer(ctx, app.PeerInput{URL: "ftp://x", Key: nl.key, Country: "NL"}); alliance.ErrorField(err) != "url" {
			t.Errorf("bad url: %v", err)
		}
		if _, err := se.app.PutPeer(ctx, app.PeerInput{URL: nl.url, Key: "ed25519:AAAA", Country: "NL"}); alliance.ErrorField(err) != "key" {
			t.Errorf("bad key: %v", err)
		}
		if _, err := nl.app.PutPeer(ctx, app.PeerInput{URL: se.url, Key: se.key, Country: "SE"}); err != nil {
			t.Fatal(err)
		}

		if n := nl.pull(t); n != 1 {
			t.Fatalf("applied %d objects, want 1", n)
		}
		if err := nl.app.Matcher().Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		nlAnalyst := as(t, testutil.CreateUser(t, dbB, "NL-HOTLINE", "analyst@nl.example.org", alliance.RoleAnalyst))
		match := func(v []byte) []app.BankMatch {
			t.Helper()
			res, err := nl.app.Match(nlAnalyst, []app.MatchQuery{{Algorithm: "md5", Value: hex.EncodeToString(v)}})
			if err != nil {
				t.Fatal(err)
			}
			return res[0].Matches
		}
		m := match(sum("a"))
		if len(m) != 1 || m[0].Bank != "peer SE SE-HOTLINE/shared" || m[0].Category != "baseline" || m[0].Series != "S1" ||
			!strings.Contains(m[0].Source, "peer SE") {
			t.Errorf("replicated entry on the peer: %+v", m)
		}
		if m := match(sum("private")); len(m) != 0 {
			t.Errorf("a bank outside the agreement replicated: %+v", m)
		}
		if n := nl.pull(t); n != 0 {
			t.Errorf("a second pull applied %d objects, want 0", n)
		}

		// A disabled entry at the origin stops matching on the peer.
		var entryID int64
		if err := se.app.ExportEntries(seOwner, "SE-HOTLINE/shared", func(e alliance.HashEntry) error {
			if hex.EncodeToString(e.Value) == hex.EncodeToString(sum("b")) {
				entryID = e.ID
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := se.app.SetEntryActive(seOwner, "SE-HOTLINE/shared", entryID, false); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the pull of the removal", func() bool { return nl.pull(t) == 1 })
		if err := nl.app.Matcher().Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		if m := match(sum("b")); len(m) != 0 {
			t.Errorf("a disabled entry still matches on the peer: %+v", m)
		}

		// A node the origin does not know gets nothing.
		stranger := newNode(t, testutil.NewSQLite(t), "DE-HOTLINE")
		if _, err := stranger.app.PutPeer(ctx, app.PeerInput{URL: se.url, Key: se.key, Country: "SE"}); err != nil {
			t.Fatal(err)
		}
		if n := stranger.pull(t); n != 0 {
			t.Errorf("an unknown node pulled %d objects", n)
		}
		peers, err := stranger.app.Peers(ctx)
		if err != nil || len(peers) != 1 || peers[0].Failures != 1 || !strings.Contains(peers[0].LastError, "403") && !strings.Contains(peers[0].LastError, "refused") && !strings.Contains(peers[0].LastError, "known peer") {
			t.Errorf("the refused pull is not recorded: %+v %v", peers, err)
		}
	})
}

// TestFederationForward forwards a report hosted in the peer's country to
// the peer's node, where its hotline receives it as an item from the
// origin's hotline; the peer's assessment flows back to the origin's item;
// pulling again applies nothing twice.
func TestFederationForward(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, dbSE *store.DB) {
		dbNL := testutil.NewSQLite(t)
		se, nl := newNode(t, dbSE, "SE-HOTLINE"), newNode(t, dbNL, "NL-HOTLINE")
		ctx := sys(t.Context())
		if _, err := se.app.PutPeer(ctx, app.PeerInput{URL: nl.url, Key: nl.key, Country: "NL"}); err != nil {
			t.Fatal(err)
		}
		if _, err := nl.app.PutPeer(ctx, app.PeerInput{URL: se.url, Key: se.key, Country: "SE"}); err != nil {
			t.Fatal(err)
		}
		seAnalyst := as(t, testutil.CreateUser(t, dbSE, "SE-HOTLINE", "analyst@se.example.org", alliance.RoleAnalyst))
		nlAnalyst := as(t, testutil.CreateUser(t, dbNL, "NL-HOTLINE", "analyst@nl.example.org", alliance.RoleAnalyst))
		res, err := se.app.SubmitReport(seAnalyst, app.ReportInput{URLs: []string{"http://nl.example.test/forwarded"}, Category: "csam",
			ReporterEmail: "reporter@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		origin := res.Report.Items[0].ID
		if _, err := se.app.TraceBatch(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if it, _ := se.app.Item(seAnalyst, origin); it.Federated.ForwardedTo == "" || it.Route == nil || it.Route.Kind != alliance.RouteForward {
			t.Fatalf("origin item not forwarded: %+v %+v", it.Federated, it.Route)
		}
		if n := nl.pull(t); n != 1 {
			t.Fatalf("NL applied %d objects, want 1", n)
		}
		if _, err := nl.app.TraceBatch(ctx, 0); err != nil {
			t.Fatal(err)
		}
		q, err := nl.app.Queue(nlAnalyst, app.QueueFilter{})
		if err != nil || len(q) != 1 || q[0].URL != "http://nl.example.test/forwarded" || q[0].Route == nil || q[0].Route.Kind != alliance.RouteNational {
			t.Fatalf("NL queue: %+v %v", q, err)
		}
		received, err := nl.app.Item(nlAnalyst, q[0].ID)
		if err != nil || received.Federated.ReceivedFrom == "" || received.Federated.RemoteItem == "" {
			t.Fatalf("received item: %+v %v", received.Federated, err)
		}
		if rep, err := nl.app.Report(nlAnalyst, received.ReportID); err != nil || rep.ReporterEmail != "" || rep.Source != alliance.SourceHotline ||
			!strings.Contains(rep.Description, "Forwarded by SE-HOTLINE") {
			t.Errorf("received report (no reporter data may travel): %+v %v", rep, err)
		}

		if _, err := nl.app.Assess(nlAnalyst, received.ID, app.AssessInput{Verdict: "not_illegal"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the status to flow back", func() bool { return se.pull(t) == 1 })
		it, err := se.app.Item(seAnalyst, origin)
		if err != nil || it.Federated.RemoteStatus != string(alliance.TakedownClosedNotIllegal) || it.Federated.RemoteOrg != "NL-HOTLINE" || it.Federated.RemoteAt == nil {
			t.Errorf("origin after the peer's assessment: %+v %v", it.Federated, err)
		}
		if n := nl.pull(t) + se.pull(t); n != 0 {
			t.Errorf("pulling again applied %d objects", n)
		}
	})
}

// TestFederationSeries shares a series' stand-down answer with a peer: the
// peer's deconfliction answer follows the owner's status, and notes never
// travel.
func TestFederationSeries(t *testing.T) {
	dbSE, dbNL := testutil.NewSQLite(t), testutil.NewSQLite(t)
	se, nl := newNode(t, dbSE, "SE-HOTLINE"), newNode(t, dbNL, "NL-HOTLINE")
	ctx := sys(t.Context())
	if _, err := se.app.PutPeer(ctx, app.PeerInput{URL: nl.url, Key: nl.key, Country: "NL"}); err != nil {
		t.Fatal(err)
	}
	if _, err := nl.app.PutPeer(ctx, app.PeerInput{URL: se.url, Key: se.key, Country: "SE"}); err != nil {
		t.Fatal(err)
	}
	police := as(t, testutil.CreateUser(t, dbSE, "SE-POLICE", "police@se.example.org", alliance.RolePolice))
	nlPolice := as(t, testutil.CreateUser(t, dbNL, "NL-POLICE", "police@nl.example.org", alliance.RolePolice))
	if _, err := se.app.CreateSeries(police, app.SeriesInput{Code: "S-SHARED", Status: "identified", DoNotDuplicate: true, Notes: "secret"}); err != nil {
		t.Fatal(err)
	}
	if n := nl.pull(t); n != 1 {
		t.Fatalf("applied %d, want 1", n)
	}
	d, err := nl.app.Deconflict(nlPolice, app.DeconflictQuery{Series: "S-SHARED"})
	if err != nil || d.Action != alliance.ActionStandDown || d.Series[0].Owner != "SE-POLICE" {
		t.Fatalf("peer's answer: %+v %v", d, err)
	}
	if s, err := nl.app.Series(nlPolice, "S-SHARED"); err != nil || s.Notes != "" {
		t.Errorf("the copy on the peer: %+v %v", s, err)
	}
	if _, err := se.app.SetSeriesStatus(police, "S-SHARED", "under_investigation", "wrong match"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the status change on the peer", func() bool { return nl.pull(t) == 1 })
	if d, _ := nl.app.Deconflict(nlPolice, app.DeconflictQuery{Series: "S-SHARED"}); d.Action != alliance.ActionCoordinate {
		t.Errorf("after the owner went back: %+v", d)
	}
}

// TestFederationRefusals checks that a cursor from the future is refused
// by the origin, and that a page holding a kind outside the receiver's
// agreement is refused whole: nothing applied, the cursor kept, the error
// recorded.
func TestFederationRefusals(t *testing.T) {
	se, nl := newNode(t, testutil.NewSQLite(t), "SE-HOTLINE"), newNode(t, testutil.NewSQLite(t), "NL-HOTLINE")
	ctx := sys(t.Context())
	owner := alliance.NewContextWithActor(t.Context(), alliance.Actor{System: true, OrgCode: "SE-HOTLINE"})
	if _, err := se.app.CreateBank(owner, app.BankInput{Name: "shared"}); err != nil {
		t.Fatal(err)
	}
	h := md5.Sum([]byte("x"))
	src := entrySlice{{Algorithm: alliance.HashMD5, Value: h[:]}}
	if _, err := se.app.ImportEntries(owner, "SE-HOTLINE/shared", &src, nil); err != nil {
		t.Fatal(err)
	}
	p, err := se.app.PutPeer(ctx, app.PeerInput{URL: nl.url, Key: nl.key, Country: "NL", Banks: []string{"SE-HOTLINE/shared"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := se.app.Feed(ctx, p.NodeID, "b999999.o0", 10); alliance.ErrorField(err) != "after" {
		t.Errorf("a cursor from the future: %v", err)
	}
	if _, err := se.app.Feed(ctx, p.NodeID, "x12", 10); alliance.ErrorField(err) != "after" {
		t.Errorf("a cursor of another shape: %v", err)
	}
	// NL takes forwarded items from SE, not banks.
	if _, err := nl.app.PutPeer(ctx, app.PeerInput{URL: se.url, Key: se.key, Country: "SE", Kinds: []string{app.KindItemForward}}); err != nil {
		t.Fatal(err)
	}
	if n := nl.pull(t); n != 0 {
		t.Errorf("applied %d objects of a kind outside the agreement", n)
	}
	peers, err := nl.app.Peers(ctx)
	if err != nil || len(peers) != 1 || peers[0].Cursor != "" || peers[0].Failures == 0 || !strings.Contains(peers[0].LastError, "not in the agreement") {
		t.Errorf("the refused page: %+v %v", peers, err)
	}
}

// TestFederationKeepsUndeliverable checks that a federated node keeps an
// item routed forward to a country whose hotline has no node peered with
// it: no-hotline, kept by the receiver, with both routes in its history.
func TestFederationKeepsUndeliverable(t *testing.T) {
	db := testutil.NewSQLite(t)
	se := newNode(t, db, "SE-HOTLINE")
	ctx := sys(t.Context())
	de, err := federation.NewIdentity("DE")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := se.app.PutPeer(ctx, app.PeerInput{URL: "https://de.example.test", Key: federation.EncodePublicKey(de.Public()), Country: "DE"}); err != nil {
		t.Fatal(err)
	}
	analyst := as(t, testutil.CreateUser(t, db, "SE-HOTLINE", "analyst@se.example.org", alliance.RoleAnalyst))
	res, err := se.app.SubmitReport(analyst, app.ReportInput{URLs: []string{"http://nl.example.test/kept"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := se.app.TraceBatch(ctx, 0); err != nil {
		t.Fatal(err)
	}
	it, err := se.app.Item(analyst, res.Report.Items[0].ID)
	if err != nil || it.Route == nil || it.Route.Kind != alliance.RouteNoHotline || it.Route.OrgCode != "SE-HOTLINE" ||
		it.Federated.ForwardedTo != "" || len(it.RouteHistory) != 2 || it.RouteHistory[0].Kind != alliance.RouteForward {
		t.Errorf("item for a country without a peered node: %+v %+v %+v %v", it.Route, it.Federated, it.RouteHistory, err)
	}
}
