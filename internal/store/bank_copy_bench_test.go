package store_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// BenchmarkBankLoadPostgres compares, on PostgreSQL, the two ways a bank
// import writes entries: multi-row upserts (Tx.UpsertBankEntries, the path
// before COPY) and COPY into a temporary table merged by one upsert
// (ImportTx.AddBankEntries). Each loads N new PDQ entries into an empty
// bank ("new"), then the same N again ("again"), in batches of 2,000 as
// app.ImportEntries does, with the change log written as the import
// writes it, each on a fresh database. N is ALLIANCE_BENCH_IMPORT_N, default
// 200,000. Each iteration measures both ways, in alternating order; the
// figures reported are the medians, which evens out a busy machine.
//
//	ALLIANCE_BENCH_IMPORT_N=1000000 go test ./internal/store -run '^$' -bench BankLoadPostgres -benchtime 3x
func BenchmarkBankLoadPostgres(b *testing.B) {
	n := 200_000
	if s := os.Getenv("ALLIANCE_BENCH_IMPORT_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("ALLIANCE_BENCH_IMPORT_N: %v", err)
		}
	}
	const batch = 2000
	entries := func(seed uint64, from int) []alliance.HashEntry {
		r := rand.New(rand.NewPCG(seed, uint64(from)))
		out := make([]alliance.HashEntry, min(batch, n-from))
		for i := range out {
			v := make([]byte, 32)
			for j := range v {
				v[j] = byte(r.Uint32())
			}
			out[i] = alliance.HashEntry{Algorithm: alliance.HashPDQ, Value: v,
				Classification: alliance.Classification{Scheme: "bench-scheme", Category: "c1"}, Series: "s1"}
		}
		return out
	}
	// One measurement: a fresh database, then N new entries and N again.
	load := func(b *testing.B, mode string, seed uint64) (fresh, again time.Duration) {
		db := testutil.NewPostgres(b)
		ctx := b.Context()
		bank := alliance.Bank{Name: "bench"}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			se, err := tx.OrganisationByCode(ctx, "SE-HOTLINE")
			if err != nil {
				return err
			}
			bank.OwnerOrgID = se.ID
			return tx.CreateBank(ctx, &bank)
		})
		if err != nil {
			b.Fatal(err)
		}
		var took [2]time.Duration
		for pass := range took {
			start := time.Now()
			err := db.InImportTx(ctx, func(tx *store.ImportTx) error {
				if err := tx.LockBankChanges(ctx); err != nil {
					return err
				}
				maxID, err := tx.MaxBankEntryID(ctx)
				if err != nil {
					return err
				}
				for from := 0; from < n; from += batch {
					if mode == "copy" {
						err = tx.AddBankEntries(ctx, bank.ID, entries(seed, from))
					} else {
						err = tx.UpsertBankEntries(ctx, bank.ID, entries(seed, from))
					}
					if err != nil {
						return err
					}
				}
				if err := tx.FlushBankEntries(ctx); err != nil {
					return err
				}
				_, err = tx.LogNewBankEntries(ctx, bank.ID, maxID)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			took[pass] = time.Since(start)
		}
		return took[0], took[1]
	}
	b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
		times := map[string][]time.Duration{}
		for i := range b.N {
			// Alternate which way goes first, so that neither always meets
			// a checkpoint or a busy neighbour first.
			modes := []string{"upsert", "copy"}
			if i%2 == 1 {
				modes[0], modes[1] = modes[1], modes[0]
			}
			for _, mode := range modes {
				fresh, again := load(b, mode, uint64(i))
				b.Logf("%s: new %v, again %v", mode, fresh.Round(time.Millisecond), again.Round(time.Millisecond))
				times[mode+"-new"] = append(times[mode+"-new"], fresh)
				times[mode+"-again"] = append(times[mode+"-again"], again)
			}
		}
		for name, ts := range times {
			slices.Sort(ts)
			b.ReportMetric(float64(n)/ts[len(ts)/2].Seconds(), name+"-entries/s")
		}
	})
}
