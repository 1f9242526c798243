package alliance

import (
	"cmp"
	"slices"
	"time"
)

// TakedownSample is what the takedown figures need of one illegal item:
// where it was hosted and when it was reported, noticed and removed.
type TakedownSample struct {
	Country    string
	ASN        uint32
	ASOrg      string
	ReportedAt time.Time
	NoticeAt   *time.Time // first notice to the host
	RemovedAt  *time.Time
}

// UpLongThreshold is the age at which material still online counts as
// "still up after 42 days" (Project Arachnid's long tail).
const UpLongThreshold = 42 * 24 * time.Hour

// TakedownFigures are computed from recorded timestamps only, never entered
// by hand. Durations are nil when no item has them.
type TakedownFigures struct {
	Items   int // illegal items reported in the period
	Removed int
	Open    int // not removed yet
	// From the report to the removal, and from the first notice to the
	// removal, over the removed items.
	MedianReportToRemoval *time.Duration
	P90ReportToRemoval    *time.Duration
	MedianNoticeToRemoval *time.Duration
	P90NoticeToRemoval    *time.Duration
	// Shares of all the period's items removed within 1, 3 and 7 days of
	// the report (0 when there are no items).
	Within1Day, Within3Days, Within7Days float64
	// UpAfter42Days counts items online 42 days after their report: still
	// up and reported that long ago, or removed later than that.
	UpAfter42Days int
}

// ComputeTakedownFigures computes the figures of samples as of now.
func ComputeTakedownFigures(samples []TakedownSample, now time.Time) TakedownFigures {
	f := TakedownFigures{Items: len(samples)}
	var toRemoval, fromNotice []time.Duration
	within := [3]int{}
	for _, s := range samples {
		if s.RemovedAt == nil {
			f.Open++
			if now.Sub(s.ReportedAt) >= UpLongThreshold {
				f.UpAfter42Days++
			}
			continue
		}
		f.Removed++
		d := max(s.RemovedAt.Sub(s.ReportedAt), 0)
		toRemoval = append(toRemoval, d)
		if s.NoticeAt != nil {
			fromNotice = append(fromNotice, max(s.RemovedAt.Sub(*s.NoticeAt), 0))
		}
		for i, days := range []int{1, 3, 7} {
			if d <= time.Duration(days)*24*time.Hour {
				within[i]++
			}
		}
		if d > UpLongThreshold {
			f.UpAfter42Days++
		}
	}
	f.MedianReportToRemoval, f.P90ReportToRemoval = percentile(toRemoval, 50), percentile(toRemoval, 90)
	f.MedianNoticeToRemoval, f.P90NoticeToRemoval = percentile(fromNotice, 50), percentile(fromNotice, 90)
	if f.Items > 0 {
		f.Within1Day = float64(within[0]) / float64(f.Items)
		f.Within3Days = float64(within[1]) / float64(f.Items)
		f.Within7Days = float64(within[2]) / float64(f.Items)
	}
	return f
}

// percentile is the nearest-rank p-th percentile of ds; nil when empty.
func percentile(ds []time.Duration, p int) *time.Duration {
	if len(ds) == 0 {
		return nil
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100 // ceil(p/100 · n)
	v := s[max(rank, 1)-1]
	return &v
}

// TakedownGroup is the figures of one hosting country or network.
type TakedownGroup struct {
	Country string
	ASN     uint32
	ASOrg   string
	TakedownFigures
}

// GroupTakedownFigures computes the figures per hosting country and per
// hosting network, largest groups first.
func GroupTakedownFigures(samples []TakedownSample, now time.Time) (byCountry, byNetwork []TakedownGroup) {
	countries := map[string][]TakedownSample{}
	networks := map[uint32][]TakedownSample{}
	names := map[uint32]string{}
	for _, s := range samples {
		countries[s.Country] = append(countries[s.Country], s)
		networks[s.ASN] = append(networks[s.ASN], s)
		if s.ASOrg != "" {
			names[s.ASN] = s.ASOrg
		}
	}
	for cc, ss := range countries {
		byCountry = append(byCountry, TakedownGroup{Country: cc, TakedownFigures: ComputeTakedownFigures(ss, now)})
	}
	for asn, ss := range networks {
		byNetwork = append(byNetwork, TakedownGroup{ASN: asn, ASOrg: names[asn], TakedownFigures: ComputeTakedownFigures(ss, now)})
	}
	order := func(a, b TakedownGroup) int {
		return cmp.Or(cmp.Compare(b.Items, a.Items), cmp.Compare(a.Country, b.Country), cmp.Compare(a.ASN, b.ASN))
	}
	slices.SortFunc(byCountry, order)
	slices.SortFunc(byNetwork, order)
	return byCountry, byNetwork
}

// SeriesSample is what the series figures need of one series.
type SeriesSample struct {
	Country      string // of the owning agency
	FirstSeenAt  time.Time
	IdentifiedAt *time.Time
}

// SeriesYear is one country's victim-identification figures of one year.
type SeriesYear struct {
	Country    string
	Year       int
	New        int // series first seen in the year
	Identified int // series identified in the year
	// MedianToIdentify is the median time from first sighting to
	// identification of the series identified in the year.
	MedianToIdentify *time.Duration
	// Growth is Identified against the year before, as a share (0.1 is
	// +10%, target 1's goal); nil when the year before identified none.
	Growth *float64
}

// ComputeSeriesYears computes the yearly figures per country, by country
// and year.
func ComputeSeriesYears(samples []SeriesSample) []SeriesYear {
	type key struct {
		cc   string
		year int
	}
	years := map[key]*SeriesYear{}
	toIdentify := map[key][]time.Duration{}
	get := func(k key) *SeriesYear {
		if years[k] == nil {
			years[k] = &SeriesYear{Country: k.cc, Year: k.year}
		}
		return years[k]
	}
	for _, s := range samples {
		get(key{s.Country, s.FirstSeenAt.UTC().Year()}).New++
		if s.IdentifiedAt != nil {
			k := key{s.Country, s.IdentifiedAt.UTC().Year()}
			get(k).Identified++
			toIdentify[k] = append(toIdentify[k], max(s.IdentifiedAt.Sub(s.FirstSeenAt), 0))
		}
	}
	out := make([]SeriesYear, 0, len(years))
	for k, y := range years {
		y.MedianToIdentify = percentile(toIdentify[k], 50)
		if prev, ok := years[key{k.cc, k.year - 1}]; ok && prev.Identified > 0 {
			g := float64(y.Identified-prev.Identified) / float64(prev.Identified)
			y.Growth = &g
		}
		out = append(out, *y)
	}
	slices.SortFunc(out, func(a, b SeriesYear) int {
		return cmp.Or(cmp.Compare(a.Country, b.Country), cmp.Compare(a.Year, b.Year))
	})
	return out
}
