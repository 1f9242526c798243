package alliance

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Verdict is an analyst's legal assessment of an item.
type Verdict string

// The verdicts. Baseline and national are illegal and go on to takedown.
const (
	VerdictBaseline      Verdict = "baseline"       // illegal under the international baseline
	VerdictNational      Verdict = "national"       // illegal under national law only
	VerdictNotIllegal    Verdict = "not_illegal"    // closes the item
	VerdictNotAccessible Verdict = "not_accessible" // nothing to assess at the address; closes the item
)

// Verdicts lists the verdicts in the order forms show them.
var Verdicts = []Verdict{VerdictBaseline, VerdictNational, VerdictNotIllegal, VerdictNotAccessible}

// ParseVerdict validates a verdict.
func ParseVerdict(s string) (Verdict, error) {
	if v := Verdict(s); slices.Contains(Verdicts, v) {
		return v, nil
	}
	return "", FieldErrorf("verdict", "Unknown verdict %q; valid verdicts: baseline, national, not_illegal, not_accessible.", s)
}

// Illegal reports whether the verdict sends the item to takedown.
func (v Verdict) Illegal() bool { return v == VerdictBaseline || v == VerdictNational }

// ContentType is what kind of material an assessment is about.
type ContentType string

// The content types.
const (
	ContentImage ContentType = "image"
	ContentVideo ContentType = "video"
	ContentOther ContentType = "other"
)

// ParseContentType validates a content type.
func ParseContentType(s string) (ContentType, error) {
	switch c := ContentType(s); c {
	case ContentImage, ContentVideo, ContentOther:
		return c, nil
	}
	return "", FieldErrorf("content_type", "Unknown content type %q; valid types: image, video, other.", s)
}

// LabelField is one descriptor of a label scheme: a name and its allowed
// values. Values are neutral codes from published schemes.
type LabelField struct {
	Name     string
	Required bool
	Values   []string
}

// LabelScheme is the set of neutral descriptors an assessment records
// besides its verdict. A node may configure its own.
type LabelScheme struct {
	Name   string
	Fields []LabelField
}

// DefaultLabelScheme records an age band and, optionally, the industry
// classification (A1, A2, B1, B2) that platforms share.
var DefaultLabelScheme = LabelScheme{
	Name: "alliance-1",
	Fields: []LabelField{
		{Name: "age_band", Required: true, Values: []string{"under_3", "3_to_12", "13_to_17", "unknown"}},
		{Name: "industry_class", Values: []string{"A1", "A2", "B1", "B2"}},
	},
}

// Validate checks labels against the scheme: known fields, allowed values,
// required fields present when the verdict is illegal (descriptors only
// matter for material that is). Errors name the field, e.g. labels.age_band.
func (s LabelScheme) Validate(labels map[string]string, v Verdict) error {
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		i := slices.IndexFunc(s.Fields, func(f LabelField) bool { return f.Name == name })
		if i < 0 {
			return FieldErrorf("labels."+name, "Unknown label %q in scheme %s.", name, s.Name)
		}
		if val := labels[name]; val != "" && !slices.Contains(s.Fields[i].Values, val) {
			return FieldErrorf("labels."+name, "Unknown value %q; valid values: %s.", val, strings.Join(s.Fields[i].Values, ", "))
		}
	}
	if v.Illegal() {
		for _, f := range s.Fields {
			if f.Required && labels[f.Name] == "" {
				return FieldErrorf("labels."+f.Name, "A value is required for an illegal verdict.")
			}
		}
	}
	return nil
}

// Agreement says how an assessment relates to the item's earlier ones.
type Agreement string

// The agreements. A dispute flags the item to a supervisor.
const (
	AgreementFirst   Agreement = "first"
	AgreementConfirm Agreement = "confirm"
	AgreementDispute Agreement = "dispute"
)

// MaxAssessmentNote bounds the free-text note of an assessment, in characters.
const MaxAssessmentNote = 4000

// Assessment is one analyst's (or the node's, for known material) record of
// what an item is. It never describes content: a verdict, a content type and
// neutral labels.
type Assessment struct {
	ID          int64
	ItemID      int64
	OrgCode     string // the assessing organisation
	AnalystID   int64  // 0 for the node itself (inherited from a bank match)
	Analyst     string // label of the analyst, or "system"
	Verdict     Verdict
	ContentType ContentType
	Scheme      string
	Labels      map[string]string
	Note        string
	Agreement   Agreement
	// Inherited is set for an assessment the node made because every medium
	// matched classified bank entries; Source names the match.
	Inherited bool
	Source    string
	CreatedAt time.Time
}

// ValidateAssessment checks an assessment's own fields (not the item's
// state): verdict, content type, labels and note.
func ValidateAssessment(a *Assessment, scheme LabelScheme) error {
	if _, err := ParseVerdict(string(a.Verdict)); err != nil {
		return err
	}
	if a.Verdict.Illegal() || a.ContentType != "" {
		if _, err := ParseContentType(string(a.ContentType)); err != nil {
			return err
		}
	}
	if err := scheme.Validate(a.Labels, a.Verdict); err != nil {
		return err
	}
	if !utf8.ValidString(a.Note) || strings.ContainsRune(a.Note, 0) {
		return FieldErrorf("note", "The note must be text.")
	}
	if n := utf8.RuneCountInString(a.Note); n > MaxAssessmentNote {
		return FieldErrorf("note", "The note is %d characters; at most %d.", n, MaxAssessmentNote)
	}
	return nil
}

// TakedownStatus is where an item is on its way to removal.
type TakedownStatus string

// The takedown states. An item enters at assessed (illegal verdict) or at
// one of the closed states; police are notified first, notices wait for a
// hold, re-checks follow the notice until removal.
const (
	TakedownNone                TakedownStatus = ""
	TakedownAssessed            TakedownStatus = "assessed"
	TakedownPoliceNotified      TakedownStatus = "police_notified"
	TakedownPoliceHold          TakedownStatus = "police_hold"
	TakedownPoliceCleared       TakedownStatus = "police_cleared"
	TakedownNoticeSent          TakedownStatus = "notice_sent"
	TakedownRemoved             TakedownStatus = "removed"
	TakedownMoved               TakedownStatus = "moved"
	TakedownEscalated           TakedownStatus = "escalated"
	TakedownClosedNotIllegal    TakedownStatus = "closed_not_illegal"
	TakedownClosedNotAccessible TakedownStatus = "closed_not_accessible"
)

// TakedownStatuses lists the states in lifecycle order.
var TakedownStatuses = []TakedownStatus{
	TakedownAssessed, TakedownPoliceNotified, TakedownPoliceHold, TakedownPoliceCleared, TakedownNoticeSent,
	TakedownEscalated, TakedownMoved, TakedownRemoved, TakedownClosedNotIllegal, TakedownClosedNotAccessible,
}

// takedownMoves is the state machine: the states each state may move to.
var takedownMoves = map[TakedownStatus][]TakedownStatus{
	TakedownNone: {TakedownAssessed, TakedownClosedNotIllegal, TakedownClosedNotAccessible},
	// Straight to cleared only where the country has no police
	// organisation on the alliance to notify.
	TakedownAssessed:       {TakedownPoliceNotified, TakedownPoliceCleared, TakedownRemoved, TakedownClosedNotIllegal, TakedownClosedNotAccessible},
	TakedownPoliceNotified: {TakedownPoliceHold, TakedownPoliceCleared, TakedownRemoved, TakedownClosedNotIllegal},
	// hold → hold renews a hold.
	TakedownPoliceHold:    {TakedownPoliceHold, TakedownPoliceCleared, TakedownRemoved, TakedownClosedNotIllegal},
	TakedownPoliceCleared: {TakedownNoticeSent, TakedownRemoved, TakedownMoved, TakedownClosedNotIllegal},
	TakedownNoticeSent:    {TakedownRemoved, TakedownMoved, TakedownEscalated, TakedownClosedNotIllegal},
	TakedownEscalated:     {TakedownRemoved, TakedownMoved, TakedownClosedNotIllegal},
	// A moved item is traced and routed again, then notified afresh.
	TakedownMoved: {TakedownAssessed, TakedownRemoved},
	// A dispute resolved the other way reopens a closed item.
	TakedownClosedNotIllegal:    {TakedownAssessed},
	TakedownClosedNotAccessible: {TakedownAssessed},
	TakedownRemoved:             {TakedownMoved},
}

// CanMove reports whether the state machine allows s → to.
func (s TakedownStatus) CanMove(to TakedownStatus) bool {
	return slices.Contains(takedownMoves[s], to)
}

// CheckMove returns nil if s → to is allowed, and otherwise an ECONFLICT
// error that names the current state.
func (s TakedownStatus) CheckMove(to TakedownStatus) error {
	if s.CanMove(to) {
		return nil
	}
	from := string(s)
	if from == "" {
		from = "not assessed"
	}
	return Errorf(ECONFLICT, "The item is %s; it cannot become %s.", from, to)
}

// Open reports whether the item is still on its way to removal.
func (s TakedownStatus) Open() bool {
	switch s {
	case TakedownNone, TakedownRemoved, TakedownClosedNotIllegal, TakedownClosedNotAccessible:
		return false
	}
	return true
}

// StatusForVerdict is the state an assessment with verdict v moves an item to.
func StatusForVerdict(v Verdict) TakedownStatus {
	switch v {
	case VerdictNotIllegal:
		return TakedownClosedNotIllegal
	case VerdictNotAccessible:
		return TakedownClosedNotAccessible
	}
	return TakedownAssessed
}

// Takedown is an item's way to removal: its state and the times that the
// takedown figures are computed from.
type Takedown struct {
	Status      TakedownStatus
	Verdict     Verdict
	Disputed    bool   // assessments disagree: a supervisor decides
	Police      string // code of the police organisation notified
	HoldUntil   *time.Time
	HoldReason  string
	AssessedAt  *time.Time
	NotifiedAt  *time.Time // police notified
	NoticeAt    *time.Time // first notice sent to the host
	RemovedAt   *time.Time
	UpdatedAt   time.Time // last transition
	NextAction  *time.Time
	Notices     int // notices sent
	Rechecks    int
	LastCheck   string // outcome and reason of the last re-check
	LastCheckAt *time.Time
}

// TakedownEvent is one recorded transition of an item's takedown.
type TakedownEvent struct {
	ItemID  int64
	From    TakedownStatus
	To      TakedownStatus
	Actor   string // label of the user, or "system"
	OrgCode string
	Reason  string
	At      time.Time
}

// MaxHoldReason bounds a police hold's reason, in characters.
const MaxHoldReason = 1000

// MaxHold is the longest a single police hold may last; it can be renewed.
const MaxHold = 90 * 24 * time.Hour

// ValidateHold checks a police hold's reason and expiry against now.
func ValidateHold(reason string, until, now time.Time) error {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return FieldErrorf("reason", "A hold needs a reason.")
	case !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxHoldReason:
		return FieldErrorf("reason", "The reason must be text of at most %d characters.", MaxHoldReason)
	case !until.After(now):
		return FieldErrorf("until", "The hold must end in the future.")
	case until.Sub(now) > MaxHold:
		return FieldErrorf("until", "A hold lasts at most %d days; renew it before it ends.", int(MaxHold/(24*time.Hour)))
	}
	return nil
}

// VerdictForClassification is the verdict the node records for an item
// whose media all matched entries of classification c: bank entries carry
// a category of their own scheme, and only two category names mean
// something other than illegal under the baseline.
func VerdictForClassification(c Classification) Verdict {
	switch strings.ToLower(c.Category) {
	case "national":
		return VerdictNational
	case "not_illegal", "0", "non-pertinent", "non_pertinent":
		return VerdictNotIllegal
	}
	return VerdictBaseline
}

// String returns a readable form for logs.
func (e TakedownEvent) String() string {
	return fmt.Sprintf("item %d: %s → %s by %s", e.ItemID, e.From, e.To, e.Actor)
}

// Notice is one notice to a host's abuse contact, as the item shows it: to
// whom, how, and whether it was delivered (failures stay visible).
type Notice struct {
	ID        int64
	Kind      string // notice, renotice
	Channel   string // email, webhook
	Recipient string
	Subject   string
	Status    string // pending, sent, failed
	Attempts  int
	LastError string
	CreatedAt time.Time
	SentAt    *time.Time
	NextAt    *time.Time
	// Unconfirmed marks a sent notice whose delivery was never confirmed
	// (LastError says why); it is not sent again.
	Unconfirmed bool
}
