package jobs

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Defaults of the fetch job, applied by New to the zero fields of Config.
const (
	DefaultFetchInterval = time.Second
	// DefaultFetchBatchSize is the items one batch fetches (32 at a time,
	// app.DefaultFetchConcurrency) before it records them in one
	// transaction.
	DefaultFetchBatchSize = 64
	DefaultFetchBudget    = 30 * time.Second
)

// FetchBatchArgs are the arguments of the periodic fetch job, which calls
// Config.FetchBatch until the backlog of routed items waiting for their
// fetch is drained. It has no fields.
type FetchBatchArgs struct{}

// Kind returns "fetch_batch".
func (FetchBatchArgs) Kind() string { return "fetch_batch" }

// InsertOpts makes the job unique while it waits or runs and tries it once,
// as the trace job: the items a failed job did not fetch are still due.
func (FetchBatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 1,
		UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	}
}

// newFetchItems returns the counter of items fetched, registered on reg when
// it is not nil (or the one registered there before).
func newFetchItems(reg prometheus.Registerer) (prometheus.Counter, error) {
	return newBatchItems(reg, "alliance_fetch_items_total",
		"Items fetched, hashed and matched by the fetch job (failed attempts included; they are retried).")
}

// Defaults of the takedown and notice jobs.
const (
	DefaultTakedownInterval = 5 * time.Second
	DefaultNoticeInterval   = 2 * time.Second
)

// TakedownBatchArgs are the arguments of the periodic takedown job, which
// calls Config.TakedownBatch (clearances after the police's grace or hold,
// first notices into the outbox, re-checks). It has no fields.
type TakedownBatchArgs struct{}

// Kind returns "takedown_batch".
func (TakedownBatchArgs) Kind() string { return "takedown_batch" }

// InsertOpts: unique and tried once, as the trace job.
func (TakedownBatchArgs) InsertOpts() river.InsertOpts { return FetchBatchArgs{}.InsertOpts() }

// NoticeBatchArgs are the arguments of the periodic notice job, which
// calls Config.NoticeBatch to deliver the outbox. It has no fields.
type NoticeBatchArgs struct{}

// Kind returns "notice_batch".
func (NoticeBatchArgs) Kind() string { return "notice_batch" }

// InsertOpts: unique and tried once, as the trace job.
func (NoticeBatchArgs) InsertOpts() river.InsertOpts { return FetchBatchArgs{}.InsertOpts() }

// newBatchItems returns a counter of a batch job's items, registered on reg
// when it is not nil (or the one registered there before).
func newBatchItems(reg prometheus.Registerer, name, help string) (prometheus.Counter, error) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	if reg == nil {
		return c, nil
	}
	return register(reg, prometheus.Counter(c))
}

// DefaultPullInterval is how often the pull job looks for peers due.
const DefaultPullInterval = time.Second

// PullBatchArgs are the arguments of the periodic pull job, which calls
// Config.PullBatch to pull peers' feeds. It has no fields.
type PullBatchArgs struct{}

// Kind returns "pull_batch".
func (PullBatchArgs) Kind() string { return "pull_batch" }

// InsertOpts: unique and tried once, as the trace job.
func (PullBatchArgs) InsertOpts() river.InsertOpts { return FetchBatchArgs{}.InsertOpts() }
