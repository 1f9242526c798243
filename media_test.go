package alliance

import "testing"

func TestDecideKnown(t *testing.T) {
	a := Classification{Scheme: "s", Category: "a"}
	b := Classification{Scheme: "s", Category: "b"}
	hashed := func(ms ...MediumMatch) Medium { return Medium{Status: MediumHashed, Matches: ms} }
	tests := []struct {
		name  string
		media []Medium
		want  Known
		cls   *Classification
	}{
		{"no media", nil, KnownNone, nil},
		{"none matched", []Medium{hashed(), hashed()}, KnownNone, nil},
		{"one of two", []Medium{hashed(MediumMatch{EntryID: 1, Classification: a}), hashed()}, KnownPartial, nil},
		{"all, closest wins", []Medium{
			hashed(MediumMatch{EntryID: 1, Distance: 9, Classification: a}),
			hashed(MediumMatch{EntryID: 7, Distance: 2, Classification: b}, MediumMatch{EntryID: 3, Distance: 2, Classification: a}),
		}, KnownAll, &a},
		{"unclassified match is not known", []Medium{hashed(MediumMatch{EntryID: 1})}, KnownPartial, nil},
		{"deferred video keeps it partial", []Medium{hashed(MediumMatch{EntryID: 1, Classification: a}), {Status: MediumDeferred}}, KnownPartial, nil},
		{"failed medium keeps it partial", []Medium{hashed(MediumMatch{EntryID: 1, Classification: a}), {Status: MediumFailed}}, KnownPartial, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cls := DecideKnown(tt.media)
			if got != tt.want || (cls == nil) != (tt.cls == nil) || (cls != nil && *cls != *tt.cls) {
				t.Errorf("DecideKnown = %q %+v, want %q %+v", got, cls, tt.want, tt.cls)
			}
		})
	}
}
