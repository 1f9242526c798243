package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"alliance"
)

// userColumns are the columns scanned by scanUser, from users u joined with
// organisations o.
const userColumns = `u.id, u.email, u.name, u.org_id, o.code, u.role, u.password_hash, u.disabled, u.created_at`

const userFrom = ` FROM users u JOIN organisations o ON o.id = u.org_id`

// scanUser scans userColumns, optionally preceded by other destinations.
func scanUser(row interface{ Scan(...any) error }, before ...any) (alliance.User, error) {
	var (
		u    alliance.User
		role string
	)
	dst := append(append([]any(nil), before...), &u.ID, &u.Email, &u.Name, &u.OrgID, &u.OrgCode, &role, &u.PasswordHash,
		&u.Disabled, scanTime(&u.CreatedAt))
	err := row.Scan(dst...)
	u.Role = alliance.Role(role)
	return u, err
}

// normEmail is the stored form of an e-mail address: trimmed, lower case.
// (alliance.NormalizeEmail validates as well; the app layer calls it.)
func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser inserts u, setting u.ID and u.CreatedAt. A duplicate e-mail
// (case-insensitive) is an ECONFLICT error. u.OrgID must be set.
// The e-mail is stored (and set in u) trimmed and in lower case; u.OrgCode
// is set from the organisation.
func (tx *Tx) CreateUser(ctx context.Context, u *alliance.User) error {
	email := normEmail(u.Email)
	switch {
	case email == "":
		return alliance.FieldErrorf("email", "E-mail address is required.")
	case u.OrgID == 0:
		return alliance.FieldErrorf("org", "Organisation is required.")
	}
	op := fmt.Sprintf("create user %q", email)
	var id int64
	err := tx.queryRow(ctx, `INSERT INTO users (email, name, org_id, role, password_hash, disabled, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		email, u.Name, u.OrgID, string(u.Role), u.PasswordHash, u.Disabled, tx.timeArg(tx.now)).Scan(&id)
	if err != nil {
		return wrapErr(err, op, errMsgs{conflict: fmt.Sprintf("A user with the e-mail address %q already exists.", email)})
	}
	var orgCode string
	if err := tx.queryRow(ctx, `SELECT code FROM organisations WHERE id = $1`, u.OrgID).Scan(&orgCode); err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	u.ID, u.Email, u.OrgCode, u.CreatedAt = id, email, orgCode, tx.now
	return nil
}

// UserByEmail returns the user with the e-mail (case-insensitive) joined with
// its organisation code; ENOTFOUND if none.
func (tx *Tx) UserByEmail(ctx context.Context, email string) (alliance.User, error) {
	email = normEmail(email)
	u, err := scanUser(tx.queryRow(ctx, `SELECT `+userColumns+userFrom+` WHERE u.email = $1`, email))
	if err != nil {
		return alliance.User{}, wrapErr(err, fmt.Sprintf("user by email %q", email), errMsgs{notFound: "User not found."})
	}
	return u, nil
}

// UserByID returns the user with the id; ENOTFOUND if none.
func (tx *Tx) UserByID(ctx context.Context, id int64) (alliance.User, error) {
	u, err := scanUser(tx.queryRow(ctx, `SELECT `+userColumns+userFrom+` WHERE u.id = $1`, id))
	if err != nil {
		return alliance.User{}, wrapErr(err, fmt.Sprintf("user %d", id), errMsgs{notFound: "User not found."})
	}
	return u, nil
}

// UsersByOrg returns the users of an organisation, ordered by e-mail.
func (tx *Tx) UsersByOrg(ctx context.Context, orgID int64) ([]alliance.User, error) {
	op := fmt.Sprintf("users of organisation %d", orgID)
	rows, err := tx.query(ctx, `SELECT `+userColumns+userFrom+` WHERE u.org_id = $1 ORDER BY u.email`, orgID)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	return out, nil
}

// CountUsers returns the number of users on the node.
func (tx *Tx) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, wrapErr(err, "count users", errMsgs{})
	}
	return n, nil
}

// CreateToken inserts t, setting t.ID and t.CreatedAt. A hash that is
// already stored is an ECONFLICT error; an unknown user EINVALID.
func (tx *Tx) CreateToken(ctx context.Context, t *alliance.Token) error {
	switch {
	case len(t.Hash) == 0:
		return fmt.Errorf("store: create token: empty hash")
	case t.UserID == 0:
		return fmt.Errorf("store: create token: no user")
	}
	op := fmt.Sprintf("create token %q for user %d", t.Name, t.UserID)
	var id int64
	err := tx.queryRow(ctx, `INSERT INTO api_tokens (user_id, name, hash, created_at, last_used_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		t.UserID, t.Name, t.Hash, tx.timeArg(tx.now), tx.dialect.nullTimeArg(t.LastUsedAt)).Scan(&id)
	if err != nil {
		return wrapErr(err, op, errMsgs{conflict: "This token already exists."})
	}
	t.ID, t.CreatedAt = id, tx.now
	return nil
}

// TokenByHash returns the token with the SHA-256 hash and its user;
// ENOTFOUND if none.
func (tx *Tx) TokenByHash(ctx context.Context, hash []byte) (alliance.Token, alliance.User, error) {
	var t alliance.Token
	u, err := scanUser(tx.queryRow(ctx, `SELECT t.id, t.user_id, t.name, t.hash, t.created_at, t.last_used_at, `+
		userColumns+` FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN organisations o ON o.id = u.org_id
		WHERE t.hash = $1`, hash),
		&t.ID, &t.UserID, &t.Name, &t.Hash, scanTime(&t.CreatedAt), scanNullTime(&t.LastUsedAt))
	if err != nil {
		return alliance.Token{}, alliance.User{}, wrapErr(err, "token by hash", errMsgs{notFound: "Token not found."})
	}
	return t, u, nil
}

// TouchToken records that the token was used now (the transaction's time);
// ENOTFOUND if there is no such token.
func (tx *Tx) TouchToken(ctx context.Context, id int64) error {
	op := fmt.Sprintf("touch token %d", id)
	res, err := tx.exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, tx.timeArg(tx.now), id)
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrapErr(err, op, errMsgs{})
	} else if n == 0 {
		return notFound(op, "Token not found.")
	}
	return nil
}

// CreateSession inserts a web session. s.Hash, s.UserID and s.ExpiresAt
// must be set; a zero s.CreatedAt becomes the transaction's time. Both times
// are set in s as stored (UTC, microseconds).
func (tx *Tx) CreateSession(ctx context.Context, s *alliance.Session) error {
	switch {
	case len(s.Hash) == 0:
		return fmt.Errorf("store: create session: empty hash")
	case s.UserID == 0:
		return fmt.Errorf("store: create session: no user")
	case s.ExpiresAt.IsZero():
		return fmt.Errorf("store: create session: no expiry")
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = tx.now
	}
	_, err := tx.exec(ctx, `INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		s.Hash, s.UserID, s.CSRF, tx.timeArg(s.CreatedAt), tx.timeArg(s.ExpiresAt))
	if err != nil {
		return wrapErr(err, fmt.Sprintf("create session for user %d", s.UserID), errMsgs{conflict: "This session already exists."})
	}
	s.CreatedAt = s.CreatedAt.UTC().Truncate(time.Microsecond)
	s.ExpiresAt = s.ExpiresAt.UTC().Truncate(time.Microsecond)
	return nil
}

// SessionByHash returns an unexpired session and its user; ENOTFOUND if none.
// A session expires at its ExpiresAt: it is found strictly before.
func (tx *Tx) SessionByHash(ctx context.Context, hash []byte) (alliance.Session, alliance.User, error) {
	var s alliance.Session
	u, err := scanUser(tx.queryRow(ctx, `SELECT s.hash, s.user_id, s.csrf, s.created_at, s.expires_at, `+
		userColumns+` FROM sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.org_id
		WHERE s.hash = $1 AND s.expires_at > $2`, hash, tx.timeArg(tx.now)),
		&s.Hash, &s.UserID, &s.CSRF, scanTime(&s.CreatedAt), scanTime(&s.ExpiresAt))
	if err != nil {
		return alliance.Session{}, alliance.User{}, wrapErr(err, "session by hash", errMsgs{notFound: "Session not found."})
	}
	return s, u, nil
}

// DeleteSession removes a session (logout). Deleting a missing one is not an error.
func (tx *Tx) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := tx.exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
	return wrapErr(err, "delete session", errMsgs{})
}

// DeleteExpiredSessions removes sessions that expired before now and returns
// how many (housekeeping). "Now" is the transaction's time; a session whose
// ExpiresAt equals it is expired.
func (tx *Tx) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, tx.timeArg(tx.now))
	if err != nil {
		return 0, wrapErr(err, "delete expired sessions", errMsgs{})
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrapErr(err, "delete expired sessions", errMsgs{})
	}
	return n, nil
}

// TokensOfUser returns the user's API tokens, oldest first, without their hashes.
func (tx *Tx) TokensOfUser(ctx context.Context, userID int64) ([]alliance.Token, error) {
	op := fmt.Sprintf("tokens of user %d", userID)
	rows, err := tx.query(ctx, `SELECT id, user_id, name, created_at, last_used_at FROM api_tokens
		WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.Token
	for rows.Next() {
		var t alliance.Token
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, scanTime(&t.CreatedAt), scanNullTime(&t.LastUsedAt)); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		out = append(out, t)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}

// DeleteToken removes the user's token id, which stops it authenticating;
// ENOTFOUND if the user has no such token.
func (tx *Tx) DeleteToken(ctx context.Context, userID, id int64) error {
	op := fmt.Sprintf("delete token %d of user %d", id, userID)
	res, err := tx.exec(ctx, `DELETE FROM api_tokens WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrapErr(err, op, errMsgs{})
	} else if n == 0 {
		return notFound(op, "Token not found.")
	}
	return nil
}

// SetPasswordHash replaces a user's password hash and ends every web
// session of the user but the one whose hash is keep (nil: all of them).
func (tx *Tx) SetPasswordHash(ctx context.Context, userID int64, hash string, keep []byte) error {
	op := fmt.Sprintf("set password of user %d", userID)
	if err := tx.updateUser(ctx, op, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID); err != nil {
		return err
	}
	if keep == nil {
		keep = []byte{}
	}
	_, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND hash <> $2`, userID, keep)
	return wrapErr(err, op, errMsgs{})
}

// SetUserDisabled disables or re-enables a user and, on disabling, ends the
// user's web sessions; ENOTFOUND if there is no such user.
func (tx *Tx) SetUserDisabled(ctx context.Context, userID int64, disabled bool) error {
	op := fmt.Sprintf("set user %d disabled=%t", userID, disabled)
	if err := tx.updateUser(ctx, op, `UPDATE users SET disabled = $1 WHERE id = $2`, disabled, userID); err != nil {
		return err
	}
	if disabled {
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
			return wrapErr(err, op, errMsgs{})
		}
	}
	return nil
}

// updateUser runs an UPDATE of one user's row; ENOTFOUND when it changed none.
func (tx *Tx) updateUser(ctx context.Context, op, q string, args ...any) error {
	res, err := tx.exec(ctx, q, args...)
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrapErr(err, op, errMsgs{})
	} else if n == 0 {
		return notFound(op, "User not found.")
	}
	return nil
}
