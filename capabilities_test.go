package alliance_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"alliance"
)

func TestMNRCapabilities(t *testing.T) {
	caps := alliance.MNRCapabilities
	if len(caps) != 21 {
		t.Fatalf("%d capabilities, want the Model National Response's 21", len(caps))
	}
	domains := map[string]int{}
	for i, c := range caps {
		if want := fmt.Sprintf("MNR-%02d", i+1); c.Code != want {
			t.Errorf("capability %d: code %s, want %s", i, c.Code, want)
		}
		if c.Name == "" || c.Domain == "" {
			t.Errorf("%s: name %q, domain %q", c.Code, c.Name, c.Domain)
		}
		domains[c.Domain]++
	}
	want := map[string]int{"Policy and governance": 3, "Criminal justice": 4, "Victim": 4, "Societal": 4, "Industry": 4,
		"Media and communications": 2}
	if diff := cmp.Diff(want, domains); diff != "" {
		t.Errorf("capabilities per domain (-want +got):\n%s", diff)
	}
	if len(alliance.CapabilityLevels) != alliance.MaxCapabilityLevel+1 {
		t.Fatalf("%d levels, want 0 to %d", len(alliance.CapabilityLevels), alliance.MaxCapabilityLevel)
	}
	for i, l := range alliance.CapabilityLevels {
		if l.Level != i || !strings.HasPrefix(l.Name, fmt.Sprint(i)) || l.Description == "" {
			t.Errorf("level %d: %+v", i, l)
		}
	}
	// The default list passes the loader's own rules.
	b, err := json.Marshal(caps)
	if err != nil {
		t.Fatal(err)
	}
	got, err := alliance.LoadCapabilities(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(caps, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestLoadCapabilities(t *testing.T) {
	got, err := alliance.LoadCapabilities(strings.NewReader(`[{"code":"A-1","domain":"Policy","name":"Leadership"},{"code":"B2","name":"Løvtrær"}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []alliance.Capability{{Code: "A-1", Domain: "Policy", Name: "Leadership"}, {Code: "B2", Name: "Løvtrær"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	many := make([]string, alliance.MaxCapabilities+1)
	for i := range many {
		many[i] = fmt.Sprintf(`{"code":"C%d","name":"n"}`, i)
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty list", `[]`, "0 entries"},
		{"too many", "[" + strings.Join(many, ",") + "]", "201 entries"},
		{"not a list", `{"code":"A"}`, "not a JSON list"},
		{"unknown key", `[{"code":"A","name":"n","level":3}]`, "not a JSON list"},
		{"trailing data", `[{"code":"A","name":"n"}] []`, "data after"},
		{"lower-case code", `[{"code":"A","name":"n"},{"code":"mnr-1","name":"n"}]`, "capabilities[1].code"},
		{"empty code", `[{"code":"","name":"n"}]`, "capabilities[0].code"},
		{"long code", `[{"code":"` + strings.Repeat("A", 21) + `","name":"n"}]`, "capabilities[0].code"},
		{"duplicate code", `[{"code":"A","name":"n"},{"code":"B","name":"n"},{"code":"A","name":"m"}]`, "capabilities[2].code: \"A\" is also the code of capabilities[0]"},
		{"no name", `[{"code":"A","name":"  "}]`, "capabilities[0].name"},
		{"long name", `[{"code":"A","name":"` + strings.Repeat("é", 201) + `"}]`, "capabilities[0].name"},
		{"long domain", `[{"code":"A","name":"n","domain":"` + strings.Repeat("x", 201) + `"}]`, "capabilities[0].domain"},
		{"NUL in name", `[{"code":"A","name":"a\u0000b"}]`, "capabilities[0].name"},
		{"invalid UTF-8", "[{\"code\":\"A\",\"name\":\"\xff\"}]", "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := alliance.LoadCapabilities(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// 200 names of 200 characters each are fine.
	long := strings.Repeat("é", 200)
	ok := make([]string, alliance.MaxCapabilities)
	for i := range ok {
		ok[i] = fmt.Sprintf(`{"code":"C-%d","domain":"%s","name":"%s"}`, i, long, long)
	}
	if caps, err := alliance.LoadCapabilities(strings.NewReader("[" + strings.Join(ok, ",") + "]")); err != nil || len(caps) != alliance.MaxCapabilities {
		t.Errorf("%d capabilities at the limits: %v", len(caps), err)
	}
}
