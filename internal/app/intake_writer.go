package app

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"alliance"
	"alliance/internal/store"
)

// Group commit. A transaction per report spends its time queueing for the
// database's write lock (SQLite) or the audit chain's head row (both), not
// writing; so concurrent SubmitReport calls queue here instead, and one
// writer goroutine stores all that have queued in one transaction, each
// report with its own audit row, in a few multi-row statements. The writer
// runs while there is work and exits when the queue is empty, so an idle App
// holds no goroutine.
//
// Everything that can be wrong with a report is checked before it queues;
// a batch that fails anyway (a race with another process on PostgreSQL, an
// outage) is retried one report at a time, so one report never fails its
// batch-mates.
const (
	maxBatchReports = 500
	maxBatchItems   = 5000
	// writeTimeout bounds one batch transaction: the writer does not run
	// under any caller's context, which may end before the batch does.
	writeTimeout = 30 * time.Second
)

// submission is a validated report waiting for the writer, and its outcome.
type submission struct {
	ctx    context.Context // the submitter's: actor and request id for the audit row
	report alliance.Report
	scope  string // of the idempotency key, when there is one
	key    string
	hash   []byte

	res  SubmitResult
	err  error
	done chan struct{}
	// Set within a transaction: the stored report an idempotent retry
	// returns, or the batch-mate whose report it returns.
	replayID int64
	replayOf *submission
}

// intakeWriter queues submissions for the writers.
type intakeWriter struct {
	app     *App
	mu      sync.Mutex
	queue   []*submission
	running int // writer goroutines
	max     int // at most this many at once
}

// Writers per process. SQLite has one write lock: a second writer would
// only queue for it. On PostgreSQL a batch spends most of its time in round
// trips, and transactions overlap until they meet at the audit chain's head,
// so a few writers keep the database busy while one waits on the network.
const (
	sqliteWriters   = 1
	postgresWriters = 3
)

// submit queues s and waits for its outcome or for ctx to end. A report whose
// caller has gone may still be stored, as with any request cut short; the
// idempotency key makes the retry safe.
func (w *intakeWriter) submit(ctx context.Context, s *submission) (SubmitResult, error) {
	s.done = make(chan struct{})
	w.mu.Lock()
	w.queue = append(w.queue, s)
	if w.running < w.max && (w.running == 0 || len(w.queue) > 1) {
		w.running++
		go w.run()
	}
	w.mu.Unlock()
	select {
	case <-s.done:
		return s.res, s.err
	case <-ctx.Done():
		return SubmitResult{}, fmt.Errorf("app: submit report: %w", ctx.Err())
	}
}

// run commits batches until the queue is empty.
func (w *intakeWriter) run() {
	for {
		w.mu.Lock()
		batch := w.take()
		if len(batch) == 0 {
			w.running--
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		w.commit(batch)
	}
}

// take removes the next batch from the queue (the caller holds w.mu):
// submissions in arrival order up to the batch limits, at least one.
// Submissions whose caller has gone are dropped.
func (w *intakeWriter) take() []*submission {
	var (
		batch []*submission
		items int
		n     int
	)
	for _, s := range w.queue {
		if len(batch) > 0 && (len(batch) == maxBatchReports || items+len(s.report.Items) > maxBatchItems) {
			break
		}
		n++
		if err := s.ctx.Err(); err != nil {
			s.err = fmt.Errorf("app: submit report: %w", err)
			close(s.done)
			continue
		}
		batch = append(batch, s)
		items += len(s.report.Items)
	}
	clear(w.queue[:n])
	w.queue = w.queue[n:]
	if len(w.queue) == 0 {
		w.queue = nil // let the array go
	}
	return batch
}

// commit stores a batch, falling back to one report per transaction when
// the batch fails, and tells each submitter its outcome.
func (w *intakeWriter) commit(batch []*submission) {
	a := w.app
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	err := a.writeReports(ctx, batch)
	if err != nil && len(batch) > 1 {
		a.log.Warn("intake: batch failed; storing its reports one by one", "reports", len(batch), "err", err)
	}
	if err != nil {
		for _, s := range batch {
			if err := a.writeAlone(ctx, s); err != nil {
				s.err = err
			}
		}
	}
	for _, s := range batch {
		if s.err != nil && alliance.ErrorCode(s.err) == alliance.EINTERNAL {
			a.log.ErrorContext(s.ctx, "intake: store report failed", "err", s.err)
		}
		close(s.done)
	}
}

// writeAlone stores one report in a transaction of its own. A conflict
// (PostgreSQL: another process stored the same URL or idempotency key at
// the same moment) is retried once: the retry sees the other's row and
// makes a duplicate, or a replay, of it.
func (a *App) writeAlone(ctx context.Context, s *submission) error {
	err := a.writeReports(ctx, []*submission{s})
	if alliance.ErrorCode(err) == alliance.ECONFLICT {
		err = a.writeReports(ctx, []*submission{s})
	}
	if err != nil {
		return fmt.Errorf("app: submit report: %w", err)
	}
	return nil
}

// writeReports stores a batch in one transaction. Per-report outcomes that
// are not failures of the transaction (a reused idempotency key) are left in
// s.err; the returned error fails the whole batch.
func (a *App) writeReports(ctx context.Context, batch []*submission) error {
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		for _, s := range batch {
			s.res, s.err, s.replayID, s.replayOf = SubmitResult{}, nil, 0, nil
		}
		create, err := resolveIdempotency(ctx, tx, batch)
		if err != nil {
			return err
		}
		reports := make([]store.NewReport, len(create))
		taken := make(map[string]bool, len(create))
		for i, s := range create {
			ref := newReference()
			for taken[ref] {
				ref = newReference()
			}
			taken[ref] = true
			s.report.Reference = ref
			reports[i] = store.NewReport{Report: &s.report, ContactRetention: a.contactRetention}
			if s.key != "" {
				reports[i].Key = &store.IdempotencyKey{Scope: s.scope, Key: s.key, RequestHash: s.hash}
			}
		}
		if err := tx.CreateReports(ctx, reports); err != nil {
			return err
		}
		events := make([]*alliance.AuditEvent, len(create))
		for i, s := range create {
			events[i] = auditFor(s.ctx, s.report.OrgCode, "report.create", "report", strconv.FormatInt(s.report.ID, 10))
		}
		if err := tx.AppendAudits(ctx, events); err != nil {
			return err
		}
		for _, s := range batch {
			if s.replayID == 0 {
				continue
			}
			r, err := tx.ReportByID(ctx, s.replayID)
			if err != nil {
				return err
			}
			s.res = SubmitResult{Report: asSubmitted(r), Replayed: true}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, s := range batch {
		switch {
		case s.err != nil, s.replayID != 0:
		case s.replayOf != nil:
			s.res = SubmitResult{Report: asSubmitted(s.replayOf.report), Replayed: true}
		default:
			s.res = SubmitResult{Report: asSubmitted(s.report)}
		}
	}
	return nil
}

// resolveIdempotency sorts a batch by its idempotency keys: a key stored
// before, or earlier in the batch, with the same request makes a replay of
// that report; with another request, an ECONFLICT error in s.err. It returns
// the submissions that create a report.
func resolveIdempotency(ctx context.Context, tx *store.Tx, batch []*submission) ([]*submission, error) {
	var keys []store.IdempotencyKey
	for _, s := range batch {
		if s.key != "" {
			keys = append(keys, store.IdempotencyKey{Scope: s.scope, Key: s.key})
		}
	}
	stored, err := tx.IdempotencyKeys(ctx, keys)
	if err != nil {
		return nil, err
	}
	reused := &alliance.Error{Code: alliance.ECONFLICT, Field: idempotencyField,
		Message: "This Idempotency-Key was already used for a different report."}
	first := make(map[[2]string]*submission)
	create := make([]*submission, 0, len(batch))
	for _, s := range batch {
		if s.key == "" {
			create = append(create, s)
			continue
		}
		id := [2]string{s.scope, s.key}
		if k, ok := stored[id]; ok {
			if bytes.Equal(k.RequestHash, s.hash) {
				s.replayID = k.ReportID
			} else {
				s.err = reused
			}
			continue
		}
		if f, ok := first[id]; ok {
			if bytes.Equal(f.hash, s.hash) {
				s.replayOf = f
			} else {
				s.err = reused
			}
			continue
		}
		first[id] = s
		create = append(create, s)
	}
	return create, nil
}

// asSubmitted returns r as intake left it, for the submitter: no contact
// data, and nothing learned since (trace, route, routed status).
func asSubmitted(r alliance.Report) alliance.Report {
	r.ReporterEmail = ""
	items := make([]alliance.Item, len(r.Items))
	for i, it := range r.Items {
		it.Trace, it.Route, it.RouteHistory = nil, nil, nil
		it.Status = alliance.ItemNew
		if it.DuplicateOf != nil {
			it.Status = alliance.ItemDuplicate
		}
		items[i] = it
	}
	r.Items = items
	return r
}
