package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// metrics is a River worker middleware that counts job attempts by kind and
// outcome and times them.
//
// An attempt is "completed" when the worker returns nil and "failed" when it
// returns an error (including river.JobCancel and its own timeout) or panics;
// a failed attempt may be retried. A snoozed attempt (river.JobSnooze) and
// one interrupted because its context was cancelled (shutdown, or
// Client.JobCancel while running) are neither; every attempt's duration is
// observed.
type metrics struct {
	river.MiddlewareDefaults

	completed *prometheus.CounterVec
	failed    *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alliance_jobs_completed_total",
			Help: "Job attempts that completed, by job kind.",
		}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alliance_jobs_failed_total",
			Help: "Job attempts that failed (error, panic, timeout or cancel), by job kind.",
		}, []string{"kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "alliance_job_duration_seconds",
			Help:    "Time spent in job workers, by job kind.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"kind"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.completed, err = register(reg, m.completed)
	if err != nil {
		return nil, err
	}
	m.failed, err = register(reg, m.failed)
	if err != nil {
		return nil, err
	}
	m.duration, err = register(reg, m.duration)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// the same description (a second Runner in the same process).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		var zero C
		return zero, err
	}
	return c, nil
}

// Work implements rivertype.WorkerMiddleware.
func (m *metrics) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	start := time.Now()
	returned := false
	defer func() {
		m.duration.WithLabelValues(job.Kind).Observe(time.Since(start).Seconds())
		var snooze *rivertype.JobSnoozeError
		switch {
		case !returned: // panicking; River recovers and records the panic
			m.failed.WithLabelValues(job.Kind).Inc()
		case err == nil:
			m.completed.WithLabelValues(job.Kind).Inc()
		case errors.As(err, &snooze):
		case errors.Is(err, context.Canceled) && ctx.Err() != nil: // interrupted
		default:
			m.failed.WithLabelValues(job.Kind).Inc()
		}
	}()
	err = doInner(ctx)
	returned = true
	return err
}

var _ rivertype.WorkerMiddleware = (*metrics)(nil)
