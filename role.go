package alliance

import (
	"slices"
	"strings"
)

// Role is what a user does in their organisation; it decides their permissions.
type Role string

// The roles of the platform.
const (
	RoleAdmin       Role = "admin"       // runs the node for their organisation: users, tokens, settings
	RoleAnalyst     Role = "analyst"     // hotline analyst: assesses reports, sends notices
	RolePolice      Role = "police"      // law enforcement: holds, series, victim identification
	RoleSecretariat Role = "secretariat" // alliance secretariat: reporting across countries
	RoleAuditor     Role = "auditor"     // reads the audit trail, changes nothing
)

// Roles lists every role, in a stable order for menus and error messages.
var Roles = []Role{RoleAdmin, RoleAnalyst, RolePolice, RoleSecretariat, RoleAuditor}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Roles, r) {
		return r, nil
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", FieldErrorf("role", "Unknown role %q; valid roles: %s.", s, strings.Join(names, ", "))
}

// Permission is one thing a role may do. Authorisation checks name a
// permission, never a role, so the table below is the single place to change.
type Permission string

// The permissions of the platform.
const (
	PermViewOwnOrg       Permission = "org:view"          // see one's own organisation and its users
	PermManageUsers      Permission = "users:manage"      // add users and tokens in one's organisation
	PermViewOrganisation Permission = "orgs:list"         // list the organisations of the alliance
	PermViewAudit        Permission = "audit:view"        // read the audit trail of one's organisation
	PermVerifyAudit      Permission = "audit:verify"      // verify the audit chain of the whole node
	PermCreateToken      Permission = "tokens:create"     // create API tokens for oneself
	PermViewReports      Permission = "reports:view"      // read reports and items of one's organisation
	PermSubmitReports    Permission = "reports:submit"    // submit reports with one's organisation as receiver
	PermAssess           Permission = "items:assess"      // classify items
	PermHold             Permission = "items:hold"        // place law-enforcement holds
	PermViewAllCountries Permission = "alliance:view-all" // see alliance-wide figures of every country
	PermManageBanks      Permission = "banks:manage"      // create, share, import and edit one's organisation's banks
	PermMatch            Permission = "hashes:match"      // match hashes against banks owned by or shared with one's organisation
	PermSupervise        Permission = "items:supervise"   // decide disputed assessments of one's organisation
	PermViewSeries       Permission = "series:view"       // see victim-identification series (notes: police only)
	PermManageSeries     Permission = "series:manage"     // create series, change their status, link items by hand
	PermEditTargets      Permission = "targets:edit"      // edit the alliance's targets and goals (a new version)
)

// permissions is the role × permission table. Keep it the only source of truth:
// internal/app consults it through Can, and the access tests read it too.
var permissions = map[Role][]Permission{
	RoleAdmin: {
		PermViewOwnOrg, PermManageUsers, PermViewOrganisation, PermViewAudit,
		PermVerifyAudit, PermCreateToken, PermViewReports, PermSubmitReports, PermManageBanks, PermMatch,
		PermSupervise,
	},
	RoleAnalyst: {
		PermViewOwnOrg, PermViewOrganisation, PermCreateToken, PermViewReports, PermSubmitReports, PermAssess,
		PermManageBanks, PermMatch,
	},
	RolePolice: {
		PermViewOwnOrg, PermViewOrganisation, PermCreateToken, PermViewReports, PermSubmitReports, PermHold,
		PermManageBanks, PermMatch, PermViewSeries, PermManageSeries,
	},
	RoleSecretariat: {
		PermViewOwnOrg, PermViewOrganisation, PermCreateToken, PermViewAllCountries, PermViewSeries, PermEditTargets,
	},
	RoleAuditor: {
		PermViewOwnOrg, PermViewOrganisation, PermViewAudit, PermVerifyAudit,
	},
}

// Can reports whether role r holds permission p.
func (r Role) Can(p Permission) bool {
	return slices.Contains(permissions[r], p)
}

// Permissions returns a copy of the permissions held by role r.
func (r Role) Permissions() []Permission {
	return slices.Clone(permissions[r])
}
