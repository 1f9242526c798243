package alliance

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Capability is a national capability a country assesses its own maturity
// in, e.g. one of the 21 of the WeProtect Global Alliance Model National
// Response.
type Capability struct {
	Code   string `json:"code"` // "MNR-01"
	Domain string `json:"domain"`
	Name   string `json:"name"`
}

// CapabilityLevel is a step of the maturity scale of a capability.
type CapabilityLevel struct {
	Level       int
	Name        string
	Description string
}

// CapabilityAssessment is a country's self-assessed maturity in one
// capability, with a note on what it rests on.
type CapabilityAssessment struct {
	Country    string
	Capability string // Capability.Code
	Level      int    // CapabilityLevel.Level, 0 to MaxCapabilityLevel
	Note       string
	UpdatedBy  string
	UpdatedAt  time.Time
}

// MaxCapabilityLevel is the highest maturity level.
const MaxCapabilityLevel = 4

// CapabilityLevels is the maturity scale, from not started to advanced.
var CapabilityLevels = []CapabilityLevel{
	{0, "0 – not started", "No work on this capability has begun."},
	{1, "1 – initial", "The need is recognised and first steps are planned or piloted."},
	{2, "2 – developing", "The capability exists in part but is not yet in place nationwide."},
	{3, "3 – established", "The capability is in place nationwide, resourced and in regular use."},
	{4, "4 – advanced", "The capability is reviewed, measured and improved, and shared as good practice."},
}

// MNRCapabilities are the default capabilities: the 21 of the WeProtect
// Global Alliance Model National Response, in its six domains.
var MNRCapabilities = []Capability{
	{"MNR-01", "Policy and governance", "Leadership"},
	{"MNR-02", "Policy and governance", "Research, analysis and monitoring"},
	{"MNR-03", "Policy and governance", "Legislation"},
	{"MNR-04", "Criminal justice", "Dedicated law enforcement"},
	{"MNR-05", "Criminal justice", "Judiciary and prosecutors"},
	{"MNR-06", "Criminal justice", "Offender management process"},
	{"MNR-07", "Criminal justice", "Access to image databases"},
	{"MNR-08", "Victim", "End-to-end support"},
	{"MNR-09", "Victim", "Child protection workforce"},
	{"MNR-10", "Victim", "Compensation, remedies and complaints arrangements"},
	{"MNR-11", "Victim", "Child helpline"},
	{"MNR-12", "Societal", "CSEA hotline"},
	{"MNR-13", "Societal", "Education programme"},
	{"MNR-14", "Societal", "Child participation"},
	{"MNR-15", "Societal", "Offender support systems"},
	{"MNR-16", "Industry", "Takedown procedures"},
	{"MNR-17", "Industry", "CSEA reporting"},
	{"MNR-18", "Industry", "Innovative solution development"},
	{"MNR-19", "Industry", "Corporate social responsibility"},
	{"MNR-20", "Media and communications", "Ethical and informed media reporting"},
	{"MNR-21", "Media and communications", "Universal terminology"},
}

// Limits of a capability list read by LoadCapabilities.
const (
	MaxCapabilities       = 200
	maxCapabilityText     = 200
	maxCapabilityFileSize = 1 << 20
)

var capabilityCodeRE = regexp.MustCompile(`^[A-Z0-9-]{1,20}$`)

// LoadCapabilities reads a node's own list of capabilities: a JSON array of
// {"code", "domain", "name"} objects, 1 to MaxCapabilities of them, with
// unique codes of 1 to 20 characters A–Z, 0–9 and "-", and a name (and
// optionally a domain) of at most 200 characters. Errors name the entry
// and the field, e.g. "capabilities[3].code".
func LoadCapabilities(r io.Reader) ([]Capability, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCapabilityFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("capabilities: %w", err)
	}
	if len(data) > maxCapabilityFileSize {
		return nil, fmt.Errorf("capabilities: larger than %d bytes", maxCapabilityFileSize)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("capabilities: not valid UTF-8")
	}
	var caps []Capability
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&caps); err != nil {
		return nil, fmt.Errorf("capabilities: not a JSON list of {\"code\", \"domain\", \"name\"}: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("capabilities: data after the JSON list")
	}
	if len(caps) == 0 || len(caps) > MaxCapabilities {
		return nil, fmt.Errorf("capabilities: %d entries; give 1 to %d", len(caps), MaxCapabilities)
	}
	seen := make(map[string]int, len(caps))
	for i, c := range caps {
		at := fmt.Sprintf("capabilities[%d]", i)
		if !capabilityCodeRE.MatchString(c.Code) {
			return nil, fmt.Errorf("%s.code: %q is not 1 to 20 characters A-Z, 0-9 and -", at, c.Code)
		}
		if j, ok := seen[c.Code]; ok {
			return nil, fmt.Errorf("%s.code: %q is also the code of capabilities[%d]", at, c.Code, j)
		}
		seen[c.Code] = i
		if strings.TrimSpace(c.Name) == "" {
			return nil, fmt.Errorf("%s.name: a name is required", at)
		}
		for _, f := range [...]struct{ field, s string }{{"domain", c.Domain}, {"name", c.Name}} {
			if utf8.RuneCountInString(f.s) > maxCapabilityText || strings.ContainsRune(f.s, 0) {
				return nil, fmt.Errorf("%s.%s: text of at most %d characters", at, f.field, maxCapabilityText)
			}
		}
	}
	return caps, nil
}
