package app

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"alliance"
	"alliance/internal/store"
	"alliance/pdq"
	"alliance/pdqindex"
)

// MaxMatchQueries is the most hashes one Match call takes.
const MaxMatchQueries = 1000

// DefaultMatchPoll is how often a started Matcher reads the change log.
const DefaultMatchPoll = 500 * time.Millisecond

// changePage is how many changes Refresh reads per query.
const changePage = 10000

// Matcher is the in-memory index of every active bank entry of the node:
// a PDQ index and exact-hash sets, keyed by entry id. Each server process
// has its own; it loads from the database once and then follows the
// bank_changes log (Refresh, or the poll Start runs). Which banks a query
// may see is decided after lookup, by App.Match.
type Matcher struct {
	db  *store.DB
	log *slog.Logger

	mu    sync.Mutex // serialises Load and Refresh
	state atomic.Pointer[matcherState]
}

// matcherState is one loaded generation of the indexes.
type matcherState struct {
	pdq  *pdqindex.Index
	sets map[alliance.HashAlgorithm]*pdqindex.HashSet
	// seq is the last change applied; changes up to overlap may already be
	// in the loaded snapshot (PostgreSQL reads the entries and the log in
	// separate snapshots), so they are applied idempotently.
	seq, overlap int64
}

func newMatcher(db *store.DB, log *slog.Logger) *Matcher {
	return &Matcher{db: db, log: log}
}

// Loaded reports whether Load has completed.
func (m *Matcher) Loaded() bool { return m.state.Load() != nil }

// Load (re)builds the indexes from every active entry in the database,
// streaming rows into them.
func (m *Matcher) Load(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	start := time.Now()
	st := &matcherState{sets: map[alliance.HashAlgorithm]*pdqindex.HashSet{}}
	var total int
	err := m.db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if st.seq, err = tx.LastBankChange(ctx); err != nil {
			return err
		}
		// One counting scan for all algorithms; then the table is read once
		// per algorithm that has entries (each scan is a full one: most of
		// the load's time at 10M).
		counts, err := tx.CountActiveEntriesByAlgorithm(ctx)
		if err != nil {
			return err
		}
		for _, alg := range alliance.HashAlgorithms {
			n := counts[alg]
			total += n
			if alg == alliance.HashPDQ {
				var ferr error
				st.pdq = pdqindex.BuildSeq(n, func(yield func(uint64, pdq.Hash) bool) {
					if n == 0 {
						return
					}
					ferr = tx.ActiveEntryValues(ctx, alg, func(id int64, v []byte) error {
						h, ok := pdqHash(v)
						if !ok {
							return fmt.Errorf("entry %d: pdq value of %d bytes", id, len(v))
						}
						if !yield(uint64(id), h) {
							return errStopWalk
						}
						return nil
					})
				})
				if ferr != nil {
					return ferr
				}
				continue
			}
			var ferr error
			set, err := pdqindex.BuildHashSet(alg.Size(), n, func(yield func(uint64, []byte) bool) {
				if n == 0 {
					return
				}
				ferr = tx.ActiveEntryValues(ctx, alg, func(id int64, v []byte) error {
					if !yield(uint64(id), v) {
						return errStopWalk
					}
					return nil
				})
			})
			if err = errors.Join(ferr, err); err != nil {
				return err
			}
			st.sets[alg] = set
		}
		st.overlap, err = tx.LastBankChange(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("app: load matcher: %w", err)
	}
	m.state.Store(st)
	m.log.InfoContext(ctx, "matcher loaded", "entries", total, "seq", st.seq, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

var errStopWalk = errors.New("stop")

func pdqHash(v []byte) (pdq.Hash, bool) {
	var h pdq.Hash
	return h, copy(h[:], v) == len(h) && len(v) == len(h)
}

// Refresh applies the changes logged since the last Load or Refresh. It
// does nothing before Load.
func (m *Matcher) Refresh(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.state.Load()
	if st == nil {
		return nil
	}
	for {
		var changes []store.BankChange
		err := m.db.InReadTx(ctx, func(tx *store.Tx) error {
			var err error
			changes, err = tx.BankChanges(ctx, st.seq, changePage)
			return err
		})
		if err != nil {
			return fmt.Errorf("app: refresh matcher: %w", err)
		}
		for _, c := range changes {
			m.apply(st, c)
			st.seq = c.Seq
		}
		if len(changes) < changePage {
			return nil
		}
	}
}

// apply applies one change. Removing before an add makes the add idempotent
// where the entry may already be in the loaded snapshot.
func (m *Matcher) apply(st *matcherState, c store.BankChange) {
	id := uint64(c.EntryID)
	if c.Algorithm == alliance.HashPDQ {
		h, ok := pdqHash(c.Value)
		if !c.Add || c.Seq <= st.overlap {
			st.pdq.Remove(id)
		}
		if c.Add && ok {
			st.pdq.Add(id, h)
		}
		return
	}
	set := st.sets[c.Algorithm]
	if set == nil {
		return
	}
	if !c.Add || c.Seq <= st.overlap {
		set.Remove(id)
	}
	if c.Add {
		if err := set.Add(id, c.Value); err != nil {
			m.log.Warn("matcher: bad entry value", "entry", c.EntryID, "err", err)
		}
	}
}

// Start loads the matcher and then refreshes it every poll interval
// (DefaultMatchPoll when zero) until ctx is done. It returns once loaded.
func (m *Matcher) Start(ctx context.Context, poll time.Duration) error {
	if err := m.Load(ctx); err != nil {
		return err
	}
	if poll <= 0 {
		poll = DefaultMatchPoll
	}
	go func() {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
					m.log.WarnContext(ctx, "matcher refresh failed", "err", err)
				}
			}
		}
	}()
	return nil
}

// lookup returns the ids and distances of the entries within threshold of
// one hash (distance 0 for exact algorithms).
func (st *matcherState) lookup(alg alliance.HashAlgorithm, value []byte, threshold int) ([]pdqindex.Match, error) {
	if alg == alliance.HashPDQ {
		h, _ := pdqHash(value)
		return st.pdq.Query(h, threshold)
	}
	set := st.sets[alg]
	if set == nil {
		return nil, nil
	}
	ids, err := set.Lookup(value)
	out := make([]pdqindex.Match, len(ids))
	for i, id := range ids {
		out[i] = pdqindex.Match{ID: id}
	}
	return out, err
}

// Matcher returns the app's matcher, for the server to Start.
func (a *App) Matcher() *Matcher { return a.matcher }

// MatchQuery is one hash to look up.
type MatchQuery struct {
	Algorithm string
	Value     string // hex
	// Threshold is the PDQ distance allowed, 0..31; nil means 31. Each
	// bank may cap it lower. Ignored for exact algorithms.
	Threshold *int
}

// MatchResult is the answer to one MatchQuery.
type MatchResult struct {
	Algorithm alliance.HashAlgorithm
	Value     string // lower-case hex
	Threshold int
	Matches   []BankMatch // by distance, then entry id
}

// BankMatch is one bank entry matching a query.
type BankMatch struct {
	EntryID  int64
	Bank     string // bank name
	BankOrg  string // code of the bank's owner
	Value    string // the entry's value, lower-case hex
	Distance int
	alliance.Classification
	Series           string
	VictimIdentified *bool
	Source           string
}

// Match looks up up to MaxMatchQueries hashes in the banks the actor's
// organisation owns or has been shared (every bank for the system actor).
// A PDQ query matches an entry within min(query threshold, bank threshold).
// Invalid input is an EINVALID error naming hashes[i].field.
func (a *App) Match(ctx context.Context, queries []MatchQuery) ([]MatchResult, error) {
	actor, err := require(ctx, alliance.PermMatch)
	if err != nil {
		return nil, err
	}
	switch {
	case len(queries) == 0:
		return nil, alliance.FieldErrorf("hashes", "At least one hash is required.")
	case len(queries) > MaxMatchQueries:
		return nil, alliance.FieldErrorf("hashes", "At most %d hashes per request, not %d.", MaxMatchQueries, len(queries))
	}
	results := make([]MatchResult, len(queries))
	values := make([][]byte, len(queries))
	for i, q := range queries {
		alg, err := alliance.ParseHashAlgorithm(q.Algorithm)
		if err != nil {
			return nil, alliance.FieldErrorf(fmt.Sprintf("hashes[%d].algorithm", i), "%s", alliance.ErrorMessage(err))
		}
		if values[i], err = alg.ParseHashValue(q.Value); err != nil {
			return nil, alliance.FieldErrorf(fmt.Sprintf("hashes[%d].value", i), "%s", alliance.ErrorMessage(err))
		}
		t := alliance.MaxPDQThreshold
		if q.Threshold != nil && alg == alliance.HashPDQ {
			if t = *q.Threshold; t < 0 || t > alliance.MaxPDQThreshold {
				return nil, alliance.FieldErrorf(fmt.Sprintf("hashes[%d].threshold", i),
					"PDQ threshold must be 0 to %d.", alliance.MaxPDQThreshold)
			}
		}
		if alg != alliance.HashPDQ {
			t = 0
		}
		results[i] = MatchResult{Algorithm: alg, Value: hex.EncodeToString(values[i]), Threshold: t}
	}
	st := a.matcher.state.Load()
	if st == nil {
		return nil, alliance.Errorf(alliance.EUNAVAILABLE, "Matching is starting up; retry shortly.")
	}
	found := make([][]pdqindex.Match, len(queries))
	var ids []int64
	for i, r := range results {
		if found[i], err = st.lookup(r.Algorithm, values[i], r.Threshold); err != nil {
			return nil, fmt.Errorf("app: match hash %d: %w", i, err)
		}
		for _, m := range found[i] {
			ids = append(ids, int64(m.ID))
		}
	}
	var (
		banks   map[int64]alliance.Bank
		entries = map[int64]alliance.HashEntry{}
	)
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if banks, err = tx.MatchableBanks(ctx, visibleTo(actor)); err != nil || len(ids) == 0 {
			return err
		}
		// Re-reading the entries drops those disabled since the index saw
		// them, so a disable takes effect here at once.
		es, err := tx.ActiveEntriesByID(ctx, ids)
		for _, e := range es {
			entries[e.ID] = e
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: match: %w", err)
	}
	for i := range results {
		results[i].Matches = resolveMatches(found[i], results[i].Algorithm, entries, banks)
	}
	return results, nil
}

// resolveMatches turns the index's answer for one hash of algorithm alg into
// bank matches: only active entries (entries, re-read since the lookup) of
// the given banks, PDQ ones within their bank's threshold, each entry once.
func resolveMatches(found []pdqindex.Match, alg alliance.HashAlgorithm, entries map[int64]alliance.HashEntry,
	banks map[int64]alliance.Bank) []BankMatch {
	var out []BankMatch
	seen := map[int64]bool{}
	for _, m := range found {
		e, ok := entries[int64(m.ID)]
		if !ok || seen[e.ID] || e.Algorithm != alg {
			continue
		}
		b, ok := banks[e.BankID]
		if !ok || (e.Algorithm == alliance.HashPDQ && m.Distance > b.PDQThreshold) {
			continue
		}
		seen[e.ID] = true
		out = append(out, BankMatch{
			EntryID: e.ID, Bank: b.Name, BankOrg: b.OwnerOrg, Value: hex.EncodeToString(e.Value),
			Distance: m.Distance, Classification: e.Classification, Series: e.Series,
			VictimIdentified: e.VictimIdentified, Source: e.Source,
		})
	}
	return out
}
