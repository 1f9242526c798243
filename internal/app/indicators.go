package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"alliance"
	"alliance/internal/store"
)

// CountryIndicators are the indicators of one country and period, computed
// from the platform's own records, with the previous period's for change.
type CountryIndicators struct {
	Country  string
	Period   alliance.Period
	Values   []alliance.IndicatorValue // in alliance.Indicators order
	Previous []alliance.IndicatorValue // the period before, same order
}

// Indicators computes a country's indicators for a period and the period
// before. The secretariat (and the system) may ask about any country; other
// users about their organisation's country only. The takedown indicators
// come from the same code as the takedown figures; the series ones from
// the series figures (for a quarter, its year's).
func (a *App) Indicators(ctx context.Context, cc, period string) (CountryIndicators, error) {
	actor := alliance.ActorFromContext(ctx)
	if !actor.Can(alliance.PermViewAllCountries) {
		if _, err := require(ctx, alliance.PermViewReports); err != nil {
			return CountryIndicators{}, err
		}
	}
	cc = strings.ToUpper(strings.TrimSpace(cc))
	if !alliance.ValidCountryCode(cc) {
		return CountryIndicators{}, alliance.FieldErrorf("country", "Unknown country %q: give an ISO 3166-1 alpha-2 code such as SE.", cc)
	}
	p, err := alliance.ParsePeriod(period)
	if err != nil {
		return CountryIndicators{}, err
	}
	out := CountryIndicators{Country: cc, Period: p}
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		if !actor.System && !actor.Can(alliance.PermViewAllCountries) {
			org, err := tx.OrganisationByCode(ctx, actor.OrgCode)
			if err != nil {
				return err
			}
			if org.CountryCode != cc {
				return alliance.Errorf(alliance.EFORBIDDEN, "You may see the indicators of %s only.", org.CountryCode)
			}
		}
		series, err := tx.SeriesSamples(ctx)
		if err != nil {
			return err
		}
		years := alliance.ComputeSeriesYears(series)
		for i, per := range []alliance.Period{p, p.Previous()} {
			vals, err := a.periodIndicators(ctx, tx, cc, per, years)
			if err != nil {
				return err
			}
			if i == 0 {
				out.Values = vals
			} else {
				out.Previous = vals
			}
		}
		return nil
	})
	if err != nil {
		return CountryIndicators{}, fmt.Errorf("app: indicators of %s %s: %w", cc, period, err)
	}
	return out, nil
}

func (a *App) periodIndicators(ctx context.Context, tx *store.Tx, cc string, p alliance.Period, years []alliance.SeriesYear) ([]alliance.IndicatorValue, error) {
	counts, err := tx.CountryIndicatorCounts(ctx, cc, p.From, p.To)
	if err != nil {
		return nil, err
	}
	samples, err := tx.TakedownSamples(ctx, store.StatsQuery{All: true, From: p.From, To: p.To, Country: cc})
	if err != nil {
		return nil, err
	}
	figs := alliance.ComputeTakedownFigures(samples, a.now())
	peers, err := tx.Peers(ctx)
	if err != nil {
		return nil, err
	}
	var contributed int64
	for ref, b := range counts.BankEntries {
		shared := b.Shared || slices.ContainsFunc(peers, func(p store.Peer) bool { return slices.Contains(p.Banks, ref) })
		if shared {
			contributed += b.Entries
		}
	}
	num := func(v float64) *float64 { return &v }
	seconds := func(d interface{ Seconds() float64 }, ok bool) *float64 {
		if !ok {
			return nil
		}
		return num(d.Seconds())
	}
	var identified, newSeries *float64
	for _, y := range years {
		if y.Country == cc && y.Year == p.From.Year() {
			identified, newSeries = num(float64(y.Identified)), num(float64(y.New))
		}
	}
	if identified == nil {
		identified, newSeries = num(0), num(0)
	}
	vals := map[string]*float64{
		"reports_received":         num(float64(counts.ReportsReceived)),
		"items_hosted":             num(float64(counts.ItemsHosted)),
		"items_removed":            num(float64(counts.ItemsRemoved)),
		"items_forwarded":          num(float64(counts.ItemsForwarded)),
		"items_received":           num(float64(counts.ItemsReceived)),
		"bank_entries_contributed": num(float64(contributed)),
		"series_identified":        identified,
		"series_new":               newSeries,
		"awareness_actions":        nil, // entered by hand, in progress updates
	}
	cs, err := tx.Commitments(ctx, cc)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		for _, pu := range c.Progress {
			v, ok := pu.Values["awareness_actions"]
			// A year counts the updates of its quarters too.
			if ok && (pu.Period == p.Label || strings.HasPrefix(pu.Period, p.Label+"-Q")) {
				if vals["awareness_actions"] == nil {
					vals["awareness_actions"] = num(0)
				}
				*vals["awareness_actions"] += v
			}
		}
	}
	if figs.MedianReportToRemoval != nil {
		vals["median_removal"] = seconds(*figs.MedianReportToRemoval, true)
		vals["p90_removal"] = seconds(*figs.P90ReportToRemoval, true)
	}
	if figs.Items > 0 {
		vals["removed_within_3d"] = num(figs.Within3Days)
	}
	out := make([]alliance.IndicatorValue, len(alliance.Indicators))
	for i, d := range alliance.Indicators {
		out[i] = alliance.IndicatorValue{Key: d.Key, Value: vals[d.Key]}
	}
	return out, nil
}
