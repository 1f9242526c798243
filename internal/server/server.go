package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/httpapi"
)

// Timeouts and limits of the HTTP server. Request bodies are small JSON
// documents or form posts, so a minute to read one is generous; responses
// such as exports get two.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = time.Minute
	WriteTimeout      = 2 * time.Minute
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10

	// DefaultShutdownTimeout is how long Serve waits for requests in flight
	// when Options.ShutdownTimeout is zero.
	DefaultShutdownTimeout = 15 * time.Second

	// readyTimeout bounds the database check of /readyz.
	readyTimeout = 3 * time.Second
)

// Options configure a Server. Every field is optional.
type Options struct {
	App *app.App     // for /readyz; without it the node is always ready
	API http.Handler // mounted at /api/ without stripping the prefix
	// Federation, when set, is mounted at /federation/: node-to-node
	// requests, authenticated by their signatures.
	Federation http.Handler
	Web        http.Handler // mounted at /, behind cross-origin (CSRF) protection
	// Logger receives the access log, recovered panics and server errors;
	// slog.Default() when nil.
	Logger *slog.Logger
	// Registry holds the node's metrics; a new one with the Go runtime and
	// process collectors when nil. The global registry is never used.
	Registry *prometheus.Registry
	// DB, when set, has its connection pool statistics exported (go_sql_*).
	DB *sql.DB
	// ShutdownTimeout bounds graceful shutdown; DefaultShutdownTimeout when zero.
	ShutdownTimeout time.Duration
	// SeparateMetrics leaves /metrics off the root handler, for a listener
	// of its own (ServeMetrics) that the public cannot reach.
	SeparateMetrics bool
}

// Server is the HTTP side of a node: the root handler and how it is served.
type Server struct {
	app             *app.App
	log             *slog.Logger
	reg             *prometheus.Registry
	metrics         *httpMetrics
	handler         http.Handler
	metricsHandler  http.Handler
	shutdownTimeout time.Duration
}

// New returns a Server for opts. Metrics that are already registered on
// opts.Registry (a second Server on the same registry) are shared.
func New(opts Options) *Server {
	s := &Server{
		app:             opts.App,
		log:             opts.Logger,
		reg:             opts.Registry,
		shutdownTimeout: opts.ShutdownTimeout,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.shutdownTimeout <= 0 {
		s.shutdownTimeout = DefaultShutdownTimeout
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
		s.reg.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
	}
	s.metrics = newHTTPMetrics(s.reg)
	if opts.DB != nil {
		err := s.reg.Register(collectors.NewDBStatsCollector(opts.DB, "alliance"))
		var are prometheus.AlreadyRegisteredError
		if err != nil && !errors.As(err, &are) {
			s.log.Warn("server: database pool metrics not registered", "err", err)
		}
	}

	s.metricsHandler = promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError),
		Registry: s.reg,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if !opts.SeparateMetrics {
		mux.Handle("GET /metrics", s.metricsHandler)
	}
	api := opts.API
	if api == nil {
		api = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			httpapi.WriteError(w, alliance.Errorf(alliance.ENOTFOUND, "No such API endpoint."))
		})
	}
	mux.Handle("/api/", api)
	if opts.Federation != nil {
		mux.Handle("/federation/", opts.Federation)
	}
	if opts.Web != nil {
		// The API authenticates with bearer tokens, which browsers do not
		// send by themselves; the web UI uses cookies and so needs this.
		mux.Handle("/", http.NewCrossOriginProtection().Handler(opts.Web))
	}

	// Outermost first: the request id is there for everything below; the
	// security headers are set before anything can write, the 500 of a
	// recovered panic included; observe sees the final status.
	s.handler = s.requestID(securityHeaders(s.observe(s.recoverPanic(mux))))
	return s
}

// Handler returns the root handler of the node.
func (s *Server) Handler() http.Handler { return s.handler }

// Registry returns the node's metrics registry, so that other parts (jobs)
// can register their own metrics on it.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// ServeMetrics serves GET /metrics (and /healthz) on ln until ctx is
// cancelled: the listener of Options.SeparateMetrics. It closes ln.
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler)
	mux.HandleFunc("GET /healthz", healthz)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, MaxHeaderBytes: MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.InfoContext(ctx, "server: metrics listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("server: serve metrics: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("server: shutdown metrics: %w", err)
	}
	return nil
}

// Serve serves HTTP on ln until ctx is cancelled, then shuts down gracefully:
// it stops accepting, waits up to the shutdown timeout for requests in flight
// and closes the rest. Request contexts are not cancelled by ctx, only by
// their clients and the timeouts, so that requests in flight can finish.
// Serve closes ln. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.InfoContext(ctx, "server: listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}

	s.log.Info("server: shutting down", "timeout", s.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("server: shutdown: %w", err)
	}
	s.log.Info("server: stopped")
	return nil
}

// healthz answers GET /healthz: the process is up. It does not touch the
// database, so an orchestrator does not restart nodes for a database outage.
func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers GET /readyz: 200 when the node can serve (its database
// answers), 503 otherwise. The reason goes to the log only.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.app != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.app.Ready(ctx); err != nil {
			s.log.WarnContext(r.Context(), "server: not ready", "err", err,
				"request_id", alliance.RequestIDFromContext(r.Context()))
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("unavailable\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ok\n"))
}
