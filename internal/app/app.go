package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/trace"
)

// Options configure an App.
type Options struct {
	DB      *store.DB
	Logger  *slog.Logger
	HomeOrg string           // code of the organisation that runs this node
	Now     func() time.Time // clock; time.Now when nil
	// SessionTTL is how long a web login lasts; 12 hours when zero.
	SessionTTL time.Duration
	// Tracer traces items' hosts in TraceBatch. Nil leaves items untraced:
	// TraceBatch then does nothing (tests and tools that never trace).
	Tracer *trace.Tracer
	// TraceConcurrency bounds the lookups TraceBatch runs at once; 64 when zero.
	TraceConcurrency int
	// Collector fetches items' URLs and hashes their media in FetchBatch.
	// Nil leaves items unfetched.
	Collector Collector
	// FetchConcurrency bounds the items FetchBatch fetches at once;
	// DefaultFetchConcurrency when zero.
	FetchConcurrency int
	// LabelScheme is the scheme of assessments' neutral labels;
	// alliance.DefaultLabelScheme when its Name is empty.
	LabelScheme alliance.LabelScheme
	// PoliceGrace is how long notified police have to place a hold before
	// notices go out; DefaultPoliceGrace when zero.
	PoliceGrace time.Duration
	// Takedown configures notices and re-checks.
	Takedown TakedownOptions
	// PeerHTTP is the client PullBatch pulls peers' feeds with (requests
	// signed with the node's key); nil pulls nothing.
	PeerHTTP *http.Client
	// PullInterval is how often a caught-up peer is pulled again;
	// DefaultPullInterval when zero.
	PullInterval time.Duration
	// AnonymousReportLimit limits reports from the public per client;
	// DefaultAnonymousReportLimit when zero.
	AnonymousReportLimit RateLimit
	// UserReportLimit limits reports per API token, or per user for web
	// sessions; DefaultUserReportLimit when zero.
	UserReportLimit RateLimit
	// ContactRetention is how long a reporter's contact e-mail is kept
	// before housekeeping purges it; alliance.ContactRetention when zero.
	// It applies to reports received from then on.
	ContactRetention time.Duration
	// Capabilities are the national capabilities countries assess their
	// maturity in; alliance.MNRCapabilities when empty.
	Capabilities []alliance.Capability
}

// App is the set of use cases, shared by every edge of the node.
type App struct {
	db         *store.DB
	log        *slog.Logger
	homeOrg    string
	now        func() time.Time
	sessionTTL time.Duration
	logins     *limiter

	tracer           *trace.Tracer
	traceConcurrency int
	anonReports      *buckets
	userReports      *buckets
	intake           *intakeWriter
	tokens           *tokenCache
	homeOrgID        atomic.Int64 // id of homeOrg, once looked up
	matcher          *Matcher
	noTracerOnce     sync.Once
	collector        Collector
	fetchConcurrency int
	noCollectorOnce  sync.Once
	labels           alliance.LabelScheme
	policeGrace      time.Duration
	takedown         TakedownOptions
	fed              federationState
	peerHTTP         *http.Client
	pullInterval     time.Duration
	imports          bankImports // background bank imports (bank_import.go)
	capabilities     []alliance.Capability
	contactRetention time.Duration
}

// New returns an App over an open, migrated database.
func New(opts Options) *App {
	a := &App{
		db:         opts.DB,
		log:        opts.Logger,
		homeOrg:    opts.HomeOrg,
		now:        opts.Now,
		sessionTTL: opts.SessionTTL,
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.sessionTTL == 0 {
		a.sessionTTL = 12 * time.Hour
	}
	// Ten failed logins per e-mail or client in 15 minutes slow a guesser to
	// about a thousand tries a day while a person who mistypes is not locked out.
	a.logins = newLimiter(10, 15*time.Minute, a.now)
	a.tracer, a.traceConcurrency = opts.Tracer, opts.TraceConcurrency
	if a.traceConcurrency <= 0 {
		a.traceConcurrency = 64
	}
	a.collector, a.fetchConcurrency = opts.Collector, opts.FetchConcurrency
	if a.fetchConcurrency <= 0 {
		a.fetchConcurrency = DefaultFetchConcurrency
	}
	a.labels, a.policeGrace = opts.LabelScheme, opts.PoliceGrace
	if a.labels.Name == "" {
		a.labels = alliance.DefaultLabelScheme
	}
	if a.policeGrace <= 0 {
		a.policeGrace = DefaultPoliceGrace
	}
	a.takedown = opts.Takedown
	a.takedown.defaults()
	a.peerHTTP, a.pullInterval = opts.PeerHTTP, opts.PullInterval
	if a.pullInterval <= 0 {
		a.pullInterval = DefaultPullInterval
	}
	anon, user := opts.AnonymousReportLimit, opts.UserReportLimit
	if !anon.valid() {
		anon = DefaultAnonymousReportLimit
	}
	if !user.valid() {
		user = DefaultUserReportLimit
	}
	a.anonReports, a.userReports = newBuckets(anon, a.now), newBuckets(user, a.now)
	a.intake = &intakeWriter{app: a, max: sqliteWriters}
	if opts.DB != nil && opts.DB.Dialect() == store.Postgres {
		a.intake.max = postgresWriters
	}
	a.tokens = newTokenCache(a.now)
	a.capabilities = opts.Capabilities
	if len(a.capabilities) == 0 {
		a.capabilities = alliance.MNRCapabilities
	}
	a.contactRetention = opts.ContactRetention
	if a.contactRetention <= 0 {
		a.contactRetention = alliance.ContactRetention
	}
	a.matcher = newMatcher(opts.DB, a.log)
	return a
}

// ContactRetention is how long reporters' contact e-mails are kept.
func (a *App) ContactRetention() time.Duration { return a.contactRetention }

// HomeOrg returns the code of the organisation that runs this node.
func (a *App) HomeOrg() string { return a.homeOrg }

// Ready reports whether the database answers.
func (a *App) Ready(ctx context.Context) error {
	if err := a.db.Ping(ctx); err != nil {
		return fmt.Errorf("app: ready: %w", err)
	}
	return nil
}

// audit appends an audit row for the actor in ctx inside tx.
func audit(ctx context.Context, tx *store.Tx, action, objectType, objectID string) error {
	actor := alliance.ActorFromContext(ctx)
	e := &alliance.AuditEvent{
		ActorID:    actor.UserID,
		ActorLabel: actor.Label(),
		OrgCode:    actor.OrgCode,
		Action:     action,
		ObjectType: objectType,
		ObjectID:   objectID,
		RequestID:  alliance.RequestIDFromContext(ctx),
	}
	if err := tx.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// require returns an error unless the actor in ctx holds permission p:
// EUNAUTHORIZED for the anonymous public, EFORBIDDEN otherwise.
func require(ctx context.Context, p alliance.Permission) (alliance.Actor, error) {
	actor := alliance.ActorFromContext(ctx)
	if actor.Can(p) {
		return actor, nil
	}
	if actor.Anonymous() {
		return actor, alliance.Errorf(alliance.EUNAUTHORIZED, "Authentication required.")
	}
	return actor, alliance.Errorf(alliance.EFORBIDDEN, "You do not have permission to do this.")
}

// CheckHomeOrg verifies that the node's home organisation exists, so that a
// typo in --home-org fails at start rather than at the first public report.
func (a *App) CheckHomeOrg(ctx context.Context) error {
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.OrganisationByCode(ctx, a.homeOrg)
		if alliance.ErrorCode(err) == alliance.ENOTFOUND {
			return unknownOrg(ctx, tx, a.homeOrg)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("app: home organisation: %w", err)
	}
	return nil
}

// backoff is the wait after the attempts-th failure of something retried
// with exponential backoff: base after the first, doubling, at most max.
func backoff(base, max time.Duration, attempts int) time.Duration {
	d := base
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
