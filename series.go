package alliance

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// SeriesStatus is how far victim identification of a series has come.
type SeriesStatus string

// The series statuses, in the order identification goes.
const (
	SeriesUnidentified       SeriesStatus = "unidentified"
	SeriesUnderInvestigation SeriesStatus = "under_investigation"
	SeriesIdentified         SeriesStatus = "identified"
	SeriesSafeguarded        SeriesStatus = "safeguarded"
)

// SeriesStatuses lists the statuses in order.
var SeriesStatuses = []SeriesStatus{SeriesUnidentified, SeriesUnderInvestigation, SeriesIdentified, SeriesSafeguarded}

// ParseSeriesStatus validates a series status.
func ParseSeriesStatus(s string) (SeriesStatus, error) {
	if st := SeriesStatus(s); slices.Contains(SeriesStatuses, st) {
		return st, nil
	}
	return "", FieldErrorf("status", "Unknown status %q; valid statuses: unidentified, under_investigation, identified, safeguarded.", s)
}

// Rank is the status's place in the order identification goes.
func (s SeriesStatus) Rank() int { return slices.Index(SeriesStatuses, s) }

// Identified reports whether the victims of the series are identified
// (identified or safeguarded).
func (s SeriesStatus) Identified() bool { return s == SeriesIdentified || s == SeriesSafeguarded }

// CheckSeriesChange validates a status change: going back (identified to
// under investigation, say) happens, but only with a reason.
func CheckSeriesChange(from, to SeriesStatus, reason string) error {
	if _, err := ParseSeriesStatus(string(to)); err != nil {
		return err
	}
	if to.Rank() < from.Rank() && strings.TrimSpace(reason) == "" {
		return FieldErrorf("reason", "Going back from %s to %s needs a reason.", from, to)
	}
	return nil
}

// Limits on series input.
const (
	MaxSeriesCode  = 100
	MaxSeriesRefs  = 500
	MaxSeriesNotes = 8000
	MaxLinkReason  = 1000
)

// Series is a set of material of the same victim or victims, owned by a
// police organisation. It records only that identification happened, by
// whom and when: never names, ages or locations of victims.
type Series struct {
	ID       int64
	Code     string // unique on the node, e.g. the owner's case code or an international series id
	OwnerOrg string // code of the owning police organisation
	// Refs are international references as opaque text (an INTERPOL or
	// NCMEC series identifier).
	Refs           string
	Status         SeriesStatus
	StatusAt       time.Time
	DoNotDuplicate bool
	Contact        string // the contact point: an organisation, never a person's private data
	Notes          string // police roles only
	FirstSeenAt    time.Time
	IdentifiedAt   *time.Time
	CreatedAt      time.Time
	Links          int // items linked (filled by reads)
	History        []SeriesEvent
}

// SeriesEvent is one recorded status change of a series.
type SeriesEvent struct {
	From, To SeriesStatus
	Actor    string
	Reason   string
	At       time.Time
}

// ValidateSeries checks a series' own fields.
func ValidateSeries(s *Series) error {
	s.Code = strings.TrimSpace(s.Code)
	switch {
	case s.Code == "" || utf8.RuneCountInString(s.Code) > MaxSeriesCode || strings.ContainsAny(s.Code, "\x00\r\n\t"):
		return FieldErrorf("code", "A series code is 1 to %d characters on one line.", MaxSeriesCode)
	case !utf8.ValidString(s.Refs) || utf8.RuneCountInString(s.Refs) > MaxSeriesRefs:
		return FieldErrorf("refs", "References are text of at most %d characters.", MaxSeriesRefs)
	case !utf8.ValidString(s.Notes) || utf8.RuneCountInString(s.Notes) > MaxSeriesNotes || strings.ContainsRune(s.Notes, 0):
		return FieldErrorf("notes", "Notes are text of at most %d characters.", MaxSeriesNotes)
	case utf8.RuneCountInString(s.Contact) > 200:
		return FieldErrorf("contact", "The contact point is at most 200 characters: an organisation's desk, not a person.")
	}
	if s.Status == "" {
		s.Status = SeriesUnidentified
	}
	_, err := ParseSeriesStatus(string(s.Status))
	return err
}

// DeconflictAction is what the deconfliction answer advises.
type DeconflictAction string

// The answers. Stand down: another agency has identified the victims and
// asks not to duplicate. Act: the series is known and not (yet)
// identified: coordinate with its owner. New material: no series is known,
// the highest priority for victim identification.
const (
	ActionStandDown   DeconflictAction = "stand_down"
	ActionCoordinate  DeconflictAction = "coordinate"
	ActionNewMaterial DeconflictAction = "new_material"
)

// SeriesLink is an item's (or a hash's) link to a series.
type SeriesLink struct {
	SeriesID int64
	Code     string
	Owner    string
	Status   SeriesStatus
	DoNotDup bool
	Distance int    // of the closest matching entry; 0 for a link by hand
	Manual   bool   // linked by hand
	Reason   string // why, for a link by hand
	At       time.Time
}

// Deconfliction is the answer to "has this been found or identified
// elsewhere?".
type Deconfliction struct {
	Action DeconflictAction
	Series []SeriesLink // the series matched, most advanced status first
}

// Decide gives the deconfliction answer for the series an item or hash is
// linked to: stand down when one of them is identified (or safeguarded)
// and marked do-not-duplicate; coordinate when there are series; new
// material otherwise.
func Decide(links []SeriesLink) Deconfliction {
	d := Deconfliction{Action: ActionNewMaterial, Series: slices.Clone(links)}
	slices.SortStableFunc(d.Series, func(a, b SeriesLink) int { return b.Status.Rank() - a.Status.Rank() })
	for _, l := range d.Series {
		if l.Status.Identified() && l.DoNotDup {
			d.Action = ActionStandDown
			return d
		}
	}
	if len(d.Series) > 0 {
		d.Action = ActionCoordinate
	}
	return d
}

// AlertWindow is how long alerts of one series about one host are merged
// into one.
const AlertWindow = 24 * time.Hour

// SeriesAlert tells a series' owner that its material surfaced somewhere.
type SeriesAlert struct {
	ID         int64
	SeriesID   int64
	SeriesCode string
	OwnerOrg   string
	ItemID     int64
	URL        string
	Host       string
	Country    string
	Count      int // sightings merged into this alert
	FirstAt    time.Time
	LastAt     time.Time
	Read       bool
}
