package store

import (
	"context"
	"database/sql"
	"fmt"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"alliance"
)

// Countries returns every country, ordered by name. The order is the English
// collation ("Åland Islands" next to "Albania"), the same on both databases
// whatever their locale.
func (tx *Tx) Countries(ctx context.Context) ([]alliance.Country, error) {
	rows, err := tx.query(ctx, `SELECT code, name, member, member_since FROM countries ORDER BY code`)
	if err != nil {
		return nil, wrapErr(err, "list countries", errMsgs{})
	}
	defer rows.Close()
	var out []alliance.Country
	for rows.Next() {
		var c alliance.Country
		if err := rows.Scan(&c.Code, &c.Name, &c.Member, scanNullTime(&c.MemberSince)); err != nil {
			return nil, wrapErr(err, "list countries", errMsgs{})
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "list countries", errMsgs{})
	}
	collate.New(language.English).Sort(countrySorter{out})
	return out, nil
}

// countrySorter sorts countries by name for collate.Collator.Sort.
type countrySorter struct{ c []alliance.Country }

func (s countrySorter) Len() int           { return len(s.c) }
func (s countrySorter) Swap(i, j int)      { s.c[i], s.c[j] = s.c[j], s.c[i] }
func (s countrySorter) Bytes(i int) []byte { return []byte(s.c[i].Name) }

const orgColumns = `id, code, name, kind, country_code`

func scanOrganisation(row interface{ Scan(...any) error }) (alliance.Organisation, error) {
	var (
		o    alliance.Organisation
		kind string
		cc   sql.NullString
	)
	err := row.Scan(&o.ID, &o.Code, &o.Name, &kind, &cc)
	o.Kind, o.CountryCode = alliance.OrgKind(kind), cc.String
	return o, err
}

// Organisations returns every organisation, ordered by code.
func (tx *Tx) Organisations(ctx context.Context) ([]alliance.Organisation, error) {
	rows, err := tx.query(ctx, `SELECT `+orgColumns+` FROM organisations ORDER BY code`)
	if err != nil {
		return nil, wrapErr(err, "list organisations", errMsgs{})
	}
	defer rows.Close()
	var out []alliance.Organisation
	for rows.Next() {
		o, err := scanOrganisation(rows)
		if err != nil {
			return nil, wrapErr(err, "list organisations", errMsgs{})
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, "list organisations", errMsgs{})
	}
	return out, nil
}

// OrganisationByCode returns the organisation with the code; ENOTFOUND if none.
func (tx *Tx) OrganisationByCode(ctx context.Context, code string) (alliance.Organisation, error) {
	o, err := scanOrganisation(tx.queryRow(ctx, `SELECT `+orgColumns+` FROM organisations WHERE code = $1`, code))
	if err != nil {
		return alliance.Organisation{}, wrapErr(err, fmt.Sprintf("organisation %q", code),
			errMsgs{notFound: fmt.Sprintf("Organisation %q not found.", code)})
	}
	return o, nil
}
