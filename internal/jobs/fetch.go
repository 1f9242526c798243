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
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "alliance_fetch_items_total",
		Help: "Items fetched, hashed and matched by the fetch job (failed attempts included; they are retried).",
	})
	if reg == nil {
		return c, nil
	}
	return register(reg, prometheus.Counter(c))
}
