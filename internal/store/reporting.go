package store

import (
	"context"
	"encoding/json"
	"fmt"

	"alliance"
)

// PutCommitment sets a country's baseline under a goal, creating the
// commitment if needed, and returns its id.
func (tx *Tx) PutCommitment(ctx context.Context, c *alliance.Commitment) (int64, error) {
	var id int64
	err := tx.queryRow(ctx, `INSERT INTO commitments (country, goal, baseline, baseline_date, updated_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (country, goal) DO UPDATE SET baseline = excluded.baseline, baseline_date = excluded.baseline_date,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at
		RETURNING id`, c.Country, c.Goal, c.Baseline, c.BaselineDate, c.UpdatedBy, tx.timeArg(tx.now)).Scan(&id)
	return id, wrapErr(err, fmt.Sprintf("put commitment %s %s", c.Country, c.Goal), errMsgs{})
}

// AddCommitmentAction adds an action to a commitment.
func (tx *Tx) AddCommitmentAction(ctx context.Context, commitmentID int64, a *alliance.CommitmentAction) error {
	err := tx.queryRow(ctx, `INSERT INTO commitment_actions (commitment_id, description, owner_org, due_date, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, commitmentID, a.Description, a.OwnerOrg, a.Due, a.Status,
		tx.timeArg(tx.now)).Scan(&a.ID)
	a.CreatedAt = tx.now
	return wrapErr(err, "add commitment action", errMsgs{})
}

// SetActionStatus changes the status of action id of commitment
// commitmentID; false when the commitment has no such action.
func (tx *Tx) SetActionStatus(ctx context.Context, commitmentID, id int64, status string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE commitment_actions SET status = $1 WHERE id = $2 AND commitment_id = $3`, status, id, commitmentID)
	if err != nil {
		return false, wrapErr(err, fmt.Sprintf("set status of action %d", id), errMsgs{})
	}
	n, err := res.RowsAffected()
	return n == 1, wrapErr(err, fmt.Sprintf("set status of action %d", id), errMsgs{})
}

// AddProgress records a progress update.
func (tx *Tx) AddProgress(ctx context.Context, country string, p *alliance.ProgressUpdate) error {
	vals, err := json.Marshal(p.Values)
	if err != nil {
		return fmt.Errorf("store: add progress: %w", err)
	}
	ev, err := json.Marshal(p.Evidence)
	if err != nil {
		return fmt.Errorf("store: add progress: %w", err)
	}
	err = tx.queryRow(ctx, `INSERT INTO progress_updates (country, goal, period, narrative, vals, evidence, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, country, p.Goal, p.Period, p.Narrative, string(vals), string(ev),
		p.By, tx.timeArg(tx.now)).Scan(&p.ID)
	p.At = tx.now
	return wrapErr(err, "add progress update", errMsgs{})
}

// Commitments returns a country's commitments with their actions and
// progress updates, by goal.
func (tx *Tx) Commitments(ctx context.Context, country string) ([]alliance.Commitment, error) {
	const op = "commitments"
	rows, err := tx.query(ctx, `SELECT id, goal, baseline, baseline_date, updated_by, updated_at FROM commitments
		WHERE country = $1 ORDER BY goal`, country)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	var (
		out []alliance.Commitment
		ids []int64
	)
	for rows.Next() {
		var (
			c  = alliance.Commitment{Country: country}
			id int64
		)
		if err := rows.Scan(&id, &c.Goal, &c.Baseline, &c.BaselineDate, &c.UpdatedBy, scanTime(&c.UpdatedAt)); err != nil {
			rows.Close()
			return nil, wrapErr(err, op, errMsgs{})
		}
		out, ids = append(out, c), append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	for i, id := range ids {
		ar, err := tx.query(ctx, `SELECT id, description, owner_org, due_date, status, created_at FROM commitment_actions
			WHERE commitment_id = $1 ORDER BY id`, id)
		if err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		for ar.Next() {
			var a alliance.CommitmentAction
			if err := ar.Scan(&a.ID, &a.Description, &a.OwnerOrg, &a.Due, &a.Status, scanTime(&a.CreatedAt)); err != nil {
				ar.Close()
				return nil, wrapErr(err, op, errMsgs{})
			}
			out[i].Actions = append(out[i].Actions, a)
		}
		ar.Close()
	}
	pr, err := tx.query(ctx, `SELECT id, goal, period, narrative, vals, evidence, created_by, created_at FROM progress_updates
		WHERE country = $1 ORDER BY period, id`, country)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer pr.Close()
	for pr.Next() {
		var (
			p              alliance.ProgressUpdate
			vals, evidence string
		)
		if err := pr.Scan(&p.ID, &p.Goal, &p.Period, &p.Narrative, &vals, &evidence, &p.By, scanTime(&p.At)); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		if err := json.Unmarshal([]byte(vals), &p.Values); err != nil {
			return nil, fmt.Errorf("store: %s: %w", op, err)
		}
		if err := json.Unmarshal([]byte(evidence), &p.Evidence); err != nil {
			return nil, fmt.Errorf("store: %s: %w", op, err)
		}
		i := -1
		for k := range out {
			if out[k].Goal == p.Goal {
				i = k
			}
		}
		if i < 0 {
			out = append(out, alliance.Commitment{Country: country, Goal: p.Goal})
			i = len(out) - 1
		}
		out[i].Progress = append(out[i].Progress, p)
	}
	return out, wrapErr(pr.Err(), op, errMsgs{})
}

// AddUpdateRequest records the secretariat's request for updates.
func (tx *Tx) AddUpdateRequest(ctx context.Context, r *alliance.UpdateRequest) error {
	_, err := tx.exec(ctx, `INSERT INTO update_requests (country, period, deadline, note, requested_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.Country, r.Period, r.Deadline, r.Note, r.By, tx.timeArg(tx.now))
	r.At = tx.now
	return wrapErr(err, "add update request", errMsgs{})
}

// UpdateRequests returns a country's requests for updates, newest first.
func (tx *Tx) UpdateRequests(ctx context.Context, country string) ([]alliance.UpdateRequest, error) {
	rows, err := tx.query(ctx, `SELECT country, period, deadline, note, requested_by, created_at FROM update_requests
		WHERE country = $1 ORDER BY id DESC`, country)
	if err != nil {
		return nil, wrapErr(err, "update requests", errMsgs{})
	}
	defer rows.Close()
	var out []alliance.UpdateRequest
	for rows.Next() {
		var r alliance.UpdateRequest
		if err := rows.Scan(&r.Country, &r.Period, &r.Deadline, &r.Note, &r.By, scanTime(&r.At)); err != nil {
			return nil, wrapErr(err, "update requests", errMsgs{})
		}
		out = append(out, r)
	}
	return out, wrapErr(rows.Err(), "update requests", errMsgs{})
}
