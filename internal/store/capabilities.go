package store

import (
	"context"
	"fmt"

	"alliance"
)

// PutCapabilityAssessment sets a country's maturity level in a capability,
// replacing an earlier one; it sets a.UpdatedAt to the transaction's time.
func (tx *Tx) PutCapabilityAssessment(ctx context.Context, a *alliance.CapabilityAssessment) error {
	_, err := tx.exec(ctx, `INSERT INTO capability_assessments (country, capability, level, note, updated_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (country, capability) DO UPDATE SET level = excluded.level, note = excluded.note,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		a.Country, a.Capability, a.Level, a.Note, a.UpdatedBy, tx.timeArg(tx.now))
	a.UpdatedAt = tx.now
	return wrapErr(err, fmt.Sprintf("put capability assessment %s %s", a.Country, a.Capability), errMsgs{})
}

// CapabilityAssessments returns a country's capability assessments by
// capability code.
func (tx *Tx) CapabilityAssessments(ctx context.Context, country string) ([]alliance.CapabilityAssessment, error) {
	return tx.capabilityAssessments(ctx, "capability assessments of "+country,
		`SELECT country, capability, level, note, updated_by, updated_at FROM capability_assessments
		WHERE country = $1 ORDER BY capability`, country)
}

// AllCapabilityAssessments returns every country's capability assessments
// by country and capability code.
func (tx *Tx) AllCapabilityAssessments(ctx context.Context) ([]alliance.CapabilityAssessment, error) {
	return tx.capabilityAssessments(ctx, "all capability assessments",
		`SELECT country, capability, level, note, updated_by, updated_at FROM capability_assessments
		ORDER BY country, capability`)
}

func (tx *Tx) capabilityAssessments(ctx context.Context, op, query string, args ...any) ([]alliance.CapabilityAssessment, error) {
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.CapabilityAssessment
	for rows.Next() {
		var a alliance.CapabilityAssessment
		if err := rows.Scan(&a.Country, &a.Capability, &a.Level, &a.Note, &a.UpdatedBy, scanTime(&a.UpdatedAt)); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		out = append(out, a)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}
