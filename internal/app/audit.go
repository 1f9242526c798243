package app

import (
	"context"
	"fmt"
	"strconv"

	"alliance"
	"alliance/internal/store"
)

// VerifyAudit checks the whole audit chain of the node.
func (a *App) VerifyAudit(ctx context.Context) (alliance.AuditVerification, error) {
	if _, err := require(ctx, alliance.PermVerifyAudit); err != nil {
		return alliance.AuditVerification{}, err
	}
	v, err := a.db.VerifyAudit(ctx)
	if err != nil {
		return v, fmt.Errorf("app: verify audit: %w", err)
	}
	return v, nil
}

// AuditEvents returns a page of the audit log: the whole node's for the
// system actor, the actor's own organisation's otherwise.
func (a *App) AuditEvents(ctx context.Context, after int64, limit int) ([]alliance.AuditEvent, error) {
	actor, err := require(ctx, alliance.PermViewAudit)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	org := actor.OrgCode
	if actor.System {
		org = ""
	}
	var out []alliance.AuditEvent
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		out, err = tx.AuditEvents(ctx, org, after, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: audit events: %w", err)
	}
	return out, nil
}

// RecentAuditEvents returns the newest n rows of the audit log, newest
// first, seen as AuditEvents sees them.
func (a *App) RecentAuditEvents(ctx context.Context, n int) ([]alliance.AuditEvent, error) {
	actor, err := require(ctx, alliance.PermViewAudit)
	if err != nil {
		return nil, err
	}
	org := actor.OrgCode
	if actor.System {
		org = ""
	}
	var out []alliance.AuditEvent
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		out, err = tx.RecentAuditEvents(ctx, org, n)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: recent audit events: %w", err)
	}
	return out, nil
}

// Housekeeping removes what has expired: web sessions; reporters' contact
// e-mails past alliance.ContactRetention (with a "contact.purge" audit row
// saying how many); idempotency keys older than a day; bank imports that
// nothing will finish (FailStaleImports). It is the node's own
// work and acts as the system actor.
func (a *App) Housekeeping(ctx context.Context) error {
	ctx = alliance.NewContextWithActor(ctx, alliance.SystemActor)
	var sessions, contacts, keys, nonces int64
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if sessions, err = tx.DeleteExpiredSessions(ctx); err != nil {
			return err
		}
		if contacts, err = tx.PurgeContacts(ctx); err != nil {
			return err
		}
		if keys, err = tx.DeleteIdempotencyKeys(ctx, tx.Now().Add(-idempotencyTTL)); err != nil {
			return err
		}
		if nonces, err = tx.PurgeNonces(ctx); err != nil {
			return err
		}
		if contacts == 0 {
			return nil
		}
		return tx.AppendAudit(ctx, auditFor(ctx, a.homeOrg, "contact.purge", "report_contact", strconv.FormatInt(contacts, 10)))
	})
	if err != nil {
		return fmt.Errorf("app: housekeeping: %w", err)
	}
	imports, err := a.FailStaleImports(ctx)
	if err != nil {
		return fmt.Errorf("app: housekeeping: %w", err)
	}
	a.log.InfoContext(ctx, "housekeeping done", "expired_sessions", sessions, "purged_contacts", contacts,
		"expired_idempotency_keys", keys, "stale_bank_imports", imports, "expired_nonces", nonces)
	return nil
}
