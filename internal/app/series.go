package app

import (
	"context"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"alliance"
	"alliance/internal/notify"
	"alliance/internal/store"
)

// SeriesInput is a new series, or new values of a series' fields.
type SeriesInput struct {
	Code           string
	Refs           string
	Status         string // "" is unidentified for a new series
	DoNotDuplicate bool
	Contact        string
	Notes          string
}

// CreateSeries adds a series owned by the actor's police organisation
// (PermManageSeries). A code in use is ECONFLICT.
func (a *App) CreateSeries(ctx context.Context, in SeriesInput) (alliance.Series, error) {
	actor, err := require(ctx, alliance.PermManageSeries)
	if err != nil {
		return alliance.Series{}, err
	}
	s := alliance.Series{Code: in.Code, Refs: strings.TrimSpace(in.Refs), Status: alliance.SeriesStatus(in.Status),
		DoNotDuplicate: in.DoNotDuplicate, Contact: strings.TrimSpace(in.Contact), Notes: in.Notes, OwnerOrg: actor.OrgCode}
	if err := alliance.ValidateSeries(&s); err != nil {
		return alliance.Series{}, err
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertSeries(ctx, &s, actor.OrgID); err != nil {
			return err
		}
		if err := a.shareSeries(ctx, tx, s); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "series.create", "series", s.Code))
	})
	if err != nil {
		return alliance.Series{}, fmt.Errorf("app: create series: %w", err)
	}
	return s, nil
}

// ownSeries returns a series the actor's organisation owns; a series of
// another owner is EFORBIDDEN, an unknown one ENOTFOUND.
func ownSeries(ctx context.Context, tx *store.Tx, actor alliance.Actor, code string) (alliance.Series, error) {
	s, err := tx.SeriesByCode(ctx, strings.TrimSpace(code))
	if err != nil {
		return alliance.Series{}, err
	}
	if !actor.System && s.OwnerOrg != actor.OrgCode {
		return alliance.Series{}, alliance.Errorf(alliance.EFORBIDDEN, "Series %s is owned by %s, which changes it.", s.Code, s.OwnerOrg)
	}
	return s, nil
}

// SetSeriesStatus changes the status of a series the actor's organisation
// owns. Going back needs a reason; the change is recorded with its time.
func (a *App) SetSeriesStatus(ctx context.Context, code, status, reason string) (alliance.Series, error) {
	actor, err := require(ctx, alliance.PermManageSeries)
	if err != nil {
		return alliance.Series{}, err
	}
	to := alliance.SeriesStatus(status)
	reason = strings.TrimSpace(reason)
	if len(reason) > alliance.MaxLinkReason {
		return alliance.Series{}, alliance.FieldErrorf("reason", "The reason is at most %d characters.", alliance.MaxLinkReason)
	}
	var s alliance.Series
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if s, err = ownSeries(ctx, tx, actor, code); err != nil {
			return err
		}
		if err := alliance.CheckSeriesChange(s.Status, to, reason); err != nil {
			return err
		}
		if s.Status == to {
			return nil
		}
		if err := tx.SetSeriesStatus(ctx, s, to, actor.UserID, actor.Label(), reason); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "series.status", "series", s.Code)); err != nil {
			return err
		}
		if s, err = tx.SeriesByCode(ctx, s.Code); err != nil {
			return err
		}
		return a.shareSeries(ctx, tx, s)
	})
	if err != nil {
		return alliance.Series{}, fmt.Errorf("app: set status of series %q: %w", code, err)
	}
	return s, nil
}

// UpdateSeries sets the references, do-not-duplicate flag, contact point
// and notes of a series the actor's organisation owns.
func (a *App) UpdateSeries(ctx context.Context, code string, in SeriesInput) (alliance.Series, error) {
	actor, err := require(ctx, alliance.PermManageSeries)
	if err != nil {
		return alliance.Series{}, err
	}
	var s alliance.Series
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if s, err = ownSeries(ctx, tx, actor, code); err != nil {
			return err
		}
		s.Refs, s.DoNotDuplicate, s.Contact, s.Notes = strings.TrimSpace(in.Refs), in.DoNotDuplicate, strings.TrimSpace(in.Contact), in.Notes
		if err := alliance.ValidateSeries(&s); err != nil {
			return err
		}
		if err := tx.UpdateSeries(ctx, s); err != nil {
			return err
		}
		if err := a.shareSeries(ctx, tx, s); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "series.update", "series", s.Code))
	})
	if err != nil {
		return alliance.Series{}, fmt.Errorf("app: update series %q: %w", code, err)
	}
	return s, nil
}

// Series returns a series with its history (PermViewSeries: police and
// the secretariat), as an audited read. Notes are police-only: they are
// blanked for other roles.
func (a *App) Series(ctx context.Context, code string) (alliance.Series, error) {
	actor, err := require(ctx, alliance.PermViewSeries)
	if err != nil {
		return alliance.Series{}, err
	}
	var s alliance.Series
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if s, err = tx.SeriesByCode(ctx, strings.TrimSpace(code)); err != nil {
			return err
		}
		if s.History, err = tx.SeriesHistory(ctx, s.ID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "series.read", "series", s.Code))
	})
	if err != nil {
		return alliance.Series{}, fmt.Errorf("app: series %q: %w", code, err)
	}
	redactSeries(actor, &s)
	return s, nil
}

// redactSeries blanks what a role may not see of a series.
func redactSeries(actor alliance.Actor, s *alliance.Series) {
	if !actor.System && actor.Role != alliance.RolePolice {
		s.Notes = ""
	}
}

// ListSeries lists series, most recently changed first (PermViewSeries), of
// one owner when owner is not "", as an audited read.
func (a *App) ListSeries(ctx context.Context, owner string, limit int) ([]alliance.Series, error) {
	actor, err := require(ctx, alliance.PermViewSeries)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	var out []alliance.Series
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if out, err = tx.ListSeries(ctx, strings.ToUpper(strings.TrimSpace(owner)), limit); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "series.list", "series", owner))
	})
	if err != nil {
		return nil, fmt.Errorf("app: list series: %w", err)
	}
	for i := range out {
		redactSeries(actor, &out[i])
	}
	return out, nil
}

// LinkItem links an item the actor may see to a series by hand, with a
// reason (PermManageSeries). A new link to a series not yet identified
// raises an alert for its owner, as an automatic one does.
func (a *App) LinkItem(ctx context.Context, itemID int64, code, reason string) error {
	return a.linkByHand(ctx, itemID, code, reason, true)
}

// UnlinkItem removes an item's link to a series, with a reason.
func (a *App) UnlinkItem(ctx context.Context, itemID int64, code, reason string) error {
	return a.linkByHand(ctx, itemID, code, reason, false)
}

func (a *App) linkByHand(ctx context.Context, itemID int64, code, reason string, link bool) error {
	actor, err := require(ctx, alliance.PermManageSeries)
	if err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return alliance.FieldErrorf("reason", "Linking or unlinking by hand needs a reason.")
	case len(reason) > alliance.MaxLinkReason:
		return alliance.FieldErrorf("reason", "The reason is at most %d characters.", alliance.MaxLinkReason)
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		it, err := visibleItem(ctx, tx, actor, itemID)
		if err != nil {
			return err
		}
		s, err := tx.SeriesByCode(ctx, strings.TrimSpace(code))
		if err != nil {
			return err
		}
		action := "series.link"
		if link {
			created, err := tx.LinkItemSeries(ctx, it.ID, s.ID, 0, true, reason, actor.Label())
			if err != nil {
				return err
			}
			if created {
				if err := a.alertOwner(ctx, tx, it, s); err != nil {
					return err
				}
			}
		} else {
			action = "series.unlink"
			if err := tx.UnlinkItemSeries(ctx, it.ID, s.ID); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, action, "item", strconv.FormatInt(it.ID, 10)))
	})
	if err != nil {
		return fmt.Errorf("app: link item %d to series %q: %w", itemID, code, err)
	}
	return nil
}

// alertOwner tells a series' owner that its material surfaced at an item,
// unless the series is identified: merged with the owner's alert of the
// same series and host within alliance.AlertWindow.
func (a *App) alertOwner(ctx context.Context, tx *store.Tx, it alliance.Item, s alliance.Series) error {
	if s.Status.Identified() {
		return nil
	}
	owner, err := tx.OrganisationByCode(ctx, s.OwnerOrg)
	if err != nil {
		return err
	}
	al := alliance.SeriesAlert{SeriesID: s.ID, ItemID: it.ID, URL: it.URL, Host: it.Host}
	if it.Trace != nil {
		al.Country = it.Trace.Country
	}
	// The contact point gets the alert by e-mail too when it is an address.
	to := ""
	if addr, err := mail.ParseAddress(s.Contact); err == nil {
		to = addr.Address
	}
	if _, err := tx.RaiseAlert(ctx, &al, owner.ID, alliance.AlertWindow, to); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, auditFor(ctx, s.OwnerOrg, "series.alert", "series", s.Code))
}

// linkMatchedSeries links a fetched item to the series of the bank entries
// its media matched, raising alerts for new links to series not yet
// identified. It runs in the fetch's recording transaction.
func (a *App) linkMatchedSeries(ctx context.Context, tx *store.Tx, o store.FetchOutcome) error {
	dist := map[int64]int{}
	for _, m := range o.Media {
		for _, mm := range m.Matches {
			if mm.Series == "" {
				continue
			}
			if d, ok := dist[mm.EntryID]; !ok || mm.Distance < d {
				dist[mm.EntryID] = mm.Distance
			}
		}
	}
	links, err := tx.SeriesOfEntries(ctx, dist)
	if err != nil || len(links) == 0 {
		return err
	}
	it, err := tx.ItemByID(ctx, o.Claim.ItemID)
	if err != nil {
		return err
	}
	for _, l := range links {
		created, err := tx.LinkItemSeries(ctx, it.ID, l.SeriesID, l.Distance, false, "", "system")
		if err != nil {
			return err
		}
		if !created {
			continue
		}
		s, err := tx.SeriesByCode(ctx, l.Code)
		if err != nil {
			return err
		}
		if err := a.alertOwner(ctx, tx, it, s); err != nil {
			return err
		}
	}
	return nil
}

// Alerts returns the alerts of the actor's organisation, newest first
// (PermViewSeries).
func (a *App) Alerts(ctx context.Context, limit int) ([]alliance.SeriesAlert, error) {
	actor, err := require(ctx, alliance.PermViewSeries)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []alliance.SeriesAlert
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		out, err = tx.Alerts(ctx, actor.OrgID, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: alerts: %w", err)
	}
	return out, nil
}

// MarkAlertRead marks an alert of the actor's organisation read.
func (a *App) MarkAlertRead(ctx context.Context, id int64) error {
	actor, err := require(ctx, alliance.PermViewSeries)
	if err != nil {
		return err
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error { return tx.MarkAlertRead(ctx, actor.OrgID, id) })
	if err != nil {
		return fmt.Errorf("app: mark alert %d read: %w", id, err)
	}
	return nil
}

// DeconflictQuery asks about one item, one hash or one series.
type DeconflictQuery struct {
	ItemID    int64
	Algorithm string // with Hash
	Hash      string
	Series    string
}

// Deconflict answers "has this been found or identified elsewhere?" for an
// item the actor may see, a hash (looked up in the banks the actor's
// organisation may use) or a series: stand down, coordinate, or new
// material. Analysts learn the answer and the owning agencies; police and
// the secretariat also the series. Every answer is an audited read.
func (a *App) Deconflict(ctx context.Context, q DeconflictQuery) (alliance.Deconfliction, error) {
	actor := alliance.ActorFromContext(ctx)
	if !actor.Can(alliance.PermViewSeries) {
		if _, err := require(ctx, alliance.PermViewReports); err != nil {
			return alliance.Deconfliction{}, err
		}
	}
	var err error
	given := 0
	for _, set := range []bool{q.ItemID != 0, q.Hash != "", q.Series != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		return alliance.Deconfliction{}, alliance.FieldErrorf("item", "Ask about exactly one of item, hash or series.")
	}
	var links []alliance.SeriesLink
	if q.Hash != "" {
		res, err := a.Match(ctx, []MatchQuery{{Algorithm: q.Algorithm, Value: q.Hash}})
		if err != nil {
			return alliance.Deconfliction{}, err
		}
		dist := map[int64]int{}
		for _, m := range res[0].Matches {
			if m.Series != "" {
				dist[m.EntryID] = m.Distance
			}
		}
		err = a.db.InTx(ctx, func(tx *store.Tx) error {
			if links, err = tx.SeriesOfEntries(ctx, dist); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "deconflict.hash", "hash", res[0].Value))
		})
		if err != nil {
			return alliance.Deconfliction{}, fmt.Errorf("app: deconflict: %w", err)
		}
	} else {
		err = a.db.InTx(ctx, func(tx *store.Tx) error {
			if q.ItemID != 0 {
				it, err := visibleItem(ctx, tx, actor, q.ItemID)
				if err != nil {
					return err
				}
				if links, err = tx.ItemSeries(ctx, it.ID); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "deconflict.item", "item", strconv.FormatInt(it.ID, 10)))
			}
			s, err := tx.SeriesByCode(ctx, strings.TrimSpace(q.Series))
			if err != nil {
				return err
			}
			links = []alliance.SeriesLink{{SeriesID: s.ID, Code: s.Code, Owner: s.OwnerOrg, Status: s.Status, DoNotDup: s.DoNotDuplicate}}
			return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "deconflict.series", "series", s.Code))
		})
		if err != nil {
			return alliance.Deconfliction{}, fmt.Errorf("app: deconflict: %w", err)
		}
	}
	d := alliance.Decide(links)
	if !actor.Can(alliance.PermViewSeries) {
		// Analysts get the answer and whom to ask, not the series.
		for i := range d.Series {
			d.Series[i] = alliance.SeriesLink{Owner: d.Series[i].Owner, Status: d.Series[i].Status, DoNotDup: d.Series[i].DoNotDup}
		}
	}
	return d, nil
}

// syncBankSeries creates the series a bank's entries name (VICS Series)
// and marks them identified where an entry says its victim is
// (VictimIdentified), so that an import brings the deconfliction answer
// with it. New series are owned by the bank's owner when it is a police
// organisation, else by the police of its country; where there is none,
// the series waits for a police organisation to create it. A series is
// never moved back by an import.
func (a *App) syncBankSeries(ctx context.Context, tx *store.Tx, b alliance.Bank) error {
	named, err := tx.BankSeries(ctx, b.ID)
	if err != nil || len(named) == 0 {
		return err
	}
	owner, err := tx.OrganisationByCode(ctx, b.OwnerOrg)
	if err != nil {
		return err
	}
	police := owner
	if owner.Kind != alliance.OrgPolice {
		if police, err = tx.OrganisationByCode(ctx, alliance.PoliceCode(owner.CountryCode)); alliance.ErrorCode(err) == alliance.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
	}
	for _, n := range named {
		s, err := tx.SeriesByCode(ctx, n.Code)
		switch {
		case alliance.ErrorCode(err) == alliance.ENOTFOUND:
			s = alliance.Series{Code: n.Code, Status: alliance.SeriesUnidentified,
				Refs: "From bank " + b.OwnerOrg + "/" + b.Name, Contact: police.Code}
			if n.Identified {
				s.Status = alliance.SeriesIdentified
			}
			if err := alliance.ValidateSeries(&s); err != nil {
				continue // a code no series can have: the entries keep it as text
			}
			if err := tx.InsertSeries(ctx, &s, police.ID); err != nil {
				return err
			}
			if err := a.shareSeries(ctx, tx, s); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, auditFor(ctx, police.Code, "series.create", "series", s.Code)); err != nil {
				return err
			}
		case err != nil:
			return err
		case n.Identified && !s.Status.Identified():
			if err := tx.SetSeriesStatus(ctx, s, alliance.SeriesIdentified, 0, "system",
				"Bank "+b.OwnerOrg+"/"+b.Name+" marks its victim identified."); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, auditFor(ctx, s.OwnerOrg, "series.status", "series", s.Code)); err != nil {
				return err
			}
		}
	}
	return nil
}

// SeriesFigures are the victim-identification figures per country (of the
// owning agency) and year: new series, series identified, the median time
// from first sighting to identification, and the growth of identifications
// against the year before (target 1: +10% a year). They need
// PermViewSeries; they hold counts only.
func (a *App) SeriesFigures(ctx context.Context) ([]alliance.SeriesYear, error) {
	if _, err := require(ctx, alliance.PermViewSeries); err != nil {
		return nil, err
	}
	var samples []alliance.SeriesSample
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		samples, err = tx.SeriesSamples(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: series figures: %w", err)
	}
	return alliance.ComputeSeriesYears(samples), nil
}

// deliverAlertMails e-mails due alerts to their series' contact points
// through the notice sender, with the notices' retry policy. It returns
// how many it handled.
func (a *App) deliverAlertMails(ctx context.Context, limit int) (int, error) {
	var mails []store.AlertMail
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		mails, err = tx.ClaimAlertMails(ctx, limit, noticeLease)
		return err
	})
	if err != nil || len(mails) == 0 {
		return 0, err
	}
	for _, m := range mails {
		where := m.Host
		if m.Country != "" {
			where += ", hosted in " + alliance.CountryName(m.Country) + " (" + m.Country + ")"
		}
		n := notify.Notice{ID: fmt.Sprintf("alert-%d", m.ID), Channel: notify.ChannelEmail, To: m.To, From: a.takedown.From,
			Subject: "Series " + m.SeriesCode + ": material surfaced at " + m.Host,
			Body: fmt.Sprintf("Material of series %s, which is not identified yet, surfaced on %s.\n\nAddress: %s\nWhere: %s\nItem: %d on this node\n\n"+
				"Sightings of this series on this host within a day are merged into this alert; see the node's alerts.\n",
				m.SeriesCode, m.FirstAt.UTC().Format(time.RFC1123), m.URL, where, m.ItemID)}
		sendErr := a.takedown.Sender.Send(ctx, n)
		err := a.db.InTx(ctx, func(tx *store.Tx) error {
			if sendErr == nil {
				return tx.RecordAlertMail(ctx, m, true, "", time.Time{})
			}
			var retry time.Time
			if !notify.Permanent(sendErr) && m.Attempts+1 < MaxNoticeAttempts {
				retry = tx.Now().Add(backoff(noticeBackoffBase, noticeBackoffMax, m.Attempts+1))
			}
			return tx.RecordAlertMail(ctx, m, false, deliveryError(sendErr), retry)
		})
		if err != nil {
			return 0, err
		}
	}
	return len(mails), nil
}
