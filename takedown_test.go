package alliance

import (
	"testing"
	"time"
)

func TestTakedownMoves(t *testing.T) {
	// The lifecycle of the issue, step by step, is allowed.
	path := []TakedownStatus{TakedownNone, TakedownAssessed, TakedownPoliceNotified, TakedownPoliceHold,
		TakedownPoliceCleared, TakedownNoticeSent, TakedownEscalated, TakedownRemoved}
	for i := 1; i < len(path); i++ {
		if err := path[i-1].CheckMove(path[i]); err != nil {
			t.Errorf("%q → %q: %v", path[i-1], path[i], err)
		}
	}
	for _, tc := range []struct{ from, to TakedownStatus }{
		{TakedownNone, TakedownNoticeSent},           // no notice without assessment
		{TakedownAssessed, TakedownNoticeSent},       // police first
		{TakedownPoliceNotified, TakedownNoticeSent}, // nor while police may still hold
		{TakedownPoliceHold, TakedownNoticeSent},     // notices wait for the hold
		{TakedownClosedNotIllegal, TakedownNoticeSent},
		{TakedownRemoved, TakedownNoticeSent},
	} {
		err := tc.from.CheckMove(tc.to)
		if ErrorCode(err) != ECONFLICT {
			t.Errorf("%q → %q: %v, want a conflict", tc.from, tc.to, err)
		}
	}
	if msg := ErrorMessage(TakedownPoliceHold.CheckMove(TakedownNoticeSent)); msg != "The item is police_hold; it cannot become notice_sent." {
		t.Errorf("message %q", msg)
	}
	// Every state is reachable from "not assessed".
	seen := map[TakedownStatus]bool{TakedownNone: true}
	queue := []TakedownStatus{TakedownNone}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, to := range takedownMoves[s] {
			if !seen[to] {
				seen[to] = true
				queue = append(queue, to)
			}
		}
	}
	for _, s := range TakedownStatuses {
		if !seen[s] {
			t.Errorf("state %q is unreachable", s)
		}
	}
}

func TestValidateAssessment(t *testing.T) {
	ok := Assessment{Verdict: VerdictBaseline, ContentType: ContentImage, Labels: map[string]string{"age_band": "3_to_12", "industry_class": "A1"}}
	if err := ValidateAssessment(&ok, DefaultLabelScheme); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		a     Assessment
		field string
	}{
		{"unknown verdict", Assessment{Verdict: "maybe"}, "verdict"},
		{"illegal needs a content type", Assessment{Verdict: VerdictNational, Labels: map[string]string{"age_band": "unknown"}}, "content_type"},
		{"illegal needs the age band", Assessment{Verdict: VerdictBaseline, ContentType: ContentVideo}, "labels.age_band"},
		{"unknown label", Assessment{Verdict: VerdictNotIllegal, Labels: map[string]string{"colour": "x"}}, "labels.colour"},
		{"unknown value", Assessment{Verdict: VerdictBaseline, ContentType: ContentImage, Labels: map[string]string{"age_band": "3_to_12", "industry_class": "C9"}}, "labels.industry_class"},
		{"long note", Assessment{Verdict: VerdictNotIllegal, Note: string(make([]rune, MaxAssessmentNote+1))}, "note"},
		{"NUL in note", Assessment{Verdict: VerdictNotIllegal, Note: "a\x00b"}, "note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateAssessment(&tc.a, DefaultLabelScheme)
			if ErrorCode(err) != EINVALID || ErrorField(err) != tc.field {
				t.Errorf("error %v (field %q), want invalid %s", err, ErrorField(err), tc.field)
			}
		})
	}
	// Not illegal needs no labels.
	if err := ValidateAssessment(&Assessment{Verdict: VerdictNotIllegal}, DefaultLabelScheme); err != nil {
		t.Error(err)
	}
}

func TestValidateHold(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := ValidateHold("ongoing investigation", now.Add(48*time.Hour), now); err != nil {
		t.Error(err)
	}
	for field, err := range map[string]error{
		"reason": ValidateHold(" ", now.Add(time.Hour), now),
		"until":  ValidateHold("x", now, now),
	} {
		if ErrorField(err) != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	if err := ValidateHold("x", now.Add(MaxHold+time.Hour), now); ErrorField(err) != "until" {
		t.Errorf("too long a hold: %v", err)
	}
}

func TestVerdictForClassification(t *testing.T) {
	for cat, want := range map[string]Verdict{"baseline": VerdictBaseline, "A1": VerdictBaseline, "1": VerdictBaseline,
		"national": VerdictNational, "0": VerdictNotIllegal, "not_illegal": VerdictNotIllegal} {
		if got := VerdictForClassification(Classification{Category: cat}); got != want {
			t.Errorf("%q: %s, want %s", cat, got, want)
		}
	}
}
