// Package jobs owns Alliance's background work: the River job queue, its
// schema (River's own migrations, applied by Migrate), the Runner that works
// jobs in every `alliance serve` process, the periodic housekeeping and trace
// jobs, and the Prometheus metrics of job outcomes.
//
// The package works over a *sql.DB plus a dialect name ("sqlite" or
// "postgres") and does not depend on the store's internals. On SQLite, River
// runs through riversqlite; on PostgreSQL through riverdatabasesql over the
// same *sql.DB, optionally with a small pgx pool used only for LISTEN/NOTIFY
// (see Config.PostgresDSN). Either way the River client is a
// *river.Client[*sql.Tx], so a job can be inserted in the same *sql.Tx as the
// change that caused it:
//
//	err := db.InTx(ctx, func(tx *store.Tx) error {
//		// ... write the report and its audit row through tx ...
//		_, err := runner.Client().InsertTx(ctx, tx.SQLTx(), TraceArgs{ItemIDs: ids}, nil)
//		return err
//	})
//
// The job becomes visible to workers only when the transaction commits, and
// disappears with it on rollback. Inside a transaction always use InsertTx,
// never Insert: on SQLite the transaction holds the write lock, and Insert
// would wait for it on another connection until the busy timeout expires.
//
// Features add work by defining a JobArgs type and a river.Worker and calling
// Register before Start. Jobs should take batches (many items per job), not
// one job per report, so that intake stays fast.
//
// # SQLite through ncruces/go-sqlite3
//
// River tests its SQLite driver with modernc.org/sqlite; with ncruces it works
// as is, for these reasons, which the store's DSN must keep true:
//
//   - riversqlite binds every time as UTC text "2006-01-02 15:04:05.000" and
//     declares its columns "timestamp", which ncruces decodes with its default
//     _timefmt (auto). Setting _timefmt=rfc3339, or a custom layout, on the
//     DSN breaks River: the text no longer scans into a time.Time.
//   - riversqlite's documentation suggests one open connection to avoid
//     SQLITE_BUSY. With ncruces, WAL, a busy timeout and _txlock=immediate
//     (every transaction takes the write lock at BEGIN, so none fails on a
//     lock upgrade) a pool of several connections works.
//   - Job IDs come from an AUTOINCREMENT counter that a rollback also rolls
//     back, so the ID of a rolled-back insert can be reused.
//   - github.com/ncruces/go-sqlite3/embed need not (and should not) be
//     imported any more: it only prints a deprecation notice.
package jobs
