package alliance

import (
	"net/mail"
	"strings"
	"time"
)

// User is a person who logs in. Passwords are kept as argon2id hashes only.
type User struct {
	ID           int64
	Email        string
	Name         string
	OrgID        int64
	OrgCode      string
	Role         Role
	PasswordHash string // PHC-format argon2id string; "" means no password login
	Disabled     bool
	CreatedAt    time.Time
}

// Actor returns the actor for a request made by u.
func (u User) Actor() Actor {
	return Actor{UserID: u.ID, Email: u.Email, OrgID: u.OrgID, OrgCode: u.OrgCode, Role: u.Role}
}

// MaxEmailLength bounds e-mail addresses (RFC 5321's path limit).
const MaxEmailLength = 254

// NormalizeEmail validates an e-mail address and returns it trimmed and in
// lower case, so that lookups and the uniqueness rule ignore case.
func NormalizeEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", FieldErrorf(field, "E-mail address is required.")
	}
	if len(s) > MaxEmailLength {
		return "", FieldErrorf(field, "E-mail address is longer than %d characters.", MaxEmailLength)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", FieldErrorf(field, "%q is not a valid e-mail address.", s)
	}
	return strings.ToLower(s), nil
}

// Token is an API token. Only the SHA-256 of the secret is stored; the secret
// is shown once, when it is created.
type Token struct {
	ID         int64
	UserID     int64
	Name       string
	Hash       []byte // SHA-256 of the secret
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Session is a web login. Like tokens, only the SHA-256 of its id is stored.
type Session struct {
	Hash      []byte
	UserID    int64
	CSRF      string // per-session secret for form tokens
	CreatedAt time.Time
	ExpiresAt time.Time
}
