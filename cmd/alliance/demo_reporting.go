package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"alliance"
	"alliance/internal/app"
)

// demoSpread returns a stable number in [0, n) for a key, so that the
// demo's synthetic reporting data differs between countries but is the
// same on every run.
func demoSpread(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// seedDemoReporting gives every founding member synthetic reporting data,
// entered as the country would: a commitment under goals 3.1 and 4.2,
// progress updates with the hand-entered awareness actions for this year
// and last, and a self-assessed level per national capability. Countries
// that already have commitments are left as they are, so a second run of
// the demo adds nothing.
func seedDemoReporting(ctx context.Context, a *app.App, now time.Time) error {
	year := now.UTC().Year()
	due := fmt.Sprintf("%d-12-31", year+1)
	statuses := []string{"planned", "in_progress", "done"}
	for _, cc := range alliance.FoundingMembers {
		cs, _, err := a.Commitments(ctx, cc)
		if err != nil {
			return fmt.Errorf("demo reporting %s: %w", cc, err)
		}
		if len(cs) > 0 {
			continue
		}
		hotline := alliance.HotlineCode(cc)
		if _, err := a.PutCommitment(ctx, cc, app.CommitmentInput{Goal: "4.2",
			Baseline:     "Demo: a notice-and-takedown procedure agreed with the national hosting industry.",
			BaselineDate: fmt.Sprintf("%d-01-01", 2013+demoSpread(cc, 3)),
			Actions: []app.ActionInput{{Description: "Demo: send notices to hosts directly within one working day.",
				OwnerOrg: hotline, Due: due, Status: statuses[demoSpread(cc+"4.2", len(statuses))]}}}); err != nil {
			return fmt.Errorf("demo commitment %s 4.2: %w", cc, err)
		}
		if _, err := a.PutCommitment(ctx, cc, app.CommitmentInput{Goal: "3.1",
			Baseline: "Demo: a national awareness programme for schools.",
			Actions: []app.ActionInput{{Description: "Demo: a campaign for parents on online risks.",
				OwnerOrg: hotline, Due: due, Status: statuses[demoSpread(cc+"3.1", len(statuses))]}}}); err != nil {
			return fmt.Errorf("demo commitment %s 3.1: %w", cc, err)
		}
		for _, y := range []int{year - 1, year} {
			n := float64(1 + demoSpread(cc+strconv.Itoa(y), 9))
			if _, err := a.AddProgress(ctx, cc, app.ProgressInput{Goal: "3.1", Period: strconv.Itoa(y),
				Narrative: "Demo: awareness sessions held in schools and a campaign for parents.",
				Values:    map[string]float64{"awareness_actions": n},
				Evidence:  []string{"https://example.org/demo/" + cc + "/" + strconv.Itoa(y)}}); err != nil {
				return fmt.Errorf("demo progress %s %d: %w", cc, y, err)
			}
		}
		var levels []app.CapabilityInput
		for _, c := range a.Capabilities() {
			levels = append(levels, app.CapabilityInput{Capability: c.Code, Level: demoSpread(cc+c.Code, alliance.MaxCapabilityLevel+1)})
		}
		if _, err := a.PutCapabilityAssessments(ctx, cc, levels); err != nil {
			return fmt.Errorf("demo capabilities %s: %w", cc, err)
		}
	}
	return nil
}
