package alliance

import (
	"slices"
	"strings"
)

// Countries returns every ISO 3166-1 country, with founding members marked.
func Countries() []Country {
	out := make([]Country, len(isoCountries))
	for i, c := range isoCountries {
		out[i] = Country{Code: c.Code, Name: c.Name}
		if slices.Contains(FoundingMembers, c.Code) {
			since := FoundingDate
			out[i].Member, out[i].MemberSince = true, &since
		}
	}
	return out
}

// CountryName returns the English short name of ISO code cc, or cc itself.
func CountryName(cc string) string {
	cc = strings.ToUpper(cc)
	for _, c := range isoCountries {
		if c.Code == cc {
			return c.Name
		}
	}
	return cc
}

// ValidCountryCode reports whether cc is an ISO 3166-1 alpha-2 code.
func ValidCountryCode(cc string) bool {
	for _, c := range isoCountries {
		if c.Code == cc {
			return true
		}
	}
	return false
}
