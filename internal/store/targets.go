package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"alliance"
)

// targetJSON and goalJSON are the stored form of a target set's body, kept
// apart from the domain types so that renaming a Go field does not change
// what is stored.
type targetJSON struct {
	Number int        `json:"number"`
	Title  string     `json:"title"`
	Goals  []goalJSON `json:"goals"`
}

type goalJSON struct {
	Code       string   `json:"code"`
	Text       string   `json:"text"`
	Indicators []string `json:"indicators"`
}

func encodeTargets(ts []alliance.Target) (string, error) {
	out := make([]targetJSON, 0, len(ts))
	for _, t := range ts {
		tj := targetJSON{Number: t.Number, Title: t.Title, Goals: make([]goalJSON, 0, len(t.Goals))}
		for _, g := range t.Goals {
			ind := g.Indicators
			if ind == nil {
				ind = []string{}
			}
			tj.Goals = append(tj.Goals, goalJSON{Code: g.Code, Text: g.Text, Indicators: ind})
		}
		out = append(out, tj)
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func decodeTargets(body string) ([]alliance.Target, error) {
	var in []targetJSON
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		return nil, err
	}
	out := make([]alliance.Target, 0, len(in))
	for _, tj := range in {
		t := alliance.Target{Number: tj.Number, Title: tj.Title, Goals: make([]alliance.Goal, 0, len(tj.Goals))}
		for _, g := range tj.Goals {
			var ind []string
			if len(g.Indicators) > 0 {
				ind = g.Indicators
			}
			t.Goals = append(t.Goals, alliance.Goal{Code: g.Code, Text: g.Text, Indicators: ind})
		}
		out = append(out, t)
	}
	return out, nil
}

// AddTargetSet stores version s.Version of the targets, which must be one
// above the current version (the caller reads CurrentTargetSet in the same
// transaction); it sets s.At to the transaction's time. A version saved
// meanwhile by someone else is ECONFLICT.
func (tx *Tx) AddTargetSet(ctx context.Context, s *alliance.TargetSet) error {
	op := fmt.Sprintf("add target set %d", s.Version)
	body, err := encodeTargets(s.Targets)
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	_, err = tx.exec(ctx, `INSERT INTO target_sets (version, label, body, note, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.Version, s.Label, body, s.Note, s.By, tx.timeArg(tx.now))
	if err != nil {
		return wrapErr(err, op, errMsgs{conflict: "The targets were changed by someone else meanwhile; reload them and try again."})
	}
	s.At = tx.now
	return nil
}

// CurrentTargetSet returns the highest stored version of the targets, or
// nil when the secretariat has saved none (the declaration's built-in text
// is then in force).
func (tx *Tx) CurrentTargetSet(ctx context.Context) (*alliance.TargetSet, error) {
	const op = "current target set"
	var (
		s    alliance.TargetSet
		body string
	)
	err := tx.queryRow(ctx, `SELECT version, label, body, note, created_by, created_at FROM target_sets
		ORDER BY version DESC LIMIT 1`).Scan(&s.Version, &s.Label, &body, &s.Note, &s.By, scanTime(&s.At))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	if s.Targets, err = decodeTargets(body); err != nil {
		return nil, fmt.Errorf("store: %s: version %d: %w", op, s.Version, err)
	}
	return &s, nil
}

// TargetSetVersions returns every stored version of the targets with its
// body, newest first (the built-in version 0 is not among them).
func (tx *Tx) TargetSetVersions(ctx context.Context) ([]alliance.TargetSet, error) {
	const op = "target set versions"
	rows, err := tx.query(ctx, `SELECT version, label, body, note, created_by, created_at FROM target_sets
		ORDER BY version DESC`)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.TargetSet
	for rows.Next() {
		var (
			s    alliance.TargetSet
			body string
		)
		if err := rows.Scan(&s.Version, &s.Label, &body, &s.Note, &s.By, scanTime(&s.At)); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		if s.Targets, err = decodeTargets(body); err != nil {
			return nil, fmt.Errorf("store: %s: version %d: %w", op, s.Version, err)
		}
		out = append(out, s)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}
