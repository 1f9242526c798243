package app_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
	"alliance/pdq"
)

// csvSource is a tiny "algorithm,value,category,series" reader for the tests
// (the real importers live in internal/bankfile).
type csvSource struct {
	lines []string
	n     int
}

func newCSV(lines ...string) *csvSource { return &csvSource{lines: lines} }

func (s *csvSource) Next() (alliance.HashEntry, error) {
	if s.n >= len(s.lines) {
		return alliance.HashEntry{}, io.EOF
	}
	f := strings.Split(s.lines[s.n], ",")
	s.n++
	for len(f) < 4 {
		f = append(f, "")
	}
	alg, err := alliance.ParseHashAlgorithm(f[0])
	if err != nil {
		return alliance.HashEntry{}, err
	}
	v, err := alg.ParseHashValue(f[1])
	if err != nil {
		return alliance.HashEntry{}, err
	}
	return alliance.HashEntry{Algorithm: alg, Value: v, Series: f[3], Source: "test",
		Classification: alliance.Classification{Scheme: "test-scheme", Category: f[2]}}, nil
}

type bankEnv struct {
	a      *app.App
	se, nl context.Context // analysts of SE-HOTLINE and NL-HOTLINE
}

func newBankEnv(t *testing.T, db *store.DB) bankEnv {
	t.Helper()
	a := newApp(t, db, testutil.NewFixedClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)))
	se := addUser(t, a, "se-analyst@example.com", "SE-HOTLINE", "analyst")
	nl := addUser(t, a, "nl-analyst@example.com", "NL-HOTLINE", "analyst")
	if err := a.Matcher().Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return bankEnv{a: a,
		se: alliance.NewContextWithActor(t.Context(), se.Actor()),
		nl: alliance.NewContextWithActor(t.Context(), nl.Actor())}
}

func (e bankEnv) bank(t *testing.T, ctx context.Context, name string, threshold *int) {
	t.Helper()
	if _, err := e.a.CreateBank(ctx, app.BankInput{Name: name, PDQThreshold: threshold}); err != nil {
		t.Fatalf("create bank %s: %v", name, err)
	}
}

func (e bankEnv) entries(t *testing.T, ctx context.Context, bank string) []alliance.HashEntry {
	t.Helper()
	var out []alliance.HashEntry
	if err := e.a.ExportEntries(ctx, bank, func(h alliance.HashEntry) error { out = append(out, h); return nil }); err != nil {
		t.Fatalf("export %s: %v", bank, err)
	}
	return out
}

func randHash(r *rand.Rand) pdq.Hash {
	var h pdq.Hash
	for i := range h {
		h[i] = byte(r.Uint32())
	}
	return h
}

func flip(r *rand.Rand, h pdq.Hash, bits int) pdq.Hash {
	for _, k := range r.Perm(256)[:bits] {
		h[k/8] ^= 1 << (k % 8)
	}
	return h
}

func pdqLine(h pdq.Hash, category string) string { return "pdq," + h.String() + "," + category + ",s1" }

func TestImportTwiceStaysOne(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newBankEnv(t, db)
		e.bank(t, e.se, "known", nil)
		r := rand.New(rand.NewPCG(1, 2))
		lines := []string{pdqLine(randHash(r), "a"), pdqLine(randHash(r), "b"),
			"md5," + strings.Repeat("AB", 16) + ",a,", "sha256," + strings.Repeat("0c", 32) + ",b,"}
		var progress []int64
		res, err := e.a.ImportEntries(e.se, "known", newCSV(lines...), func(n int64) { progress = append(progress, n) })
		if err != nil {
			t.Fatal(err)
		}
		if res != (app.ImportResult{Read: 4, Added: 4}) || len(progress) == 0 || progress[len(progress)-1] != 4 {
			t.Fatalf("first import %+v, progress %v", res, progress)
		}
		lines[0] = strings.Replace(lines[0], ",a,", ",c,", 1) // re-import updates details
		res, err = e.a.ImportEntries(e.se, "known", newCSV(append(lines, lines[1])...), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res != (app.ImportResult{Read: 5, Added: 0, Existing: 5}) {
			t.Fatalf("second import %+v", res)
		}
		got := e.entries(t, e.se, "known")
		// Ids follow the file on SQLite, the hashes on PostgreSQL (COPY).
		first := slices.IndexFunc(got, func(x alliance.HashEntry) bool {
			return strings.HasPrefix(lines[0], "pdq,"+hex.EncodeToString(x.Value)+",")
		})
		if len(got) != 4 || first < 0 || got[first].Category != "c" || !got[first].Active {
			t.Fatalf("entries after two imports: %+v", got)
		}
		banks, err := e.a.Banks(e.se)
		if err != nil || len(banks) != 1 || banks[0].Entries != 4 {
			t.Fatalf("banks %+v, %v", banks, err)
		}
	})
}

func TestImportBadRecordLeavesBank(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newBankEnv(t, db)
		e.bank(t, e.se, "known", nil)
		r := rand.New(rand.NewPCG(3, 4))
		var good []string
		for range 3 {
			good = append(good, pdqLine(randHash(r), "a"))
		}
		if _, err := e.a.ImportEntries(e.se, "known", newCSV(good...), nil); err != nil {
			t.Fatal(err)
		}
		bad := []string{pdqLine(randHash(r), "a"), pdqLine(randHash(r), "a"), pdqLine(randHash(r), "a"), good[0]}
		tests := []struct{ name, record, want string }{
			{"short hex", "pdq,abcd,a,", "Record 5"},
			{"not hex", "pdq," + strings.Repeat("zz", 32) + ",a,", "Record 5"},
			{"unknown algorithm", "crc32,abcd,a,", "Record 5"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.a.ImportEntries(e.se, "known", newCSV(append(bad, tt.record, pdqLine(randHash(r), "a"))...), nil)
				if alliance.ErrorCode(err) != alliance.EINVALID || !strings.Contains(alliance.ErrorMessage(err), tt.want) {
					t.Fatalf("err = %v (%q), want EINVALID naming %q", err, alliance.ErrorMessage(err), tt.want)
				}
				if n := len(e.entries(t, e.se, "known")); n != 3 {
					t.Fatalf("%d entries after a failed import, want 3", n)
				}
			})
		}
	})
}

// plantedEntry is a PDQ entry of a test bank, for brute-force answers.
type plantedEntry struct {
	bank      string
	bankLimit int
	h         pdq.Hash
}

func TestMatchEqualsBruteForce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newBankEnv(t, db)
		ten := 10
		e.bank(t, e.se, "wide", nil)
		e.bank(t, e.se, "narrow", &ten)
		r := rand.New(rand.NewPCG(5, 6))
		var all []plantedEntry
		var bases []pdq.Hash
		for b, bank := range []string{"wide", "narrow"} {
			limit := []int{31, 10}[b]
			var lines []string
			for i := range 200 {
				h := randHash(r)
				if i < 40 {
					bases = append(bases, h)
				}
				lines = append(lines, pdqLine(h, "a"))
				all = append(all, plantedEntry{bank, limit, h})
				if i < 40 { // near-duplicates at growing distances, some beyond 31
					n := flip(r, h, r.IntN(40))
					lines = append(lines, pdqLine(n, "b"))
					all = append(all, plantedEntry{bank, limit, n})
				}
			}
			if _, err := e.a.ImportEntries(e.se, bank, newCSV(lines...), nil); err != nil {
				t.Fatal(err)
			}
		}
		var queries []app.MatchQuery
		for i, b := range bases {
			th := []int{0, 5, 12, 31}[i%4]
			queries = append(queries, app.MatchQuery{Algorithm: "pdq", Value: flip(r, b, r.IntN(20)).String(), Threshold: &th})
		}
		queries = append(queries, app.MatchQuery{Algorithm: "PDQ", Value: strings.ToUpper(randHash(r).String())})
		res, err := e.a.Match(e.se, queries)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for i, q := range queries {
			qh, _ := pdq.ParseHash(q.Value)
			th := 31
			if q.Threshold != nil {
				th = *q.Threshold
			}
			var want, got []string
			for _, p := range all {
				if d := qh.Distance(p.h); d <= min(th, p.bankLimit) {
					want = append(want, fmt.Sprintf("%s/%s/%d", p.bank, p.h, d))
				}
			}
			for _, m := range res[i].Matches {
				got = append(got, fmt.Sprintf("%s/%s/%d", m.Bank, m.Value, m.Distance))
				if m.Category == "" || m.Scheme != "test-scheme" || m.Series != "s1" || m.Source != "test" || m.BankOrg != "SE-HOTLINE" {
					t.Errorf("match without its details: %+v", m)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("query %d (t=%d): got %v, want %v", i, th, got, want)
			}
			total += len(want)
		}
		if total < len(bases)/4 {
			t.Fatalf("only %d matches in all: the test plants too few", total)
		}
	})
}

func TestMatchFollowsChanges(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newBankEnv(t, db)
		// A second process over the same database, following by polling.
		other := newApp(t, db, testutil.NewFixedClock(time.Now()))
		if err := other.Matcher().Start(t.Context(), 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		e.bank(t, e.se, "known", nil)
		r := rand.New(rand.NewPCG(7, 8))
		h := randHash(r)
		md5 := strings.Repeat("5e", 16)
		if _, err := e.a.ImportEntries(e.se, "known", newCSV(pdqLine(h, "a"), "md5,"+md5+",a,"), nil); err != nil {
			t.Fatal(err)
		}
		queries := []app.MatchQuery{{Algorithm: "pdq", Value: flip(r, h, 3).String()}, {Algorithm: "md5", Value: md5}}
		count := func(a *app.App) int {
			res, err := a.Match(e.se, queries)
			if err != nil {
				t.Fatal(err)
			}
			return len(res[0].Matches) + len(res[1].Matches)
		}
		if n := count(e.a); n != 2 {
			t.Fatalf("writer's process: %d matches after import, want 2", n)
		}
		waitFor(t, "other process sees the import", func() bool { return count(other) == 2 })

		ids := e.entries(t, e.se, "known")
		for _, x := range ids {
			if err := e.a.SetEntryActive(e.se, "known", x.ID, false); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(e.a); n != 0 {
			t.Fatalf("%d matches right after disabling, want 0", n)
		}
		waitFor(t, "other process drops disabled entries", func() bool { return count(other) == 0 })
		if err := e.a.SetEntryActive(e.se, "", ids[0].ID, true); err != nil {
			t.Fatal(err)
		}
		if n := count(e.a); n != 1 {
			t.Fatalf("%d matches right after re-enabling one entry, want 1", n)
		}
		waitFor(t, "other process sees the re-enabled entry", func() bool { return count(other) == 1 })
		// Enabling an active entry changes nothing and records nothing.
		if err := e.a.SetEntryActive(e.se, "known", ids[0].ID, true); err != nil {
			t.Fatal(err)
		}
		var enables int
		for _, a := range auditActions(t, db) {
			if strings.HasSuffix(a, " bank.entry.enable bank_entry") {
				enables++
			}
		}
		if enables != 1 {
			t.Errorf("%d bank.entry.enable audit events, want 1", enables)
		}
		if err := e.a.SetEntryActive(e.nl, "", ids[0].ID, false); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Fatalf("other organisation disabling: %v, want not found", err)
		}
	})
}

// waitFor fails the test unless cond holds within a second.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a second", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMatchVisibility(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newBankEnv(t, db)
		e.bank(t, e.se, "known", nil)
		sha := strings.Repeat("a1", 20)
		if _, err := e.a.ImportEntries(e.se, "known", newCSV("sha1,"+sha+",a,"), nil); err != nil {
			t.Fatal(err)
		}
		q := []app.MatchQuery{{Algorithm: "sha-1", Value: sha}}
		matches := func(ctx context.Context) int {
			res, err := e.a.Match(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			return len(res[0].Matches)
		}
		if n := matches(e.nl); n != 0 {
			t.Fatalf("unshared bank: %d matches for another organisation", n)
		}
		if _, err := e.a.ImportEntries(e.nl, "known", newCSV("sha1,"+sha+",a,"), nil); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Fatalf("import into another organisation's bank: %v", err)
		}
		if err := e.a.ShareBank(e.nl, "known", "NL-HOTLINE"); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Fatalf("share by non-owner: %v", err)
		}
		if err := e.a.ShareBank(e.se, "known", "NL-HOTLINE"); err != nil {
			t.Fatal(err)
		}
		if n := matches(e.nl); n != 1 {
			t.Fatalf("shared bank: %d matches, want 1", n)
		}
		banks, err := e.a.Banks(e.nl)
		if err != nil || len(banks) != 1 || !slices.Equal(banks[0].SharedWith, []string{"NL-HOTLINE"}) {
			t.Fatalf("banks visible to NL: %+v, %v", banks, err)
		}
		sec := alliance.NewContextWithActor(t.Context(), alliance.Actor{UserID: 99, OrgCode: alliance.SecretariatCode, Role: alliance.RoleSecretariat})
		if _, err := e.a.Match(sec, q); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Fatalf("secretariat matching: %v, want forbidden", err)
		}
	})
}

func TestMatchValidation(t *testing.T) {
	db := testutil.NewSQLite(t)
	e := newBankEnv(t, db)
	big := 32
	tests := []struct {
		name  string
		q     []app.MatchQuery
		field string
	}{
		{"none", nil, "hashes"},
		{"too many", make([]app.MatchQuery, app.MaxMatchQueries+1), "hashes"},
		{"unknown algorithm", []app.MatchQuery{{Algorithm: "pdq", Value: strings.Repeat("0", 64)}, {Algorithm: "crc", Value: "00"}}, "hashes[1].algorithm"},
		{"short value", []app.MatchQuery{{Algorithm: "pdq", Value: "abc"}}, "hashes[0].value"},
		{"not hex", []app.MatchQuery{{Algorithm: "md5", Value: strings.Repeat("g", 32)}}, "hashes[0].value"},
		{"threshold", []app.MatchQuery{{Algorithm: "pdq", Value: strings.Repeat("0", 64), Threshold: &big}}, "hashes[0].threshold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.a.Match(e.se, tt.q)
			if alliance.ErrorField(err) != tt.field {
				t.Fatalf("err = %v (field %q), want field %q", err, alliance.ErrorField(err), tt.field)
			}
		})
	}
}
