package app

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"alliance"
	"alliance/internal/fetch"
	"alliance/internal/media"
	"alliance/internal/store"
	"alliance/pdqindex"
)

// Fetching policy. Each routed item's URL is fetched once, its media hashed
// in memory (internal/media) and matched against the banks; nothing of the
// content is kept. A transient failure (DNS, refused, timeout, 5xx) is
// retried with backoff; after MaxFetchAttempts tries, or at once for a
// permanent one (4xx, blocked, too large), the item is not_accessible with
// the reason, so it is never stuck and never lost.
const (
	MaxFetchAttempts  = 5
	fetchBackoffBase  = time.Minute
	fetchBackoffMax   = 6 * time.Hour
	fetchLease        = 10 * time.Minute
	DefaultFetchBatch = 64
	MaxFetchBatch     = 1000
	// DefaultFetchConcurrency is how many items FetchBatch fetches at once.
	DefaultFetchConcurrency = 32
	// MinPDQQuality is the quality under which a medium's PDQ hash is not
	// matched: the reference advises not to trust such hashes (flat or
	// tiny images), which would otherwise match unrelated entries.
	MinPDQQuality = 50
)

// Collector fetches a URL and hashes its media in memory; *media.Collector
// is the node's.
type Collector interface {
	Collect(ctx context.Context, rawURL string) media.Result
}

// FetchBatch fetches up to limit routed items whose fetch is due, hashes
// their media in memory, matches the hashes against the banks the item's
// organisation may use, and records media, matches and the item's match
// state (alliance.DecideKnown); it returns how many items it recorded.
// limit 0 means DefaultFetchBatch; at most MaxFetchBatch.
//
// As TraceBatch, it is the node's own work (a user is refused): items are
// claimed in one short transaction, fetched outside any, and recorded in a
// second with an "item.fetch" audit row per item whose fetch ended. Without
// a Collector it does nothing; while the matcher is still loading it waits,
// so that no item is recorded unmatched.
func (a *App) FetchBatch(ctx context.Context, limit int) (int, error) {
	if alliance.ActorFromContext(ctx).UserID != 0 {
		return 0, alliance.Errorf(alliance.EFORBIDDEN, "Fetching is done by the node itself.")
	}
	if a.collector == nil {
		a.noCollectorOnce.Do(func() { a.log.WarnContext(ctx, "fetch: no collector configured; items stay unfetched") })
		return 0, nil
	}
	st := a.matcher.state.Load()
	if st == nil {
		return 0, nil
	}
	switch {
	case limit <= 0:
		limit = DefaultFetchBatch
	case limit > MaxFetchBatch:
		limit = MaxFetchBatch
	}
	ctx = alliance.NewContextWithActor(ctx, alliance.SystemActor)
	var claims []store.FetchClaim
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		claims, err = tx.ClaimFetches(ctx, limit, fetchLease)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("app: fetch batch: %w", err)
	}
	if len(claims) == 0 {
		return 0, nil
	}
	results := a.collectAll(ctx, claims)
	if err := ctx.Err(); err != nil {
		// Shutting down: the claims lapse and the items are fetched again later.
		return 0, fmt.Errorf("app: fetch batch: %w", err)
	}
	outs := make([]store.FetchOutcome, len(claims))
	for i, c := range claims {
		outs[i] = a.fetchOutcome(ctx, c, results[i])
	}
	if err := a.matchOutcomes(ctx, st, outs); err != nil {
		return 0, fmt.Errorf("app: fetch batch: %w", err)
	}
	var n int
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		applied, err := tx.RecordFetches(ctx, outs)
		if err != nil {
			return err
		}
		orgs, err := tx.Organisations(ctx)
		if err != nil {
			return err
		}
		codes := make(map[int64]string, len(orgs))
		for _, o := range orgs {
			codes[o.ID] = o.Code
		}
		var events []*alliance.AuditEvent
		for _, o := range applied {
			if o.Fetch.Status != alliance.FetchPending {
				events = append(events, auditFor(ctx, codes[o.Claim.OrgID], "item.fetch", "item",
					strconv.FormatInt(o.Claim.ItemID, 10)))
			}
		}
		n = len(applied)
		if err := tx.AppendAudits(ctx, events); err != nil {
			return err
		}
		for _, o := range applied {
			if o.Fetch.Status != alliance.FetchFetched {
				continue
			}
			if err := a.linkMatchedSeries(ctx, tx, o); err != nil {
				return err
			}
			if o.Known == alliance.KnownAll {
				if err := a.inheritAssessment(ctx, tx, o); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("app: fetch batch: %w", err)
	}
	return n, nil
}

// collectAll runs the collector over the claimed URLs, fetchConcurrency at a
// time; results are in claim order.
func (a *App) collectAll(ctx context.Context, claims []store.FetchClaim) []media.Result {
	results := make([]media.Result, len(claims))
	sem := make(chan struct{}, a.fetchConcurrency)
	var wg sync.WaitGroup
	for i, c := range claims {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return results
		}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = a.collector.Collect(ctx, c.URL)
		})
	}
	wg.Wait()
	return results
}

// fetchOutcome turns a collector's result into what is recorded: a final
// outcome, or a retry for a transient failure with attempts left.
func (a *App) fetchOutcome(ctx context.Context, c store.FetchClaim, r media.Result) store.FetchOutcome {
	f := alliance.Fetch{
		Status: alliance.FetchFetched, HTTPStatus: r.HTTPStatus, ContentType: r.ContentType,
		Page: r.Page, Truncated: r.Truncated, Attempts: c.Attempts + 1,
		// The node's clock, as for claims and retries (media keep the time
		// of their own fetch).
		FetchedAt: a.now(),
	}
	o := store.FetchOutcome{Claim: c}
	if r.Outcome != media.OutcomeFetched {
		f.Status, f.Reason = alliance.FetchNotAccessible, string(r.Failure)
		if f.Reason == "" {
			f.Reason = string(fetch.FailureError)
		}
		if r.Transient && f.Attempts < MaxFetchAttempts {
			f.Status = alliance.FetchPending
			o.RetryAt = f.FetchedAt.Add(backoff(fetchBackoffBase, fetchBackoffMax, f.Attempts))
			a.log.DebugContext(ctx, "fetch failed; will retry", "item", c.ItemID, "reason", f.Reason,
				"attempts", f.Attempts)
		}
		o.Fetch = f
		return o
	}
	o.Fetch = f
	o.Media = make([]alliance.Medium, 0, len(r.Media))
	for i, m := range r.Media {
		o.Media = append(o.Media, toMedium(c.ItemID, i, m))
	}
	return o
}

// toMedium converts a collected medium; hashes go from hex to raw bytes.
func toMedium(itemID int64, pos int, m media.Medium) alliance.Medium {
	raw := func(h string) []byte {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil
		}
		return b
	}
	return alliance.Medium{
		ItemID: itemID, Position: pos, URL: m.URL, Source: m.Source, Kind: alliance.MediumKind(m.Kind),
		Status: alliance.MediumStatus(m.Status), Failure: string(m.Failure), HTTPStatus: m.HTTPStatus,
		ContentType: m.ContentType, DeclaredType: m.DeclaredType, Size: m.Size,
		MD5: raw(m.MD5), SHA1: raw(m.SHA1), SHA256: raw(m.SHA256), PDQ: raw(m.PDQ),
		PDQQuality: m.PDQQuality, Profile: m.Profile, FetchedAt: m.FetchedAt,
	}
}

// mediumQuery is one hash of one medium to look up.
type mediumQuery struct {
	out, medium int
	alg         alliance.HashAlgorithm
	found       []pdqindex.Match
}

// matchOutcomes looks up every hash of the fetched media in the index,
// keeps the matches in banks the item's organisation owns or has been
// shared (within each bank's PDQ threshold), and decides each item's match
// state. Disabled entries are dropped by re-reading the matched entries.
func (a *App) matchOutcomes(ctx context.Context, st *matcherState, outs []store.FetchOutcome) error {
	var (
		qs  []mediumQuery
		ids []int64
	)
	for oi := range outs {
		for mi := range outs[oi].Media {
			m := &outs[oi].Media[mi]
			if m.Status != alliance.MediumHashed {
				continue
			}
			hashes := []struct {
				alg alliance.HashAlgorithm
				v   []byte
			}{{alliance.HashMD5, m.MD5}, {alliance.HashSHA1, m.SHA1}, {alliance.HashSHA256, m.SHA256}}
			if m.PDQQuality >= MinPDQQuality {
				hashes = append(hashes, struct {
					alg alliance.HashAlgorithm
					v   []byte
				}{alliance.HashPDQ, m.PDQ})
			}
			for _, h := range hashes {
				if len(h.v) != h.alg.Size() {
					continue
				}
				found, err := st.lookup(h.alg, h.v, alliance.MaxPDQThreshold)
				if err != nil {
					return fmt.Errorf("match item %d medium %d: %w", outs[oi].Claim.ItemID, mi, err)
				}
				if len(found) == 0 {
					continue
				}
				qs = append(qs, mediumQuery{out: oi, medium: mi, alg: h.alg, found: found})
				for _, f := range found {
					ids = append(ids, int64(f.ID))
				}
			}
		}
	}
	banks := map[int64]map[int64]alliance.Bank{} // by organisation
	entries := map[int64]alliance.HashEntry{}
	if len(ids) > 0 {
		err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
			for _, o := range outs {
				if _, ok := banks[o.Claim.OrgID]; ok {
					continue
				}
				bs, err := tx.MatchableBanks(ctx, o.Claim.OrgID)
				if err != nil {
					return err
				}
				banks[o.Claim.OrgID] = bs
			}
			es, err := tx.ActiveEntriesByID(ctx, ids)
			for _, e := range es {
				entries[e.ID] = e
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("match media: %w", err)
		}
	}
	for _, q := range qs {
		o := &outs[q.out]
		m := &o.Media[q.medium]
		for _, bm := range resolveMatches(q.found, q.alg, entries, banks[o.Claim.OrgID]) {
			if hasMatch(m.Matches, bm.EntryID) {
				continue
			}
			m.Matches = append(m.Matches, alliance.MediumMatch{
				EntryID: bm.EntryID, Bank: bm.Bank, BankOrg: bm.BankOrg, Algorithm: q.alg, Distance: bm.Distance,
				Classification: bm.Classification, Series: bm.Series, Source: bm.Source,
			})
		}
	}
	for i := range outs {
		o := &outs[i]
		if o.Fetch.Status != alliance.FetchFetched {
			continue
		}
		for mi := range o.Media {
			alliance.SortMediumMatches(o.Media[mi].Matches)
		}
		o.Known, o.KnownClassification = alliance.DecideKnown(o.Media)
	}
	return nil
}

func hasMatch(ms []alliance.MediumMatch, entryID int64) bool {
	for _, m := range ms {
		if m.EntryID == entryID {
			return true
		}
	}
	return false
}

// Refetch queues an item for a new fetch: its media and match state are
// replaced when the fetch is recorded. It needs PermViewReports and an item
// the actor may see; a duplicate is not fetched (its original is), which is
// EINVALID.
func (a *App) Refetch(ctx context.Context, itemID int64) error {
	actor, err := require(ctx, alliance.PermViewReports)
	if err != nil {
		return err
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		it, err := visibleItem(ctx, tx, actor, itemID)
		if err != nil {
			return err
		}
		if it.DuplicateOf != nil {
			return alliance.Errorf(alliance.EINVALID,
				"This item is a duplicate of item %d, which is fetched in its place.", *it.DuplicateOf)
		}
		if err := tx.Refetch(ctx, itemID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, it.OrgCode, "item.refetch", "item", strconv.FormatInt(itemID, 10)))
	})
	if err != nil {
		return fmt.Errorf("app: refetch item %d: %w", itemID, err)
	}
	return nil
}

// inheritAssessment assesses a known item on the node's behalf: every
// medium matched classified bank entries, so the item takes the verdict of
// the closest match's classification and never enters an analyst's queue.
// An item already assessed keeps its assessments.
func (a *App) inheritAssessment(ctx context.Context, tx *store.Tx, o store.FetchOutcome) error {
	it, err := tx.ItemByID(ctx, o.Claim.ItemID)
	if err != nil {
		return err
	}
	if it.Route == nil || it.DuplicateOf != nil || it.Takedown.Status != alliance.TakedownNone || o.KnownClassification == nil {
		return nil
	}
	org, err := tx.OrganisationByCode(ctx, it.Route.OrgCode)
	if err != nil {
		return err
	}
	var best *alliance.MediumMatch
	kind := alliance.ContentOther
	for _, m := range o.Media {
		for i := range m.Matches {
			mm := &m.Matches[i]
			if mm.Category != "" && (best == nil || mm.Distance < best.Distance) {
				best = mm
				if m.Kind == alliance.MediumImage {
					kind = alliance.ContentImage
				}
			}
		}
	}
	source := "bank match"
	if best != nil {
		source = fmt.Sprintf("bank %s/%s entry %d (%s, distance %d)", best.BankOrg, best.Bank, best.EntryID, best.Algorithm, best.Distance)
	}
	c := *o.KnownClassification
	as := alliance.Assessment{ItemID: it.ID, OrgCode: org.Code, Analyst: "system",
		Verdict: alliance.VerdictForClassification(c), ContentType: kind, Scheme: c.Scheme,
		Labels: map[string]string{"category": c.Category}, Inherited: true, Source: source}
	return a.recordAssessment(ctx, tx, it, &as, org.ID)
}
