package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"alliance"
	"alliance/internal/store"
)

// NewUser is the input of AddUser.
type NewUser struct {
	Email    string
	Name     string
	OrgCode  string
	Role     string
	Password string // may be empty: the user then logs in with API tokens only
}

// AddUser creates a user. Admins add users to their own organisation; the
// node operator (the CLI, acting as the system) to any.
func (a *App) AddUser(ctx context.Context, in NewUser) (alliance.User, error) {
	actor, err := require(ctx, alliance.PermManageUsers)
	if err != nil {
		return alliance.User{}, err
	}
	email, err := alliance.NormalizeEmail("email", in.Email)
	if err != nil {
		return alliance.User{}, err
	}
	role, err := alliance.ParseRole(in.Role)
	if err != nil {
		return alliance.User{}, err
	}
	if utf8.RuneCountInString(in.Name) > 200 {
		return alliance.User{}, alliance.FieldErrorf("name", "Name is longer than 200 characters.")
	}
	var hash string
	if in.Password != "" {
		if err := checkNewPassword("password", in.Password); err != nil {
			return alliance.User{}, err
		}
		if hash, err = hashPassword(in.Password); err != nil {
			return alliance.User{}, err
		}
	}
	orgCode := strings.ToUpper(strings.TrimSpace(in.OrgCode))
	u := alliance.User{Email: email, Name: strings.TrimSpace(in.Name), Role: role, PasswordHash: hash, OrgCode: orgCode}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		org, err := tx.OrganisationByCode(ctx, orgCode)
		if alliance.ErrorCode(err) == alliance.ENOTFOUND {
			return unknownOrg(ctx, tx, in.OrgCode)
		} else if err != nil {
			return err
		}
		if !actor.System && org.ID != actor.OrgID {
			return alliance.Errorf(alliance.EFORBIDDEN, "You can add users only to your own organisation.")
		}
		// Admins give the roles of their organisation's kind; the node's
		// operator may give any (a police analyst at a hotline, say).
		if kinds := org.Kind.Roles(); !actor.System && !slices.Contains(kinds, role) {
			return alliance.FieldErrorf("role", "A %s organisation's users are %s.", org.Kind, joinRoles(kinds))
		}
		u.OrgID = org.ID
		if err := tx.CreateUser(ctx, &u); err != nil {
			if alliance.ErrorCode(err) == alliance.ECONFLICT {
				return &alliance.Error{Code: alliance.ECONFLICT, Field: "email", Message: fmt.Sprintf("A user with e-mail %s already exists.", email)}
			}
			return err
		}
		return audit(ctx, tx, "user.create", "user", fmt.Sprint(u.ID))
	})
	if err != nil {
		return alliance.User{}, fmt.Errorf("app: add user %q: %w", email, err)
	}
	return u, nil
}

// joinRoles lists roles for a message: "analyst, admin or auditor".
func joinRoles(rs []alliance.Role) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = string(r)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// checkNewPassword checks the length of a password being set, naming field.
func checkNewPassword(field, pw string) error {
	if n := utf8.RuneCountInString(pw); n < MinPasswordLength {
		return alliance.FieldErrorf(field, "Password must have at least %d characters.", MinPasswordLength)
	} else if len(pw) > MaxPasswordLength {
		return alliance.FieldErrorf(field, "Password is longer than %d bytes.", MaxPasswordLength)
	}
	return nil
}

// ChangePassword sets the signed-in user's password, given the current
// one, and ends their other web sessions (the one with sessionSecret stays
// signed in). Wrong current passwords count towards the login limit of the
// user's e-mail. API tokens are separate credentials and stay.
func (a *App) ChangePassword(ctx context.Context, sessionSecret, current, next string) error {
	actor := alliance.ActorFromContext(ctx)
	if actor.UserID == 0 || actor.TokenID != 0 || sessionSecret == "" {
		return alliance.Errorf(alliance.EFORBIDDEN, "Change your password in a web session.")
	}
	key := "email:" + actor.Email
	if blocked, wait := a.logins.blocked(key); blocked {
		return alliance.Errorf(alliance.ERATELIMIT, "Too many wrong passwords. Try again in %d minutes.", int(wait.Minutes())+1)
	}
	if err := checkNewPassword("new", next); err != nil {
		return err
	}
	if next == current {
		return alliance.FieldErrorf("new", "The new password is the same as the current one.")
	}
	hash, err := hashPassword(next)
	if err != nil {
		return err
	}
	wrong := alliance.FieldErrorf("current", "The current password is wrong.")
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.UserByEmail(ctx, actor.Email)
		if err != nil {
			return err
		}
		if u.PasswordHash == "" || len(current) > MaxPasswordLength {
			return wrong
		}
		if ok, err := checkPassword(u.PasswordHash, current); err != nil {
			return err
		} else if !ok {
			return wrong
		}
		if err := tx.SetPasswordHash(ctx, u.ID, hash, hashSecret(sessionSecret)); err != nil {
			return err
		}
		return audit(ctx, tx, "user.password", "user", fmt.Sprint(u.ID))
	})
	if errors.Is(err, wrong) {
		a.logins.add(key)
		a.log.InfoContext(ctx, "password change refused: wrong current password", "user", actor.UserID)
		return err
	} else if err != nil {
		return fmt.Errorf("app: change password of user %d: %w", actor.UserID, err)
	}
	a.logins.reset(key)
	return nil
}

// unknownOrg is the error for an organisation code that does not exist; it
// lists the valid codes so the operator can pick one.
func unknownOrg(ctx context.Context, tx *store.Tx, code string) error {
	orgs, err := tx.Organisations(ctx)
	if err != nil {
		return err
	}
	codes := make([]string, len(orgs))
	for i, o := range orgs {
		codes[i] = o.Code
	}
	return alliance.FieldErrorf("org", "Unknown organisation %q; valid organisations: %s.", code, strings.Join(codes, ", "))
}

// NewToken is a freshly created API token. Secret is shown once and never again.
type NewToken struct {
	Secret string
	Token  alliance.Token
	User   alliance.User
}

// CreateToken creates an API token for the user with the e-mail. Users may
// create tokens for themselves; the node operator (CLI) for anyone.
func (a *App) CreateToken(ctx context.Context, email, name string) (NewToken, error) {
	actor, err := require(ctx, alliance.PermCreateToken)
	if err != nil {
		return NewToken{}, err
	}
	email, err = alliance.NormalizeEmail("email", email)
	if err != nil {
		return NewToken{}, err
	}
	if !actor.System && actor.Email != email {
		return NewToken{}, alliance.Errorf(alliance.EFORBIDDEN, "You can create tokens only for yourself.")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "api"
	} else if utf8.RuneCountInString(name) > 100 {
		return NewToken{}, alliance.FieldErrorf("name", "Token name is longer than 100 characters.")
	}
	var out NewToken
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.UserByEmail(ctx, email)
		if alliance.ErrorCode(err) == alliance.ENOTFOUND {
			return alliance.FieldErrorf("email", "No user with e-mail %s.", email)
		} else if err != nil {
			return err
		}
		secret, hash, err := newSecret(tokenPrefix)
		if err != nil {
			return err
		}
		t := alliance.Token{UserID: u.ID, Name: name, Hash: hash}
		if err := tx.CreateToken(ctx, &t); err != nil {
			return err
		}
		out = NewToken{Secret: secret, Token: t, User: u}
		return audit(ctx, tx, "token.create", "token", fmt.Sprint(t.ID))
	})
	if err != nil {
		return NewToken{}, fmt.Errorf("app: create token for %q: %w", email, err)
	}
	return out, nil
}

// Me is the authenticated actor's own account.
type Me struct {
	User         alliance.User
	Organisation alliance.Organisation
	Permissions  []alliance.Permission
}

// Me returns the account of the actor in ctx.
func (a *App) Me(ctx context.Context) (Me, error) {
	actor := alliance.ActorFromContext(ctx)
	if actor.UserID == 0 {
		return Me{}, alliance.Errorf(alliance.EUNAUTHORIZED, "Authentication required.")
	}
	var me Me
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		u, err := tx.UserByID(ctx, actor.UserID)
		if err != nil {
			return err
		}
		org, err := tx.OrganisationByCode(ctx, u.OrgCode)
		if err != nil {
			return err
		}
		me = Me{User: u, Organisation: org, Permissions: u.Role.Permissions()}
		return nil
	})
	if err != nil {
		return Me{}, fmt.Errorf("app: me: %w", err)
	}
	return me, nil
}

// Countries returns every country with its membership. It is public.
func (a *App) Countries(ctx context.Context) ([]alliance.Country, error) {
	var out []alliance.Country
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.Countries(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: countries: %w", err)
	}
	return out, nil
}

// Organisations returns the organisations of the alliance.
func (a *App) Organisations(ctx context.Context) ([]alliance.Organisation, error) {
	if _, err := require(ctx, alliance.PermViewOrganisation); err != nil {
		return nil, err
	}
	var out []alliance.Organisation
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.Organisations(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: organisations: %w", err)
	}
	return out, nil
}

// OrgUsers returns the users of the actor's own organisation.
func (a *App) OrgUsers(ctx context.Context) ([]alliance.User, error) {
	actor, err := require(ctx, alliance.PermViewOwnOrg)
	if err != nil {
		return nil, err
	}
	var out []alliance.User
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		out, err = tx.UsersByOrg(ctx, actor.OrgID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: organisation users: %w", err)
	}
	return out, nil
}

// userForTokens returns the user whose tokens the actor manages: the actor
// itself, a user of the actor's organisation for an admin, anyone for the
// node operator.
func userForTokens(ctx context.Context, tx *store.Tx, actor alliance.Actor, email string) (alliance.User, error) {
	u, err := tx.UserByEmail(ctx, email)
	if alliance.ErrorCode(err) == alliance.ENOTFOUND {
		return alliance.User{}, alliance.FieldErrorf("email", "No user with e-mail %s.", email)
	} else if err != nil {
		return alliance.User{}, err
	}
	switch {
	case actor.System, actor.UserID == u.ID:
		return u, nil
	case actor.Can(alliance.PermManageUsers) && actor.OrgID == u.OrgID:
		return u, nil
	}
	return alliance.User{}, alliance.Errorf(alliance.EFORBIDDEN, "You can manage only your own tokens, or as an admin those of your organisation.")
}

// ListTokens returns the API tokens of the user with the e-mail (names,
// ids, creation and last use; never a secret).
func (a *App) ListTokens(ctx context.Context, email string) ([]alliance.Token, error) {
	actor, err := require(ctx, alliance.PermCreateToken)
	if err != nil {
		return nil, err
	}
	if email, err = alliance.NormalizeEmail("email", email); err != nil {
		return nil, err
	}
	var out []alliance.Token
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		u, err := userForTokens(ctx, tx, actor, email)
		if err != nil {
			return err
		}
		out, err = tx.TokensOfUser(ctx, u.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: list tokens of %q: %w", email, err)
	}
	return out, nil
}

// RevokeToken deletes the token id of the user with the e-mail, audited.
// This node stops accepting it at once; a node process other than the
// caller's (the server, when the CLI revokes) within TokenCacheTTL.
func (a *App) RevokeToken(ctx context.Context, email string, id int64) error {
	actor, err := require(ctx, alliance.PermCreateToken)
	if err != nil {
		return err
	}
	if email, err = alliance.NormalizeEmail("email", email); err != nil {
		return err
	}
	if id <= 0 {
		return alliance.FieldErrorf("id", "Token id must be a positive number.")
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := userForTokens(ctx, tx, actor, email)
		if err != nil {
			return err
		}
		if err := tx.DeleteToken(ctx, u.ID, id); alliance.ErrorCode(err) == alliance.ENOTFOUND {
			return alliance.FieldErrorf("id", "%s has no token %d.", email, id)
		} else if err != nil {
			return err
		}
		return audit(ctx, tx, "token.revoke", "token", fmt.Sprint(id))
	})
	if err != nil {
		return fmt.Errorf("app: revoke token %d of %q: %w", id, email, err)
	}
	a.tokens.drop(func(c alliance.Actor) bool { return c.TokenID == id })
	return nil
}

// SetUserDisabled disables a user (no login, no API token, web sessions
// ended) or enables it again, audited. Admins manage their organisation's
// users, the node operator anyone's; nobody disables themselves.
func (a *App) SetUserDisabled(ctx context.Context, email string, disabled bool) error {
	actor, err := require(ctx, alliance.PermManageUsers)
	if err != nil {
		return err
	}
	if email, err = alliance.NormalizeEmail("email", email); err != nil {
		return err
	}
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	var userID int64
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.UserByEmail(ctx, email)
		if alliance.ErrorCode(err) == alliance.ENOTFOUND {
			return alliance.FieldErrorf("email", "No user with e-mail %s.", email)
		} else if err != nil {
			return err
		}
		switch {
		case u.ID == actor.UserID:
			return alliance.FieldErrorf("email", "You cannot disable or enable your own account.")
		case !actor.System && u.OrgID != actor.OrgID:
			return alliance.Errorf(alliance.EFORBIDDEN, "You can manage only the users of your organisation.")
		}
		userID = u.ID
		if err := tx.SetUserDisabled(ctx, u.ID, disabled); err != nil {
			return err
		}
		return audit(ctx, tx, action, "user", fmt.Sprint(u.ID))
	})
	if err != nil {
		return fmt.Errorf("app: %s %q: %w", action, email, err)
	}
	a.tokens.drop(func(c alliance.Actor) bool { return c.UserID == userID })
	return nil
}
