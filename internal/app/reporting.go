package app

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"alliance"
	"alliance/internal/store"
)

// Limits on reporting input.
const (
	maxReportText = 8000
	maxEvidence   = 20
)

// countryAccess checks that the actor may see (edit false) or edit (edit
// true) country cc's reporting: a country's own users (with
// PermViewReports) edit and see it; the secretariat sees every country.
func countryAccess(ctx context.Context, tx *store.Tx, cc string, edit bool) error {
	actor := alliance.ActorFromContext(ctx)
	if actor.System {
		return nil
	}
	if !edit && actor.Can(alliance.PermViewAllCountries) {
		return nil
	}
	if _, err := require(ctx, alliance.PermViewReports); err != nil {
		return err
	}
	org, err := tx.OrganisationByCode(ctx, actor.OrgCode)
	if err != nil {
		return err
	}
	if org.CountryCode != cc {
		return alliance.Errorf(alliance.EFORBIDDEN, "%s's users report for %s only.", org.Code, org.CountryCode)
	}
	return nil
}

func checkCountry(cc string) (string, error) {
	cc = strings.ToUpper(strings.TrimSpace(cc))
	if !alliance.ValidCountryCode(cc) {
		return "", alliance.FieldErrorf("country", "Unknown country %q: give an ISO 3166-1 alpha-2 code such as SE.", cc)
	}
	return cc, nil
}

func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || utf8.RuneCountInString(s) > max {
		return alliance.FieldErrorf(field, "Text of at most %d characters.", max)
	}
	return nil
}

func checkDate(field, s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, alliance.FieldErrorf(field, "A date such as 2026-12-31, not %q.", s)
	}
	return d, nil
}

// ActionInput is a committed action to add or, with an ID, an existing
// action whose status changes.
type ActionInput struct {
	ID          int64 // 0 adds a new action
	Description string
	OwnerOrg    string
	Due         string // YYYY-MM-DD, not in the past
	Status      string // "" is planned
}

// CommitmentInput is a country's commitment under a goal: its baseline
// and actions to add.
type CommitmentInput struct {
	Goal         string
	Baseline     string
	BaselineDate string // YYYY-MM-DD or ""
	// KeepBaseline leaves the recorded baseline as it is: only actions
	// are added or changed.
	KeepBaseline bool
	Actions      []ActionInput
}

// PutCommitment records a country's baseline under a goal and adds its new
// actions (the country's own users). Errors name the field, e.g.
// actions[1].due.
func (a *App) PutCommitment(ctx context.Context, cc string, in CommitmentInput) (alliance.Commitment, error) {
	cc, err := checkCountry(cc)
	if err != nil {
		return alliance.Commitment{}, err
	}
	if err := checkText("baseline", in.Baseline, maxReportText); err != nil {
		return alliance.Commitment{}, err
	}
	if in.BaselineDate != "" {
		if _, err := checkDate("baseline_date", in.BaselineDate); err != nil {
			return alliance.Commitment{}, err
		}
	}
	actor := alliance.ActorFromContext(ctx)
	c := alliance.Commitment{Country: cc, Goal: in.Goal, Baseline: strings.TrimSpace(in.Baseline), BaselineDate: in.BaselineDate,
		UpdatedBy: actor.Label()}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := checkGoal(ctx, tx, in.Goal); err != nil {
			return err
		}
		if err := countryAccess(ctx, tx, cc, true); err != nil {
			return err
		}
		if in.KeepBaseline {
			cs, err := tx.Commitments(ctx, cc)
			if err != nil {
				return err
			}
			if i := slices.IndexFunc(cs, func(x alliance.Commitment) bool { return x.Goal == in.Goal }); i >= 0 {
				c.Baseline, c.BaselineDate = cs[i].Baseline, cs[i].BaselineDate
			}
		}
		today := tx.Now().UTC().Truncate(24 * time.Hour)
		var actions []alliance.CommitmentAction
		var changes []alliance.CommitmentAction // status of existing actions
		for i, ai := range in.Actions {
			field := fmt.Sprintf("actions[%d]", i)
			status := ai.Status
			if status == "" && ai.ID == 0 {
				status = "planned"
			}
			if !slices.Contains(alliance.ActionStatuses, status) {
				return alliance.FieldErrorf(field+".status", "Status is one of %s.", strings.Join(alliance.ActionStatuses, ", "))
			}
			if ai.ID != 0 {
				changes = append(changes, alliance.CommitmentAction{ID: ai.ID, Status: status})
				continue
			}
			desc := strings.TrimSpace(ai.Description)
			if desc == "" {
				return alliance.FieldErrorf(field+".description", "Say what the action is.")
			}
			if err := checkText(field+".description", desc, 1000); err != nil {
				return err
			}
			if _, err := tx.OrganisationByCode(ctx, strings.ToUpper(ai.OwnerOrg)); err != nil {
				return alliance.FieldErrorf(field+".owner", "Unknown organisation %q.", ai.OwnerOrg)
			}
			due, err := checkDate(field+".due", ai.Due)
			if err != nil {
				return err
			}
			if due.Before(today) {
				return alliance.FieldErrorf(field+".due", "A new action is due today or later.")
			}
			actions = append(actions, alliance.CommitmentAction{Description: desc, OwnerOrg: strings.ToUpper(ai.OwnerOrg), Due: ai.Due, Status: status})
		}
		id, err := tx.PutCommitment(ctx, &c)
		if err != nil {
			return err
		}
		for i := range actions {
			if err := tx.AddCommitmentAction(ctx, id, &actions[i]); err != nil {
				return err
			}
		}
		for _, ch := range changes {
			found, err := tx.SetActionStatus(ctx, id, ch.ID, ch.Status)
			if err != nil {
				return err
			}
			if !found {
				i := slices.IndexFunc(in.Actions, func(a ActionInput) bool { return a.ID == ch.ID })
				return alliance.FieldErrorf(fmt.Sprintf("actions[%d].id", i), "No action %d under %s's goal %s.", ch.ID, cc, in.Goal)
			}
		}
		if err := tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "commitment.put", "commitment", cc+" "+in.Goal)); err != nil {
			return err
		}
		all, err := tx.Commitments(ctx, cc)
		for _, x := range all {
			if x.Goal == in.Goal {
				c = x
			}
		}
		return err
	})
	if err != nil {
		return alliance.Commitment{}, fmt.Errorf("app: put commitment %s %s: %w", cc, in.Goal, err)
	}
	return c, nil
}

// ProgressInput is a progress update of a country on a goal for a period.
type ProgressInput struct {
	Goal      string
	Period    string
	Narrative string
	Values    map[string]float64 // manual indicators only, e.g. awareness_actions
	Evidence  []string           // links
}

// AddProgress records a country's progress update (its own users).
func (a *App) AddProgress(ctx context.Context, cc string, in ProgressInput) (alliance.ProgressUpdate, error) {
	cc, err := checkCountry(cc)
	if err != nil {
		return alliance.ProgressUpdate{}, err
	}
	p, err := alliance.ParsePeriod(in.Period)
	if err != nil {
		return alliance.ProgressUpdate{}, err
	}
	if strings.TrimSpace(in.Narrative) == "" {
		return alliance.ProgressUpdate{}, alliance.FieldErrorf("narrative", "Say what was done.")
	}
	if err := checkText("narrative", in.Narrative, maxReportText); err != nil {
		return alliance.ProgressUpdate{}, err
	}
	for k, v := range in.Values {
		d, ok := alliance.IndicatorByKey(k)
		if !ok || !d.Manual {
			return alliance.ProgressUpdate{}, alliance.FieldErrorf("values."+k, "Only manual indicators are entered by hand (awareness_actions); the others are computed.")
		}
		if v < 0 || v != float64(int64(v)) || v > 1e9 {
			return alliance.ProgressUpdate{}, alliance.FieldErrorf("values."+k, "A count: a whole number, 0 or more.")
		}
	}
	if len(in.Evidence) > maxEvidence {
		return alliance.ProgressUpdate{}, alliance.FieldErrorf("evidence", "At most %d links.", maxEvidence)
	}
	for i, e := range in.Evidence {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(e) > 2048 {
			return alliance.ProgressUpdate{}, alliance.FieldErrorf(fmt.Sprintf("evidence[%d]", i), "A link such as https://example.org/report.pdf.")
		}
	}
	actor := alliance.ActorFromContext(ctx)
	pu := alliance.ProgressUpdate{Goal: in.Goal, Period: p.Label, Narrative: strings.TrimSpace(in.Narrative), Values: in.Values,
		Evidence: in.Evidence, By: actor.Label()}
	if pu.Values == nil {
		pu.Values = map[string]float64{}
	}
	if pu.Evidence == nil {
		pu.Evidence = []string{}
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := checkGoal(ctx, tx, in.Goal); err != nil {
			return err
		}
		if err := countryAccess(ctx, tx, cc, true); err != nil {
			return err
		}
		if err := tx.AddProgress(ctx, cc, &pu); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "progress.add", "commitment", cc+" "+in.Goal))
	})
	if err != nil {
		return alliance.ProgressUpdate{}, fmt.Errorf("app: add progress %s %s: %w", cc, in.Goal, err)
	}
	return pu, nil
}

// Commitments returns a country's commitments and the secretariat's
// requests for updates (its own users and the secretariat).
func (a *App) Commitments(ctx context.Context, cc string) ([]alliance.Commitment, []alliance.UpdateRequest, error) {
	cc, err := checkCountry(cc)
	if err != nil {
		return nil, nil, err
	}
	var (
		cs  []alliance.Commitment
		rqs []alliance.UpdateRequest
	)
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		if err := countryAccess(ctx, tx, cc, false); err != nil {
			return err
		}
		if cs, err = tx.Commitments(ctx, cc); err != nil {
			return err
		}
		rqs, err = tx.UpdateRequests(ctx, cc)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("app: commitments of %s: %w", cc, err)
	}
	return cs, rqs, nil
}

// RequestUpdate asks a country for its progress updates of a period by a
// deadline (the secretariat).
func (a *App) RequestUpdate(ctx context.Context, cc, period, deadline, note string) error {
	actor, err := require(ctx, alliance.PermViewAllCountries)
	if err != nil {
		return err
	}
	if cc, err = checkCountry(cc); err != nil {
		return err
	}
	p, err := alliance.ParsePeriod(period)
	if err != nil {
		return err
	}
	if err := checkText("note", note, 2000); err != nil {
		return err
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := checkDate("deadline", deadline)
		if err != nil {
			return err
		}
		if d.Before(tx.Now().UTC().Truncate(24 * time.Hour)) {
			return alliance.FieldErrorf("deadline", "The deadline is today or later.")
		}
		r := alliance.UpdateRequest{Country: cc, Period: p.Label, Deadline: deadline, Note: strings.TrimSpace(note), By: actor.Label()}
		if err := tx.AddUpdateRequest(ctx, &r); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "update.request", "country", cc))
	})
	if err != nil {
		return fmt.Errorf("app: request update from %s: %w", cc, err)
	}
	return nil
}
