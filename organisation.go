package alliance

import (
	"fmt"
	"time"
)

// OrgKind is what an organisation does in the alliance.
type OrgKind string

// The kinds of organisation.
const (
	OrgHotline     OrgKind = "hotline"
	OrgPolice      OrgKind = "police"
	OrgSecretariat OrgKind = "secretariat"
)

// Roles returns the roles users of an organisation of this kind have:
// its own work's role, its admins and its auditors.
func (k OrgKind) Roles() []Role {
	switch k {
	case OrgHotline:
		return []Role{RoleAnalyst, RoleAdmin, RoleAuditor}
	case OrgPolice:
		return []Role{RolePolice, RoleAdmin, RoleAuditor}
	case OrgSecretariat:
		return []Role{RoleSecretariat, RoleAdmin, RoleAuditor}
	}
	return nil
}

// SecretariatCode is the organisation code of the alliance secretariat.
const SecretariatCode = "INT-SECRETARIAT"

// Organisation is a hotline, a police unit or the secretariat. Every user
// belongs to exactly one; data belongs to the organisation that received it.
type Organisation struct {
	ID          int64
	Code        string // e.g. "SE-HOTLINE"
	Name        string
	Kind        OrgKind
	CountryCode string // ISO 3166-1 alpha-2; "" for the secretariat
}

// HotlineCode is the code of country cc's hotline organisation.
func HotlineCode(cc string) string { return cc + "-HOTLINE" }

// PoliceCode is the code of country cc's police organisation.
func PoliceCode(cc string) string { return cc + "-POLICE" }

// Country is an ISO 3166-1 country. Content is hosted everywhere, so all exist;
// Member says whether it is a member of the alliance, and since when.
type Country struct {
	Code        string // ISO 3166-1 alpha-2
	Name        string // English short name
	Member      bool
	MemberSince *time.Time
}

// FoundingDate is the day the Global Alliance was launched in Brussels.
var FoundingDate = time.Date(2012, time.December, 5, 0, 0, 0, 0, time.UTC)

// FoundingMembers lists the ISO codes of the 48 founding countries: the 27 EU
// member states of December 2012 and 21 others.
var FoundingMembers = []string{
	// EU-27 in December 2012.
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HU", "IE",
	"IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "GB",
	// The others.
	"AL", "AU", "KH", "HR", "GE", "GH", "JP", "MD", "ME", "NZ", "NG", "NO", "PH",
	"RS", "KR", "CH", "TH", "TR", "UA", "US", "VN",
}

// ReferenceOrganisations returns the organisations every node knows: one
// hotline and one police organisation per founding member, and the secretariat.
func ReferenceOrganisations() []Organisation {
	orgs := make([]Organisation, 0, 2*len(FoundingMembers)+1)
	for _, cc := range FoundingMembers {
		name := CountryName(cc)
		orgs = append(orgs,
			Organisation{Code: HotlineCode(cc), Name: fmt.Sprintf("%s hotline", name), Kind: OrgHotline, CountryCode: cc},
			Organisation{Code: PoliceCode(cc), Name: fmt.Sprintf("%s police", name), Kind: OrgPolice, CountryCode: cc},
		)
	}
	orgs = append(orgs, Organisation{Code: SecretariatCode, Name: "Global Alliance secretariat", Kind: OrgSecretariat})
	return orgs
}
