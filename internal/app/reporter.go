package app

import (
	"context"
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	"alliance"
	"alliance/internal/store"
)

// ReporterData is everything the node holds about a reporter's contact
// e-mail, for a subject-access request: the reports given with it.
type ReporterData struct {
	Email   string
	Reports []store.ContactReport
}

// checkReporterEmail validates the e-mail of a subject-access or erasure
// request.
func checkReporterEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		return "", alliance.FieldErrorf("email", "An e-mail address such as reporter@example.org.")
	}
	return email, nil
}

// reporterAccess lets the node's operator (the system) and admins of the
// home organisation, which runs the node and answers for its data, act on
// reporters' personal data.
func (a *App) reporterAccess(ctx context.Context) (alliance.Actor, error) {
	actor, err := require(ctx, alliance.PermManageUsers)
	if err != nil {
		return actor, err
	}
	if !actor.System && actor.OrgCode != a.homeOrg {
		return actor, alliance.Errorf(alliance.EFORBIDDEN, "Only the node's own administrators answer for reporters' data.")
	}
	return actor, nil
}

// ReporterData exports what the node holds about a reporter's e-mail. The
// export is audited without the e-mail itself, which the audit log must
// not keep past the data's retention.
func (a *App) ReporterData(ctx context.Context, email string) (ReporterData, error) {
	actor, err := a.reporterAccess(ctx)
	if err != nil {
		return ReporterData{}, err
	}
	if email, err = checkReporterEmail(email); err != nil {
		return ReporterData{}, err
	}
	out := ReporterData{Email: email}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if out.Reports, err = tx.ReportsByContact(ctx, email); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "contact.export", "report_contact", strconv.Itoa(len(out.Reports))))
	})
	if err != nil {
		return ReporterData{}, fmt.Errorf("app: reporter data: %w", err)
	}
	return out, nil
}

// EraseReporter deletes a reporter's contact e-mail from every report on
// request (the reports themselves, which hold no personal data, stay) and
// returns how many reports it was on; audited without the e-mail.
func (a *App) EraseReporter(ctx context.Context, email string) (int64, error) {
	actor, err := a.reporterAccess(ctx)
	if err != nil {
		return 0, err
	}
	if email, err = checkReporterEmail(email); err != nil {
		return 0, err
	}
	var n int64
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if n, err = tx.EraseContact(ctx, email); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "contact.erase", "report_contact", strconv.FormatInt(n, 10)))
	})
	if err != nil {
		return 0, fmt.Errorf("app: erase reporter: %w", err)
	}
	return n, nil
}
