package store

import (
	"context"
	"fmt"
	"time"
)

// CountryCounts are the counted indicators of a country over a period.
type CountryCounts struct {
	ReportsReceived int64
	ItemsHosted     int64
	ItemsRemoved    int64
	ItemsForwarded  int64
	ItemsReceived   int64
	// BankEntries are, per bank of the country's organisations (OWNER/NAME),
	// the active entries first seen in the period, and whether the bank is
	// shared with another organisation of the node.
	BankEntries map[string]BankContribution
}

// BankContribution is one bank's entries counted for an indicator.
type BankContribution struct {
	Entries int64
	Shared  bool
}

// CountryIndicatorCounts counts, for country cc and [from, to), the
// reports its organisations received, the items hosted there and removed,
// the items forwarded and received between countries, and the entries
// its banks gained.
func (tx *Tx) CountryIndicatorCounts(ctx context.Context, cc string, from, to time.Time) (CountryCounts, error) {
	op := fmt.Sprintf("indicator counts of %s", cc)
	f, t := tx.timeArg(from), tx.timeArg(to)
	var c CountryCounts
	err := tx.queryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM reports r JOIN organisations o ON o.id = r.org_id
			WHERE o.country_code = $1 AND r.received_at >= $2 AND r.received_at < $3),
		(SELECT COUNT(*) FROM items WHERE country = $1 AND status <> 'duplicate' AND created_at >= $2 AND created_at < $3),
		(SELECT COUNT(*) FROM items WHERE country = $1 AND removed_at >= $2 AND removed_at < $3),
		(SELECT COUNT(*) FROM items i JOIN organisations o ON o.id = i.org_id
			WHERE o.country_code = $1 AND (i.route_kind = 'forward' OR i.forwarded_to <> '') AND i.created_at >= $2 AND i.created_at < $3),
		(SELECT COUNT(*) FROM items i JOIN organisations o ON o.id = i.org_id
			WHERE o.country_code = $1 AND i.received_from <> '' AND i.created_at >= $2 AND i.created_at < $3)`,
		cc, f, t).Scan(&c.ReportsReceived, &c.ItemsHosted, &c.ItemsRemoved, &c.ItemsForwarded, &c.ItemsReceived)
	if err != nil {
		return c, wrapErr(err, op, errMsgs{})
	}
	rows, err := tx.query(ctx, `SELECT o.code, b.name, EXISTS (SELECT 1 FROM bank_shares s WHERE s.bank_id = b.id),
		(SELECT COUNT(*) FROM bank_entries e WHERE e.bank_id = b.id AND e.active AND e.first_seen >= $2 AND e.first_seen < $3)
		FROM banks b JOIN organisations o ON o.id = b.owner_org_id WHERE o.country_code = $1`, cc, f, t)
	if err != nil {
		return c, wrapErr(err, op+": banks", errMsgs{})
	}
	defer rows.Close()
	c.BankEntries = map[string]BankContribution{}
	for rows.Next() {
		var (
			owner, name string
			b           BankContribution
		)
		if err := rows.Scan(&owner, &name, &b.Shared, &b.Entries); err != nil {
			return c, wrapErr(err, op+": banks", errMsgs{})
		}
		c.BankEntries[owner+"/"+name] = b
	}
	return c, wrapErr(rows.Err(), op+": banks", errMsgs{})
}
