package app

import (
	"context"
	"fmt"
	"time"

	"alliance/internal/store"
)

// A process that runs batch jobs beats its heart every
// WorkerHeartbeatInterval; one whose last beat is older than
// workerStaleAfter is taken for dead, and the work it had claimed and not
// finished is made due again (store.ReleaseDeadClaims) instead of waiting
// for its lease (5 to 10 minutes).
const (
	WorkerHeartbeatInterval = 2 * time.Second
	workerStaleAfter        = 5 * WorkerHeartbeatInterval
)

// WorkerHeartbeat records that this process is alive and releases the
// claims of processes that are not. Returns the rows made due again and
// the processes taken for dead.
func (a *App) WorkerHeartbeat(ctx context.Context) (int64, []string, error) {
	return a.heartbeat(ctx, false)
}

// StartWorker is the heartbeat of a process about to start its jobs. On
// SQLite, whose node runs its jobs in one process, every other worker is
// one that stopped: their claims are released at once rather than when
// their heartbeats go stale (as the job runner does with River's state).
func (a *App) StartWorker(ctx context.Context) (int64, []string, error) {
	return a.heartbeat(ctx, a.db.Dialect() == store.SQLite)
}

func (a *App) heartbeat(ctx context.Context, othersDead bool) (int64, []string, error) {
	var (
		n    int64
		dead []string
	)
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.Heartbeat(ctx); err != nil {
			return err
		}
		staleBefore := tx.Now().Add(-workerStaleAfter)
		if othersDead {
			// Later than every other worker's heartbeat; this one's own is
			// never released here.
			staleBefore = tx.Now().Add(time.Hour)
		}
		var err error
		n, dead, err = tx.ReleaseDeadClaims(ctx, staleBefore, false)
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("app: worker heartbeat: %w", err)
	}
	if n > 0 || len(dead) > 0 {
		a.log.InfoContext(ctx, "released work claimed by stopped processes", "rows", n, "processes", dead)
	}
	return n, dead, nil
}

// WorkerID names this process among those that run jobs on the database.
func (a *App) WorkerID() string { return a.db.WorkerID() }

// ReleaseOwnClaims makes due again the work this process claimed and did
// not finish, once its jobs have stopped, so that a restart or another
// process takes it up at once; with it, that of dead processes, which it
// returns as WorkerHeartbeat does.
func (a *App) ReleaseOwnClaims(ctx context.Context) (int64, []string, error) {
	var (
		n    int64
		dead []string
	)
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, dead, err = tx.ReleaseDeadClaims(ctx, tx.Now().Add(-workerStaleAfter), true)
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("app: release own claims: %w", err)
	}
	return n, dead, nil
}

// RunWorkerHeartbeat beats every WorkerHeartbeatInterval until ctx ends,
// handing the processes it takes for dead to onDead (the job queue's share
// of the release); the caller beats once before starting its jobs.
func (a *App) RunWorkerHeartbeat(ctx context.Context, onDead func(ctx context.Context, workers []string)) {
	t := time.NewTicker(WorkerHeartbeatInterval)
	defer t.Stop()
	for {
		if _, dead, err := a.WorkerHeartbeat(ctx); err != nil && ctx.Err() == nil {
			a.log.WarnContext(ctx, "worker heartbeat", "err", err)
		} else if len(dead) > 0 && onDead != nil {
			onDead(ctx, dead)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
