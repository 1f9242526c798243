package app_test

import (
	"encoding/binary"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/testutil"
)

// fedEntries yields n distinct SHA-256 entries, generated.
type fedEntries struct{ i, n int }

func (g *fedEntries) Next() (alliance.HashEntry, error) {
	if g.i >= g.n {
		return alliance.HashEntry{}, io.EOF
	}
	v := make([]byte, 32)
	binary.BigEndian.PutUint64(v, uint64(g.i)+1)
	binary.BigEndian.PutUint64(v[8:], 0x616c6c69616e6365)
	g.i++
	return alliance.HashEntry{Algorithm: alliance.HashSHA256, Value: v, Source: "bench"}, nil
}

// BenchmarkFederationReplicate measures how long a peer takes to pull a
// shared bank of N entries (ALLIANCE_BENCH_FED_N, default 100,000) from
// another node, both on SQLite in one process, over loopback HTTP with
// signed requests and signed objects. The goal is 1M in 30 s.
func BenchmarkFederationReplicate(b *testing.B) {
	n := 100_000
	if s := os.Getenv("ALLIANCE_BENCH_FED_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for range b.N {
		b.StopTimer()
		se, nl := newNode(b, testutil.NewSQLite(b), "SE-HOTLINE"), newNode(b, testutil.NewSQLite(b), "NL-HOTLINE")
		owner := alliance.NewContextWithActor(b.Context(), alliance.Actor{System: true, OrgCode: "SE-HOTLINE"})
		if _, err := se.app.CreateBank(owner, app.BankInput{Name: "big"}); err != nil {
			b.Fatal(err)
		}
		if _, err := se.app.ImportEntries(owner, "SE-HOTLINE/big", &fedEntries{n: n}, nil); err != nil {
			b.Fatal(err)
		}
		ctx := alliance.NewContextWithActor(b.Context(), alliance.SystemActor)
		if _, err := se.app.PutPeer(ctx, app.PeerInput{URL: nl.url, Key: nl.key, Country: "NL", Banks: []string{"SE-HOTLINE/big"}}); err != nil {
			b.Fatal(err)
		}
		if _, err := nl.app.PutPeer(ctx, app.PeerInput{URL: se.url, Key: se.key, Country: "SE"}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		objects := 0
		for {
			k, err := nl.app.PullBatch(ctx, 0)
			if err != nil {
				b.Fatal(err)
			}
			if k == 0 {
				break
			}
			objects += k
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "entries/s")
		b.ReportMetric(float64(objects), "objects")
	}
}
