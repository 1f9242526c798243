package alliance_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"alliance"
)

func TestCountries(t *testing.T) {
	cs := alliance.Countries()
	if len(cs) != 249 {
		t.Fatalf("got %d countries, want 249 (ISO 3166-1)", len(cs))
	}
	members := 0
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.Code] {
			t.Errorf("duplicate country %s", c.Code)
		}
		seen[c.Code] = true
		if c.Member {
			members++
			if c.MemberSince == nil || !c.MemberSince.Equal(alliance.FoundingDate) {
				t.Errorf("%s: member since %v, want the founding date", c.Code, c.MemberSince)
			}
		}
	}
	if members != 48 {
		t.Errorf("got %d members, want 48", members)
	}
	for _, cc := range alliance.FoundingMembers {
		if !seen[cc] {
			t.Errorf("founding member %s is not an ISO country", cc)
		}
	}
	if got := alliance.CountryName("KR"); got != "South Korea" {
		t.Errorf("CountryName(KR) = %q", got)
	}
	if orgs := alliance.ReferenceOrganisations(); len(orgs) != 97 {
		t.Errorf("got %d reference organisations, want 97", len(orgs))
	}
}

func TestRolePermissions(t *testing.T) {
	tests := []struct {
		role alliance.Role
		perm alliance.Permission
		want bool
	}{
		{alliance.RoleAdmin, alliance.PermManageUsers, true},
		{alliance.RoleAnalyst, alliance.PermManageUsers, false},
		{alliance.RoleAnalyst, alliance.PermAssess, true},
		{alliance.RolePolice, alliance.PermHold, true},
		{alliance.RoleAnalyst, alliance.PermHold, false},
		{alliance.RoleAuditor, alliance.PermVerifyAudit, true},
		{alliance.RoleAuditor, alliance.PermSubmitReports, false},
		{alliance.RoleSecretariat, alliance.PermViewAllCountries, true},
		{alliance.RoleSecretariat, alliance.PermEditTargets, true},
		{alliance.RoleAdmin, alliance.PermEditTargets, false},
		{alliance.RoleAnalyst, alliance.PermEditTargets, false},
		{alliance.Role("nobody"), alliance.PermViewOwnOrg, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.role, tt.perm), func(t *testing.T) {
			if got := tt.role.Can(tt.perm); got != tt.want {
				t.Errorf("Can = %v, want %v", got, tt.want)
			}
		})
	}
	if !alliance.SystemActor.Can(alliance.PermManageUsers) {
		t.Error("system actor must hold every permission")
	}
	if (alliance.Actor{Role: alliance.RoleAdmin}).Can(alliance.PermManageUsers) {
		t.Error("an actor without a user id must hold no permission, whatever its role")
	}
}

func TestParseRole(t *testing.T) {
	if r, err := alliance.ParseRole(" Analyst "); err != nil || r != alliance.RoleAnalyst {
		t.Errorf("ParseRole = %q, %v", r, err)
	}
	_, err := alliance.ParseRole("root")
	if alliance.ErrorCode(err) != alliance.EINVALID || alliance.ErrorField(err) != "role" {
		t.Fatalf("ParseRole(root) = %v, want EINVALID on field role", err)
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Analyst@Example.ORG", "analyst@example.org", true},
		{"  a@b.example  ", "a@b.example", true},
		{"", "", false},
		{"no-at-sign", "", false},
		{"Name <a@example.org>", "", false},
		{"a@localhost", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := alliance.NormalizeEmail("email", tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q, %v", tt.in, got, err)
			}
			if err != nil && alliance.ErrorField(err) != "email" {
				t.Errorf("error names field %q, want email", alliance.ErrorField(err))
			}
		})
	}
}

func TestErrors(t *testing.T) {
	wrapped := fmt.Errorf("store: x: %w", alliance.Errorf(alliance.ENOTFOUND, "Item not found."))
	if alliance.ErrorCode(wrapped) != alliance.ENOTFOUND || alliance.ErrorMessage(wrapped) != "Item not found." {
		t.Errorf("wrapped error lost its code or message: %v", wrapped)
	}
	plain := errors.New("secret detail")
	if alliance.ErrorCode(plain) != alliance.EINTERNAL || alliance.ErrorMessage(plain) != "Internal error." {
		t.Error("a plain error must be internal and must not show its text")
	}
	if alliance.ErrorCode(nil) != "" {
		t.Error("nil has no code")
	}
}

func chain(n int) []alliance.AuditEvent {
	prev := alliance.GenesisHash
	out := make([]alliance.AuditEvent, n)
	for i := range out {
		e := alliance.AuditEvent{
			Seq: int64(i + 1), Time: time.Date(2026, 1, 1, 0, 0, i, 1000, time.UTC),
			ActorLabel: "system", Action: "user.create", ObjectType: "user", ObjectID: fmt.Sprint(i), PrevHash: prev,
		}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		out[i] = e
	}
	return out
}

func verify(rows []alliance.AuditEvent) alliance.AuditVerification {
	c := alliance.NewAuditChecker()
	for _, e := range rows {
		c.Check(e)
	}
	return c.Result()
}

func TestAuditChain(t *testing.T) {
	if v := verify(chain(5)); !v.OK || v.Rows != 5 || v.HeadHash == "" {
		t.Fatalf("intact chain: %+v", v)
	}
	tests := []struct {
		name   string
		tamper func([]alliance.AuditEvent) []alliance.AuditEvent
		broken int64
	}{
		{"edit", func(r []alliance.AuditEvent) []alliance.AuditEvent { r[2].Action = "user.delete"; return r }, 3},
		{"edit and rehash", func(r []alliance.AuditEvent) []alliance.AuditEvent {
			r[2].Action = "user.delete"
			r[2].Hash = r[2].ComputeHash()
			return r
		}, 4},
		{"delete", func(r []alliance.AuditEvent) []alliance.AuditEvent { return append(r[:2], r[3:]...) }, 4},
		// The row found out of place is named: row 3 where row 2 should be.
		{"reorder", func(r []alliance.AuditEvent) []alliance.AuditEvent { r[1], r[2] = r[2], r[1]; return r }, 3},
		{"delete last is undetectable without a checkpoint", func(r []alliance.AuditEvent) []alliance.AuditEvent { return r[:4] }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := verify(tt.tamper(chain(5)))
			if v.BrokenAt != tt.broken || v.OK != (tt.broken == 0) {
				t.Errorf("got %+v, want broken at %d", v, tt.broken)
			}
		})
	}
}

func TestDecideRoute(t *testing.T) {
	se := alliance.Organisation{Code: "SE-HOTLINE", Kind: alliance.OrgHotline, CountryCode: "SE"}
	hotline := func(cc string) (string, bool) {
		for _, m := range alliance.FoundingMembers {
			if m == cc {
				return alliance.HotlineCode(cc), true
			}
		}
		return "", false
	}
	ok := func(cc string) alliance.Trace {
		return alliance.Trace{Status: alliance.TraceOK, IP: "192.0.2.1", Country: cc}
	}
	tests := []struct {
		name     string
		trace    alliance.Trace
		kind     alliance.RouteKind
		org      string
		police   string
		inReason string
	}{
		{"national", ok("SE"), alliance.RouteNational, "SE-HOTLINE", "SE-POLICE", "Sweden"},
		{"forward to a member", ok("NL"), alliance.RouteForward, "NL-HOTLINE", "", "Netherlands"},
		{"no member hotline", ok("RU"), alliance.RouteNoHotline, "SE-HOTLINE", "", "Russia"},
		{"untraceable", alliance.Trace{Status: alliance.TraceNXDomain}, alliance.RouteNoHotline, "SE-HOTLINE", "", "nxdomain"},
		{"no country for the address", ok(""), alliance.RouteNoHotline, "SE-HOTLINE", "", "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := alliance.DecideRoute(se, tt.trace, hotline)
			if r.Kind != tt.kind || r.OrgCode != tt.org || r.Police != tt.police {
				t.Errorf("got %+v, want %s to %s (police %q)", r, tt.kind, tt.org, tt.police)
			}
			if !strings.Contains(r.Reason, tt.inReason) {
				t.Errorf("reason %q lacks %q", r.Reason, tt.inReason)
			}
		})
	}
}
