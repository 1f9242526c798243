package app

import (
	"context"
	"fmt"
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
		if n := utf8.RuneCountInString(in.Password); n < MinPasswordLength {
			return alliance.User{}, alliance.FieldErrorf("password", "Password must have at least %d characters.", MinPasswordLength)
		} else if len(in.Password) > MaxPasswordLength {
			return alliance.User{}, alliance.FieldErrorf("password", "Password is longer than %d bytes.", MaxPasswordLength)
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
