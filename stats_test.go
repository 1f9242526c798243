package alliance

import (
	"testing"
	"time"
)

func TestTakedownFigures(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(-100 * 24 * time.Hour).Add(d); return &v }
	base := *at(0)
	h := time.Hour
	samples := []TakedownSample{
		{Country: "SE", ASN: 1, ReportedAt: base, NoticeAt: at(2 * h), RemovedAt: at(10 * h)},      // 10 h
		{Country: "SE", ASN: 1, ReportedAt: base, NoticeAt: at(2 * h), RemovedAt: at(50 * h)},      // 2 days 2 h
		{Country: "NL", ASN: 2, ReportedAt: base, NoticeAt: at(1 * h), RemovedAt: at(6 * 24 * h)},  // 6 days
		{Country: "NL", ASN: 2, ReportedAt: base, NoticeAt: at(1 * h), RemovedAt: at(50 * 24 * h)}, // 50 days: up after 42
		{Country: "RU", ASN: 3, ReportedAt: base, NoticeAt: at(1 * h)},                             // still up, 100 days
		{Country: "RU", ASN: 3, ReportedAt: now.Add(-24 * h)},                                      // still up, 1 day
	}
	f := ComputeTakedownFigures(samples, now)
	if f.Items != 6 || f.Removed != 4 || f.Open != 2 || f.UpAfter42Days != 2 {
		t.Errorf("counts: %+v", f)
	}
	// Removal times sorted: 10 h, 50 h, 144 h, 1200 h. Nearest rank: median
	// is the 2nd (50 h), p90 the 4th.
	if *f.MedianReportToRemoval != 50*h || *f.P90ReportToRemoval != 1200*h {
		t.Errorf("report to removal: %v %v", *f.MedianReportToRemoval, *f.P90ReportToRemoval)
	}
	if *f.MedianNoticeToRemoval != 48*h {
		t.Errorf("notice to removal median %v, want 48h", *f.MedianNoticeToRemoval)
	}
	if f.Within1Day != 1.0/6 || f.Within3Days != 2.0/6 || f.Within7Days != 3.0/6 {
		t.Errorf("shares: %v %v %v", f.Within1Day, f.Within3Days, f.Within7Days)
	}
	empty := ComputeTakedownFigures(nil, now)
	if empty.Items != 0 || empty.MedianReportToRemoval != nil || empty.Within3Days != 0 {
		t.Errorf("empty: %+v", empty)
	}
	byCountry, byNetwork := GroupTakedownFigures(samples, now)
	if len(byCountry) != 3 || byCountry[0].Country != "NL" || byCountry[0].Items != 2 || len(byNetwork) != 3 || byNetwork[2].ASN != 3 {
		t.Errorf("groups: %+v / %+v", byCountry, byNetwork)
	}
}

func TestSeriesYears(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	p := func(t time.Time) *time.Time { return &t }
	ys := ComputeSeriesYears([]SeriesSample{
		{Country: "SE", FirstSeenAt: d(2025, 1, 1), IdentifiedAt: p(d(2025, 1, 11))},
		{Country: "SE", FirstSeenAt: d(2025, 6, 1), IdentifiedAt: p(d(2026, 1, 1))},
		{Country: "SE", FirstSeenAt: d(2026, 1, 1), IdentifiedAt: p(d(2026, 1, 3))},
		{Country: "SE", FirstSeenAt: d(2026, 2, 1)},
		{Country: "NL", FirstSeenAt: d(2026, 3, 1)},
	})
	if len(ys) != 3 {
		t.Fatalf("%+v", ys)
	}
	nl, se25, se26 := ys[0], ys[1], ys[2]
	if nl.Country != "NL" || nl.New != 1 || nl.Identified != 0 || nl.MedianToIdentify != nil || nl.Growth != nil {
		t.Errorf("NL 2026: %+v", nl)
	}
	if se25.New != 2 || se25.Identified != 1 || *se25.MedianToIdentify != 10*24*time.Hour || se25.Growth != nil {
		t.Errorf("SE 2025: %+v", se25)
	}
	// 2026: two identified (one first seen in 2025), +100% on 2025.
	if se26.New != 2 || se26.Identified != 2 || se26.Growth == nil || *se26.Growth != 1.0 {
		t.Errorf("SE 2026: %+v", se26)
	}
}
