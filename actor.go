package alliance

import "context"

// Actor is who performs an action: a logged-in user, a token holder, the
// anonymous public, or the node itself (CLI, jobs). It travels in the context.
type Actor struct {
	UserID  int64  // 0 for anonymous and system actors
	Email   string // "" for anonymous and system actors
	OrgID   int64  // the organisation acted for; 0 for anonymous
	OrgCode string
	Role    Role
	TokenID int64 // set when authenticated by an API token
	System  bool  // the node itself: CLI commands and background jobs
}

// Anonymous reports whether the actor is an unauthenticated member of the public.
func (a Actor) Anonymous() bool { return a.UserID == 0 && !a.System }

// Can reports whether the actor holds permission p. The system actor holds all.
func (a Actor) Can(p Permission) bool {
	if a.System {
		return true
	}
	if a.UserID == 0 {
		return false
	}
	return a.Role.Can(p)
}

// Label is how the actor appears in the audit log and in logs.
func (a Actor) Label() string {
	switch {
	case a.System:
		return "system"
	case a.UserID == 0:
		return "anonymous"
	default:
		return a.Email
	}
}

// SystemActor is the node acting on its own behalf (CLI on the database, jobs).
var SystemActor = Actor{System: true}

type ctxKey int

const (
	actorKey ctxKey = iota
	requestIDKey
)

// NewContextWithActor returns a copy of ctx carrying the actor.
func NewContextWithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFromContext returns the actor in ctx; without one, the anonymous actor.
func ActorFromContext(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey).(Actor)
	return a
}

// NewContextWithRequestID returns a copy of ctx carrying the request id,
// which the audit log and the access log record side by side.
func NewContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFromContext returns the request id in ctx, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
