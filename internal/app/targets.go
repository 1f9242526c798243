package app

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"alliance"
	"alliance/internal/store"
)

// maxTargetsNote bounds the note saying why the targets changed.
const maxTargetsNote = 2000

// currentTargets returns the targets in force: the latest version the
// secretariat saved, or the declaration's built-in text (version 0).
func currentTargets(ctx context.Context, tx *store.Tx) (alliance.TargetSet, error) {
	s, err := tx.CurrentTargetSet(ctx)
	if err != nil || s == nil {
		return alliance.DeclarationTargetSet(), err
	}
	return *s, nil
}

// checkGoal returns a field error on "goal" unless code is a goal of the
// targets in force.
func checkGoal(ctx context.Context, tx *store.Tx, code string) error {
	s, err := currentTargets(ctx, tx)
	if err != nil {
		return err
	}
	if _, ok := s.Goal(code); !ok {
		return alliance.FieldErrorf("goal", "Unknown goal %q; the goals are %s.", code, strings.Join(s.GoalCodes(), ", "))
	}
	return nil
}

// TargetSet returns the targets and goals in force (any signed-in user):
// the secretariat's latest version, or version 0, the 2012 declaration's
// text, when it has saved none.
func (a *App) TargetSet(ctx context.Context) (alliance.TargetSet, error) {
	if alliance.ActorFromContext(ctx).Anonymous() {
		return alliance.TargetSet{}, alliance.Errorf(alliance.EUNAUTHORIZED, "Authentication required.")
	}
	var s alliance.TargetSet
	err := a.db.InReadTx(ctx, func(tx *store.Tx) (err error) {
		s, err = currentTargets(ctx, tx)
		return err
	})
	if err != nil {
		return alliance.TargetSet{}, fmt.Errorf("app: targets: %w", err)
	}
	return s, nil
}

// TargetSetHistory returns every version of the targets, newest first and
// ending with version 0, the declaration's text (any signed-in user).
func (a *App) TargetSetHistory(ctx context.Context) ([]alliance.TargetSet, error) {
	if alliance.ActorFromContext(ctx).Anonymous() {
		return nil, alliance.Errorf(alliance.EUNAUTHORIZED, "Authentication required.")
	}
	var out []alliance.TargetSet
	err := a.db.InReadTx(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.TargetSetVersions(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: target versions: %w", err)
	}
	return append(out, alliance.DeclarationTargetSet()), nil
}

// PutTargets saves a new version of the targets and goals (the
// secretariat), with a note saying why they change, and returns it. The
// four targets stay; titles, goal texts and indicators may change and
// goals may be added, but no goal of the version in force may go, since
// commitments and progress updates refer to goals by code. Errors name
// the field, e.g. targets[1].goals[0].text. Targets equal to those in
// force save nothing and return the version in force, so that a repeated
// request does not make a new version.
func (a *App) PutTargets(ctx context.Context, targets []alliance.Target, note string) (alliance.TargetSet, error) {
	actor, err := require(ctx, alliance.PermEditTargets)
	if err != nil {
		return alliance.TargetSet{}, err
	}
	next := cleanTargets(targets)
	if err := alliance.CheckTargets(next); err != nil {
		return alliance.TargetSet{}, err
	}
	note = strings.TrimSpace(note)
	if note == "" {
		return alliance.TargetSet{}, alliance.FieldErrorf("note", "Say why the targets change.")
	}
	if err := checkText("note", note, maxTargetsNote); err != nil {
		return alliance.TargetSet{}, err
	}
	var out alliance.TargetSet
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		prev, err := currentTargets(ctx, tx)
		if err != nil {
			return err
		}
		if err := alliance.CheckTargetsSuccessor(prev.Targets, next); err != nil {
			return err
		}
		if sameTargets(prev.Targets, next) {
			out = prev
			return nil
		}
		out = alliance.TargetSet{Version: prev.Version + 1, Label: alliance.TargetSetLabel(prev.Version + 1), Targets: next,
			Note: note, By: actor.Label()}
		if err := tx.AddTargetSet(ctx, &out); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "targets.put", "target_set", strconv.Itoa(out.Version)))
	})
	if err != nil {
		return alliance.TargetSet{}, fmt.Errorf("app: put targets: %w", err)
	}
	return out, nil
}

// cleanTargets returns a copy of ts with its texts, codes and indicator
// keys trimmed of surrounding space, and no empty indicator lists.
func cleanTargets(ts []alliance.Target) []alliance.Target {
	out := alliance.CloneTargets(ts)
	for i := range out {
		t := &out[i]
		t.Title = strings.TrimSpace(t.Title)
		for j := range t.Goals {
			g := &t.Goals[j]
			g.Code, g.Text = strings.TrimSpace(g.Code), strings.TrimSpace(g.Text)
			for k := range g.Indicators {
				g.Indicators[k] = strings.TrimSpace(g.Indicators[k])
			}
			if len(g.Indicators) == 0 {
				g.Indicators = nil
			}
		}
	}
	return out
}

// sameTargets reports whether two sets of targets say the same.
func sameTargets(x, y []alliance.Target) bool {
	return slices.EqualFunc(x, y, func(a, b alliance.Target) bool {
		return a.Number == b.Number && a.Title == b.Title && slices.EqualFunc(a.Goals, b.Goals, func(g, h alliance.Goal) bool {
			return g.Code == h.Code && g.Text == h.Text && slices.Equal(g.Indicators, h.Indicators)
		})
	})
}
