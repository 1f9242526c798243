package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"alliance"
	"alliance/internal/store"
)

// maxCapabilityNote bounds the note of a capability assessment.
const maxCapabilityNote = 2000

// Capabilities returns the national capabilities of the node's list
// (Options.Capabilities, by default the Model National Response's) in
// their order. The maturity levels are alliance.CapabilityLevels.
func (a *App) Capabilities() []alliance.Capability { return slices.Clone(a.capabilities) }

// capability returns the capability of the node's list with the code.
func (a *App) capability(code string) (alliance.Capability, bool) {
	for _, c := range a.capabilities {
		if c.Code == code {
			return c, true
		}
	}
	return alliance.Capability{}, false
}

// CapabilityInput is a country's maturity level in one capability.
type CapabilityInput struct {
	Capability string // code, e.g. MNR-01
	Level      int    // 0 (not started) to alliance.MaxCapabilityLevel
	Note       string
}

// CapabilityAssessments returns a country's capability self-assessment,
// by capability code (its own users and the secretariat). Capabilities it
// has not assessed are absent.
func (a *App) CapabilityAssessments(ctx context.Context, cc string) ([]alliance.CapabilityAssessment, error) {
	cc, err := checkCountry(cc)
	if err != nil {
		return nil, err
	}
	var out []alliance.CapabilityAssessment
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		if err := countryAccess(ctx, tx, cc, false); err != nil {
			return err
		}
		out, err = tx.CapabilityAssessments(ctx, cc)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: capability assessments of %s: %w", cc, err)
	}
	return out, nil
}

// PutCapabilityAssessments records a country's maturity levels in the
// capabilities given, all or none (the country's own users), and returns
// the country's whole self-assessment. Errors name the field, e.g.
// capabilities[2].level.
func (a *App) PutCapabilityAssessments(ctx context.Context, cc string, in []CapabilityInput) ([]alliance.CapabilityAssessment, error) {
	cc, err := checkCountry(cc)
	if err != nil {
		return nil, err
	}
	actor := alliance.ActorFromContext(ctx)
	var out []alliance.CapabilityAssessment
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := countryAccess(ctx, tx, cc, true); err != nil {
			return err
		}
		as, err := a.checkCapabilityInputs(cc, actor.Label(), in)
		if err != nil {
			return err
		}
		codes := make([]string, 0, len(as))
		for i := range as {
			if err := tx.PutCapabilityAssessment(ctx, &as[i]); err != nil {
				return err
			}
			codes = append(codes, as[i].Capability)
		}
		if err := tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "capabilities.put", "country",
			cc+" "+strings.Join(codes, ","))); err != nil {
			return err
		}
		out, err = tx.CapabilityAssessments(ctx, cc)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: put capability assessments of %s: %w", cc, err)
	}
	return out, nil
}

// checkCapabilityInputs validates in against the node's capabilities.
func (a *App) checkCapabilityInputs(cc, by string, in []CapabilityInput) ([]alliance.CapabilityAssessment, error) {
	if len(in) == 0 {
		return nil, alliance.FieldErrorf("capabilities", "Give the level of at least one capability.")
	}
	if len(in) > len(a.capabilities) {
		return nil, alliance.FieldErrorf("capabilities", "At most %d capabilities, each once.", len(a.capabilities))
	}
	out := make([]alliance.CapabilityAssessment, 0, len(in))
	seen := make(map[string]int, len(in))
	for i, ci := range in {
		field := fmt.Sprintf("capabilities[%d]", i)
		code := strings.ToUpper(strings.TrimSpace(ci.Capability))
		if _, ok := a.capability(code); !ok {
			return nil, alliance.FieldErrorf(field+".capability", "Unknown capability %q; GET /api/v1/capabilities lists them (e.g. %s).",
				ci.Capability, a.capabilities[0].Code)
		}
		if j, ok := seen[code]; ok {
			return nil, alliance.FieldErrorf(field+".capability", "Capability %s is also capabilities[%d].", code, j)
		}
		seen[code] = i
		if ci.Level < 0 || ci.Level > alliance.MaxCapabilityLevel {
			return nil, alliance.FieldErrorf(field+".level", "The level is a whole number from 0 (not started) to %d.", alliance.MaxCapabilityLevel)
		}
		note := strings.TrimSpace(ci.Note)
		if err := checkText(field+".note", note, maxCapabilityNote); err != nil {
			return nil, err
		}
		out = append(out, alliance.CapabilityAssessment{Country: cc, Capability: code, Level: ci.Level, Note: note, UpdatedBy: by})
	}
	return out, nil
}

// AllCapabilityAssessments returns every country's capability
// self-assessment by country code (the secretariat), for the alliance's
// dashboard. Countries that assessed nothing are absent.
func (a *App) AllCapabilityAssessments(ctx context.Context) (map[string][]alliance.CapabilityAssessment, error) {
	if _, err := require(ctx, alliance.PermViewAllCountries); err != nil {
		return nil, err
	}
	out := map[string][]alliance.CapabilityAssessment{}
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		all, err := tx.AllCapabilityAssessments(ctx)
		for _, x := range all {
			out[x.Country] = append(out[x.Country], x)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: all capability assessments: %w", err)
	}
	return out, nil
}
