package app_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/testutil"
)

// genEntries is an EntrySource of n PDQ entries with pseudo-random values
// (the same ones for the same seed), each with a category and series.
type genEntries struct {
	r    *rand.Rand
	n, i int
}

func (g *genEntries) Next() (alliance.HashEntry, error) {
	if g.i == g.n {
		return alliance.HashEntry{}, io.EOF
	}
	g.i++
	v := make([]byte, 32)
	for j := 0; j < len(v); j += 8 {
		u := g.r.Uint64()
		for k := range 8 {
			v[j+k] = byte(u >> (8 * k))
		}
	}
	return alliance.HashEntry{Algorithm: alliance.HashPDQ, Value: v,
		Classification: alliance.Classification{Scheme: "bench-scheme", Category: "c1"}, Series: "s1"}, nil
}

// BenchmarkImportEntries measures ImportEntries on each database under test:
// "new" imports N entries into an empty bank, "again" imports the same N
// entries once more (every one already present: last_seen moves on). N is
// ALLIANCE_BENCH_IMPORT_N, default 100,000.
//
//	ALLIANCE_BENCH_IMPORT_N=1000000 go test ./internal/app -run '^$' -bench ImportEntries -benchtime 1x
func BenchmarkImportEntries(b *testing.B) {
	n := 100_000
	if s := os.Getenv("ALLIANCE_BENCH_IMPORT_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("ALLIANCE_BENCH_IMPORT_N: %v", err)
		}
	}
	for _, d := range testutil.DBs(b) {
		b.Run(fmt.Sprintf("%s/n=%d", d.Name, n), func(b *testing.B) {
			a := app.New(app.Options{DB: d.DB, HomeOrg: "SE-HOTLINE"})
			u := testutil.CreateUser(b, d.DB, "SE-HOTLINE", "bench@example.com", alliance.RoleAnalyst)
			ctx := alliance.NewContextWithActor(b.Context(), u.Actor())
			for i := range b.N {
				bank := fmt.Sprintf("bench%d", i)
				if _, err := a.CreateBank(ctx, app.BankInput{Name: bank}); err != nil {
					b.Fatal(err)
				}
				for _, pass := range []string{"new", "again"} {
					start := time.Now()
					res, err := a.ImportEntries(ctx, bank, &genEntries{r: rand.New(rand.NewPCG(uint64(i), 1)), n: n}, nil)
					if err != nil {
						b.Fatal(err)
					}
					el := time.Since(start)
					b.ReportMetric(float64(n)/el.Seconds(), pass+"-entries/s")
					b.Logf("%s: %d read, %d added in %v", pass, res.Read, res.Added, el.Round(time.Millisecond))
				}
			}
		})
	}
}
