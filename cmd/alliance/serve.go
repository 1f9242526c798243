package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/config"
	"alliance/internal/federation"
	"alliance/internal/fetch"
	"alliance/internal/httpapi"
	"alliance/internal/jobs"
	"alliance/internal/media"
	"alliance/internal/notify"
	"alliance/internal/recheck"
	"alliance/internal/server"
	"alliance/internal/store"
	"alliance/internal/trace"
	"alliance/internal/web"
)

// migrateAll brings the schema of the platform and of the job queue up to date.
func migrateAll(ctx context.Context, db *store.DB) error {
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := jobs.Migrate(ctx, db.SQL(), string(db.Dialect())); err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	return nil
}

var serveFlags = []string{"db", "addr", "home-org", "log-format", "log-level", "secure-cookies", "jobs",
	"fetch-user-agent", "allow-private-fetch", "fetch-media-per-page", "smtp-addr", "smtp-user", "smtp-starttls",
	"notice-from", "notice-contact", "police-grace", "recheck-interval", "renotice-interval", "escalate-after",
	"capabilities-file", "contact-retention", "metrics-addr"}

func (m *Main) serve(ctx context.Context, args []string) error {
	fs := m.flagSet("serve", "serve [--db DSN] [--addr HOST:PORT] [--home-org CODE] [flags]")
	cfg, err := m.loadConfig(fs, args, config.Default(), serveFlags...)
	if err != nil {
		return err
	}
	migrate := fs.Bool("migrate", false, "migrate the database before serving (otherwise an outdated schema is an error)")
	tf := m.addTraceFlags(fs)
	if err := parse(fs, args, false); err != nil {
		return err
	}
	log, err := m.logger(cfg)
	if err != nil {
		return err
	}
	// The trace files are read before the database is touched, so a typo
	// in one fails fast and changes nothing.
	resolver, ipdb, err := tf.load(trace.NewSystemResolver(trace.DefaultTimeout), log)
	if err != nil {
		return err
	}
	tracer := trace.NewTracer(resolver, ipdb)
	db, err := m.openDB(ctx, cfg, *migrate)
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.AllowPrivateFetch {
		log.Warn("fetch: the SSRF guard is off (--allow-private-fetch): fetches may reach private and loopback addresses; use only with local test sites")
	}
	f := newFetcher(cfg, resolver)
	if cfg.SMTPAddr == "" {
		log.Warn("notices: no SMTP relay (--smtp-addr): e-mail notices wait in the outbox; webhook notices are sent")
	}
	return m.run(ctx, cfg, db, log, node{tracer: tracer, collector: newCollector(cfg, f), takedown: newTakedown(cfg, f, false)})
}

// newFetcher returns the node's one outbound client for reported URLs,
// re-checks and webhooks: names resolve as for the trace (a hosts file
// first), the SSRF guard is on unless the configuration turns it off, and
// each host gets at most two requests at once, a second apart.
func newFetcher(cfg *config.Config, resolver trace.Resolver) *fetch.Fetcher {
	return fetch.New(fetch.Options{
		UserAgent: cfg.FetchUserAgent, AllowPrivate: cfg.AllowPrivateFetch, MaxPerHost: 2,
		Resolver: func(ctx context.Context, host string) ([]netip.Addr, error) { return resolver.LookupIP(ctx, host) },
	})
}

// newCollector returns the fetch-and-hash step over f.
func newCollector(cfg *config.Config, f *fetch.Fetcher) *media.Collector {
	return media.NewCollector(f, media.Options{MaxMediaPerPage: cfg.FetchMediaPerPage})
}

// newTakedown returns the takedown settings: notices by SMTP (when a relay
// is configured) and by webhook through f, re-checks through f.
// allowHTTPWebhooks lets plain-http webhooks through (the demo's site).
func newTakedown(cfg *config.Config, f *fetch.Fetcher, allowHTTPWebhooks bool) app.TakedownOptions {
	var email notify.Sender = noRelay{}
	if cfg.SMTPAddr != "" {
		email = &notify.SMTPSender{Addr: cfg.SMTPAddr, Username: cfg.SMTPUser, Password: cfg.SMTPPassword,
			StartTLS: cfg.SMTPStartTLS}
	}
	return app.TakedownOptions{
		Sender: notify.Multi{
			notify.ChannelEmail:   email,
			notify.ChannelWebhook: &notify.WebhookSender{Post: f.Post, UserAgent: cfg.FetchUserAgent, AllowHTTP: allowHTTPWebhooks},
		},
		Checker: recheck.New(f, recheck.Options{}),
		From:    cfg.NoticeFrom, Contact: cfg.NoticeContact,
		RecheckInterval: time.Duration(cfg.RecheckInterval), RenoticeInterval: time.Duration(cfg.RenoticeInterval),
		EscalateAfter: time.Duration(cfg.EscalateAfter),
	}
}

// noRelay stands in for e-mail when no relay is configured: the failure is
// transient, so the notices are sent once an operator configures one.
type noRelay struct{}

func (noRelay) Send(context.Context, notify.Notice) error {
	return errors.New("e-mail notices are not configured: set --smtp-addr")
}

// traceFunc is the signature of app.App.TraceBatch, the work of the trace job.
type traceFunc = func(ctx context.Context, limit int) (int, error)

// node is what run needs besides the configuration and the database.
type node struct {
	tracer *trace.Tracer // the hosting trace; nil leaves items untraced
	// collector fetches and hashes reported URLs; nil leaves items unfetched.
	collector app.Collector
	// takedown are the notice and re-check settings (none: notices wait).
	takedown app.TakedownOptions
	// banner, when set, is called with the base URL once the server listens
	// (the demo prints logins, the bench starts its clients).
	banner func(url string)
	// wrapTrace, when set, wraps the trace job's function (the bench gates
	// and counts it).
	wrapTrace func(traceFunc) traceFunc
	// userReportLimit, when set, replaces the per-token report rate limit
	// (the bench measures the node, not the limit).
	userReportLimit app.RateLimit
	// traceBatchSize, when set, replaces the trace job's batch size.
	traceBatchSize int
}

// run serves the node on db until ctx is cancelled.
func (m *Main) run(ctx context.Context, cfg *config.Config, db *store.DB, log *slog.Logger, n node) error {
	if err := checkSchema(ctx, db); err != nil {
		return err
	}
	caps, err := loadCapabilities(cfg.CapabilitiesFile)
	if err != nil {
		return err
	}
	opts := app.Options{Capabilities: caps, DB: db, Logger: log, HomeOrg: cfg.HomeOrg, Tracer: n.tracer, UserReportLimit: n.userReportLimit,
		PoliceGrace: time.Duration(cfg.PoliceGrace), Takedown: n.takedown, ContactRetention: time.Duration(cfg.ContactRetention),
		// Peers are recorded by the operator; their addresses are trusted
		// as configured (a lab's peers may well be on a private network).
		PeerHTTP: &http.Client{Timeout: 2 * time.Minute}}
	if n.collector != nil {
		opts.Collector = n.collector
	}
	a := app.New(opts)
	if err := a.CheckHomeOrg(ctx); err != nil {
		return err
	}
	api := httpapi.New(a, httpapi.Options{Logger: log})
	ui, err := web.New(a, web.Options{Logger: log, SecureCookies: cfg.SecureCookies, NodeName: cfg.HomeOrg})
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	// The node's identity is made at the first start, so peers can be
	// given its key before it serves.
	id, err := a.NodeIdentity(ctx)
	if err != nil {
		return err
	}
	srv := server.New(server.Options{App: a, API: api, Web: ui, Federation: httpapi.NewFederation(a, log), Logger: log,
		DB: db.SQL(), ShutdownTimeout: 20 * time.Second, SeparateMetrics: cfg.MetricsAddr != ""})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on --metrics-addr %s: %w", cfg.MetricsAddr, err)
		}
		metricsDone := make(chan struct{})
		defer func() { cancel(); <-metricsDone }()
		go func() {
			defer close(metricsDone)
			if err := srv.ServeMetrics(ctx, mln); err != nil {
				log.Error("metrics listener", "err", err)
			}
		}()
	}
	// The hash index lives in this process: load it before serving, then
	// follow other processes' bank changes until shutdown.
	if err := a.Matcher().Start(ctx, app.DefaultMatchPoll); err != nil {
		ln.Close()
		return fmt.Errorf("start matcher: %w", err)
	}

	var runner *jobs.Runner
	if cfg.Jobs {
		// Jobs act as the node itself.
		traceBatch := func(ctx context.Context, limit int) (int, error) {
			return a.TraceBatch(alliance.NewContextWithActor(ctx, alliance.SystemActor), limit)
		}
		if n.wrapTrace != nil {
			traceBatch = n.wrapTrace(traceBatch)
		}
		jcfg := jobs.Config{Logger: log, WorkerID: a.WorkerID(), Registerer: srv.Registry(), Housekeeping: a.Housekeeping,
			TraceBatch: traceBatch, TraceBatchSize: n.traceBatchSize,
			FetchBatch: func(ctx context.Context, limit int) (int, error) {
				return a.FetchBatch(alliance.NewContextWithActor(ctx, alliance.SystemActor), limit)
			},
			TakedownBatch: func(ctx context.Context, limit int) (int, error) {
				return a.TakedownBatch(alliance.NewContextWithActor(ctx, alliance.SystemActor), limit)
			},
			NoticeBatch: func(ctx context.Context, limit int) (int, error) {
				return a.NoticeBatch(alliance.NewContextWithActor(ctx, alliance.SystemActor), limit)
			},
			PullBatch: func(ctx context.Context, limit int) (int, error) {
				return a.PullBatch(alliance.NewContextWithActor(ctx, alliance.SystemActor), limit)
			},
			BankImport: func(ctx context.Context, id int64) error {
				return a.RunImport(alliance.NewContextWithActor(ctx, alliance.SystemActor), id)
			}}
		if db.Dialect() == store.Postgres {
			jcfg.PostgresDSN = cfg.DB // LISTEN/NOTIFY wakes workers at once instead of polling
		}
		runner, err = jobs.New(db.SQL(), string(db.Dialect()), jcfg)
		if err != nil {
			ln.Close()
			return fmt.Errorf("jobs: %w", err)
		}
		// One heartbeat before the jobs start: from now on this process's
		// claims are its own, and what a dead predecessor held is released
		// (on SQLite at once, on PostgreSQL once its heartbeat is stale).
		_, dead, err := a.StartWorker(ctx)
		if err == nil {
			err = runner.ReleaseDeadWorkers(ctx, dead)
		}
		if err != nil {
			ln.Close()
			return fmt.Errorf("start jobs: %w", err)
		}
		if err := runner.Start(ctx); err != nil {
			ln.Close()
			return fmt.Errorf("start jobs: %w", err)
		}
		a.SetBankImportEnqueuer(func(ctx context.Context, tx *sql.Tx, id int64) error {
			_, err := runner.Client().InsertTx(ctx, tx, jobs.BankImportArgs{ImportID: id}, nil)
			return err
		})
	}

	addr := ln.Addr().String()
	log.Info("serving", "addr", addr, "db", string(db.Dialect()), "home_org", cfg.HomeOrg, "jobs", cfg.Jobs,
		"node", id.NodeID, "node_key", federation.EncodePublicKey(id.Public()))
	if m.Listening != nil {
		m.Listening(addr)
	}
	if n.banner != nil {
		n.banner("http://" + addr)
	}
	go checkpointWAL(ctx, db, log)
	if runner != nil {
		go a.RunWorkerHeartbeat(ctx, func(ctx context.Context, dead []string) {
			if err := runner.ReleaseDeadWorkers(ctx, dead); err != nil {
				log.Warn("release jobs of dead processes", "err", err)
			}
		})
	}
	serveErr := srv.Serve(ctx, ln)
	if runner != nil {
		// Jobs stop after the HTTP server, so requests in flight can still enqueue.
		stopCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
		defer stop()
		if err := runner.Stop(stopCtx); err != nil {
			log.Error("stop jobs", "err", err)
		}
		// What the stopped batches had claimed is due again at once, for
		// the next start or another process, not when the leases end.
		n, dead, err := a.ReleaseOwnClaims(stopCtx)
		if err == nil {
			err = runner.ReleaseDeadWorkers(stopCtx, dead)
		}
		if err != nil {
			log.Error("release claims", "err", err)
		} else if n > 0 {
			log.Info("released unfinished work", "rows", n)
		}
	}
	if serveErr != nil && !errors.Is(serveErr, context.Canceled) {
		return serveErr
	}
	log.Info("stopped")
	return nil
}

// checkSchema refuses to serve a database whose schema is behind the binary:
// half the features would fail at their first query.
func checkSchema(ctx context.Context, db *store.DB) error {
	have, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if want := store.LatestVersion(); have < want {
		return fmt.Errorf("database schema is at version %d, this binary needs %d: run 'alliance migrate' (or serve --migrate)", have, want)
	}
	return nil
}

// walCheckpointInterval is how often a SQLite node truncates its
// write-ahead log.
const walCheckpointInterval = 30 * time.Second

// checkpointWAL truncates a SQLite node's write-ahead log every
// walCheckpointInterval until ctx ends, so that it cannot grow without
// bound under constant load. A busy attempt is normal and retried.
func checkpointWAL(ctx context.Context, db *store.DB, log *slog.Logger) {
	if db.Dialect() != store.SQLite {
		return
	}
	t := time.NewTicker(walCheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := db.CheckpointWAL(cctx)
		cancel()
		switch {
		case errors.Is(err, store.ErrWALBusy):
			log.Debug("wal checkpoint: busy, retried later")
		case err != nil && ctx.Err() == nil:
			log.Warn("wal checkpoint", "err", err)
		}
	}
}
