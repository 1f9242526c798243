package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"alliance"
	"alliance/internal/store"
)

// LoginResult is a successful web login.
type LoginResult struct {
	Secret  string // the session secret for the cookie; shown once
	Session alliance.Session
	User    alliance.User
}

// Login checks a password and opens a web session. Failed attempts are
// limited per e-mail and per client; the error never says which part was wrong.
func (a *App) Login(ctx context.Context, email, password, client string) (LoginResult, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	for _, key := range []string{"email:" + email, "client:" + client} {
		if blocked, wait := a.logins.blocked(key); blocked {
			return LoginResult{}, alliance.Errorf(alliance.ERATELIMIT,
				"Too many failed logins. Try again in %d minutes.", int(wait.Minutes())+1)
		}
	}
	bad := alliance.Errorf(alliance.EUNAUTHORIZED, "Wrong e-mail address or password.")
	if email == "" || len(password) > MaxPasswordLength {
		return LoginResult{}, bad
	}
	var res LoginResult
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.UserByEmail(ctx, email)
		if alliance.ErrorCode(err) == alliance.ENOTFOUND {
			// Hash anyway so that timing does not reveal which e-mails exist.
			_, _ = checkPassword(dummyHash, password)
			return bad
		} else if err != nil {
			return err
		}
		if u.Disabled || u.PasswordHash == "" {
			return bad
		}
		ok, err := checkPassword(u.PasswordHash, password)
		if err != nil {
			return fmt.Errorf("login %q: %w", email, err)
		} else if !ok {
			return bad
		}
		secret, hash, err := newSecret(sessionPrefix)
		if err != nil {
			return err
		}
		csrf, _, err := newSecret("")
		if err != nil {
			return err
		}
		s := alliance.Session{Hash: hash, UserID: u.ID, CSRF: csrf, CreatedAt: tx.Now(), ExpiresAt: tx.Now().Add(a.sessionTTL)}
		if err := tx.CreateSession(ctx, &s); err != nil {
			return err
		}
		ctx := alliance.NewContextWithActor(ctx, u.Actor())
		if err := audit(ctx, tx, "session.create", "user", fmt.Sprint(u.ID)); err != nil {
			return err
		}
		res = LoginResult{Secret: secret, Session: s, User: u}
		return nil
	})
	if alliance.ErrorCode(err) == alliance.EUNAUTHORIZED {
		a.logins.add("email:" + email)
		a.logins.add("client:" + client)
		a.log.InfoContext(ctx, "login failed", "email", email, "client", client)
		return LoginResult{}, err
	} else if err != nil {
		return LoginResult{}, fmt.Errorf("app: login: %w", err)
	}
	a.logins.reset("email:" + email)
	return res, nil
}

// dummyHash is checked against when the e-mail is unknown, to equalise timing.
var dummyHash = func() string {
	h, err := hashPassword("not a password anyone has")
	if err != nil {
		panic(err) // crypto/rand failing at start-up leaves nothing safe to do
	}
	return h
}()

// SessionActor returns the actor and session for a session secret from a
// cookie; EUNAUTHORIZED if it is unknown or expired.
func (a *App) SessionActor(ctx context.Context, secret string) (alliance.Actor, alliance.Session, error) {
	if !strings.HasPrefix(secret, sessionPrefix) || len(secret) > 128 {
		return alliance.Actor{}, alliance.Session{}, alliance.Errorf(alliance.EUNAUTHORIZED, "Please log in.")
	}
	var (
		s alliance.Session
		u alliance.User
	)
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		s, u, err = tx.SessionByHash(ctx, hashSecret(secret))
		return err
	})
	if alliance.ErrorCode(err) == alliance.ENOTFOUND || (err == nil && u.Disabled) {
		return alliance.Actor{}, alliance.Session{}, alliance.Errorf(alliance.EUNAUTHORIZED, "Please log in.")
	} else if err != nil {
		return alliance.Actor{}, alliance.Session{}, fmt.Errorf("app: session: %w", err)
	}
	return u.Actor(), s, nil
}

// Logout ends the session with the secret. Ending an unknown session is not an error.
func (a *App) Logout(ctx context.Context, secret string) error {
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSession(ctx, hashSecret(secret)); err != nil {
			return err
		}
		actor := alliance.ActorFromContext(ctx)
		if actor.Anonymous() {
			return nil
		}
		return audit(ctx, tx, "session.delete", "user", fmt.Sprint(actor.UserID))
	})
	if err != nil {
		return fmt.Errorf("app: logout: %w", err)
	}
	return nil
}

// TokenActor returns the actor for an API bearer token; EUNAUTHORIZED if the
// token is unknown or its user is disabled. Tokens found are trusted for a
// few seconds without asking the database again (see TokenCacheTTL).
func (a *App) TokenActor(ctx context.Context, secret string) (alliance.Actor, error) {
	bad := alliance.Errorf(alliance.EUNAUTHORIZED, "Invalid or expired API token.")
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 128 {
		return alliance.Actor{}, bad
	}
	hash := hashSecret(secret)
	if actor, ok := a.tokens.get(hash); ok {
		return actor, nil
	}
	var (
		actor alliance.Actor
		touch bool
	)
	// Authentication is a read; only the once-a-minute "last used" stamp
	// writes, so API calls do not queue for SQLite's write lock.
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		t, u, err := tx.TokenByHash(ctx, hash)
		if err != nil {
			return err
		}
		if u.Disabled {
			return bad
		}
		touch = t.LastUsedAt == nil || tx.Now().Sub(*t.LastUsedAt) > time.Minute
		actor = u.Actor()
		actor.TokenID = t.ID
		return nil
	})
	if err == nil && touch {
		err = a.db.InTx(ctx, func(tx *store.Tx) error { return tx.TouchToken(ctx, actor.TokenID) })
	}
	switch alliance.ErrorCode(err) {
	case "":
		a.tokens.put(hash, actor)
		return actor, nil
	case alliance.ENOTFOUND, alliance.EUNAUTHORIZED:
		return alliance.Actor{}, bad
	default:
		return alliance.Actor{}, fmt.Errorf("app: token: %w", err)
	}
}
