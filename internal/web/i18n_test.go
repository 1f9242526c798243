package web

import (
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"golang.org/x/text/language"

	"alliance"
	"alliance/internal/app"
)

// readCatalogue returns the message ids of a catalogue file.
func readCatalogue(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := fs.ReadFile(localeFS, path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := toml.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ids := make(map[string]bool, len(raw))
	for k, v := range raw {
		if m, ok := v.(map[string]any); ok {
			if _, ok := m["other"]; !ok {
				t.Errorf("%s: %s is a table without an \"other\" form (a [table] header swallowing the keys below it?)", path, k)
			}
		}
		ids[k] = true
	}
	return ids
}

// TestCataloguesComplete checks that every language has exactly the
// messages of English, so adding a language file cannot leave gaps.
func TestCataloguesComplete(t *testing.T) {
	en := readCatalogue(t, "locales/active.en.toml")
	files, err := fs.Glob(localeFS, "locales/active.*.toml")
	if err != nil || len(files) < 2 {
		t.Fatalf("catalogues: %v %v", files, err)
	}
	for _, f := range files {
		tag := strings.TrimSuffix(strings.TrimPrefix(f, "locales/active."), ".toml")
		if _, err := language.Parse(tag); err != nil {
			t.Errorf("%s: %q is not a language tag: %v", f, tag, err)
		}
		ids := readCatalogue(t, f)
		for _, id := range slices.Sorted(maps.Keys(en)) {
			if !ids[id] {
				t.Errorf("%s lacks %s", f, id)
			}
		}
		for _, id := range slices.Sorted(maps.Keys(ids)) {
			if !en[id] {
				t.Errorf("%s has %s, which English lacks", f, id)
			}
		}
	}
}

var templateIDRE = regexp.MustCompile(`\bt "([A-Za-z]+)"`)

// TestMessagesExist checks that every message the UI asks for is in the
// English catalogue: the literal ids in templates and the ids chosen in Go.
func TestMessagesExist(t *testing.T) {
	en := readCatalogue(t, "locales/active.en.toml")
	used := map[string]bool{}
	tmpls, _ := fs.Glob(templateFS, "templates/*.html")
	for _, f := range tmpls {
		b, _ := fs.ReadFile(templateFS, f)
		for _, m := range templateIDRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	// Ids chosen at run time.
	for _, id := range []string{
		"NavHome", "NavCountries", "NavUsers", "NavQueue", "NavMembers", "NavAudit", "NavLogin",
		"LandingTitle", "LoginTitle", "HomeTitle", "CountriesTitle",
		"LoginFailed", "LoginRateLimited",
		"NavItems", "NavReport", "ReportTitle", "ThanksTitle", "ItemsTitle", "ItemTitle", "ReportViewTitle",
		"ReportErrorURLLine", "ReportErrorURLs", "ReportErrorCategory", "ReportErrorDescription",
		"ReportErrorEmail", "ReportErrorOther", "ReportWaitSeconds", "ReportWaitMinutes", "ReportResend",
		"QueueTitle",
		"NavStats", "StatsTitle", "Percent", "StatsUnknownCountry", "StatsNoRemovals",
		"StatsBar1Day", "StatsBar3Days", "StatsBar7Days", "StatsBarMedian", "StatsBarP90",
		"NavPeers", "PeersTitle", "UsersDisabledDone", "UsersEnabledDone", "UsersAddedDone", "PasswordTitle", "TokensTitle",
		"NavSeries", "NavAlerts", "SeriesTitle", "SeriesViewTitle", "AlertsTitle",
		"StatsShareTitle", "StatsShareDesc", "StatsTimeTitle", "StatsTimeDesc",
		"NavReporting", "DashboardTitle", "CountryReportTitle", "CommitmentsTitle",
		"DashboardMapTitle", "DashboardMapDesc", "DashboardChartTitle", "DashboardChartDesc",
		"DashboardTimeTitle", "DashboardTimeDesc", "DashboardGoalTitle", "DashboardGoalDesc",
		"DashboardBarIdentified", "DashboardBarGoal", "GoalMet", "GoalNotMet", "TargetsTitle",
	} {
		used[id] = true
	}
	// Labels of codes, chosen by value (the template function "label").
	for _, c := range alliance.Categories {
		used[categoryMessage(c)] = true
	}
	labels := map[string][]string{
		"ItemStatus":   {string(alliance.ItemNew), string(alliance.ItemRouted), string(alliance.ItemDuplicate)},
		"RouteKind":    {string(alliance.RouteNational), string(alliance.RouteForward), string(alliance.RouteNoHotline)},
		"ReportSource": {string(alliance.SourcePublic), string(alliance.SourceIndustry), string(alliance.SourceHotline)},
		"TraceStatus": {string(alliance.TracePending), string(alliance.TraceOK), string(alliance.TraceNXDomain),
			string(alliance.TraceTimeout), string(alliance.TraceNoData), string(alliance.TraceError)},
		"FetchStatus":   {string(alliance.FetchPending), string(alliance.FetchFetched), string(alliance.FetchNotAccessible)},
		"FetchReason":   {"dns", "refused", "timeout", "blocked", "too_large", "http_4xx", "http_5xx", "redirects", "tls", "error"},
		"Known":         {string(alliance.KnownNone), string(alliance.KnownPartial), string(alliance.KnownAll)},
		"MediumKind":    {string(alliance.MediumImage), string(alliance.MediumVideo), string(alliance.MediumOther)},
		"MediumStatus":  {string(alliance.MediumHashed), string(alliance.MediumFailed), string(alliance.MediumDeferred)},
		"QueueKnown":    {string(alliance.KnownNone), string(alliance.KnownPartial), string(alliance.KnownAll)},
		"QueueKind":     {string(app.QueueAssess), string(app.QueuePolice), string(app.QueueDisputed)},
		"ContentType":   {string(alliance.ContentImage), string(alliance.ContentVideo), string(alliance.ContentOther)},
		"Agreement":     {string(alliance.AgreementFirst), string(alliance.AgreementConfirm), string(alliance.AgreementDispute)},
		"NoticeKind":    {"notice", "renotice"},
		"NoticeChannel": {"email", "webhook"},
		"NoticeStatus":  {"pending", "sent", "failed"},
		// The values of the default label scheme that have names; others
		// (A1, B2, …) are codes shown as they are.
		"LabelValue": {"under_3", "3_to_12", "13_to_17", "unknown"},
	}
	for _, v := range alliance.Verdicts {
		labels["Verdict"] = append(labels["Verdict"], string(v))
	}
	// The overall figures of the takedown page: each with its definition.
	for _, f := range figureIDs {
		used[f.msg], used[f.msg+"Def"] = true, true
	}
	for _, d := range alliance.Indicators {
		labels["Ind"] = append(labels["Ind"], d.Key)
	}
	labels["ActionStatus"] = alliance.ActionStatuses
	for _, s := range alliance.SeriesStatuses {
		labels["SeriesStatus"] = append(labels["SeriesStatus"], string(s))
	}
	for _, s := range alliance.TakedownStatuses {
		labels["TakedownStatus"] = append(labels["TakedownStatus"], string(s))
	}
	for _, f := range alliance.DefaultLabelScheme.Fields {
		labels["LabelField"] = append(labels["LabelField"], f.Name)
	}
	for prefix, codes := range labels {
		for _, c := range codes {
			used[prefix+camel(c)] = true
		}
	}
	for _, r := range alliance.Roles {
		used[roleMessage(r)] = true
	}
	used[roleMessage("")] = true
	for _, id := range []string{
		"ErrorNotFound", "ErrorForbidden", "ErrorInvalid", "ErrorConflict", "ErrorTooLarge",
		"ErrorRateLimited", "ErrorUnavailable", "ErrorInternal", "ErrorBadForm", "ErrorCSRF",
	} {
		used[id], used[id+"Help"] = true, true
	}
	for _, id := range slices.Sorted(maps.Keys(used)) {
		if !en[id] {
			t.Errorf("message %s is used but not in active.en.toml", id)
		}
	}
	// And the other way round: no dead messages.
	for _, id := range slices.Sorted(maps.Keys(en)) {
		if !used[id] {
			t.Errorf("message %s in active.en.toml is never used", id)
		}
	}
}

// TestTranslatorPlural checks plural forms and unknown ids.
func TestTranslatorPlural(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang, id string
		count    int
		want     string
	}{
		{"en", "CountriesCaptionAll", 1, "1 country"},
		{"en", "CountriesCaptionAll", 249, "249 countries"},
		{"sv", "CountriesCaptionAll", 1, "1 land"},
		{"sv", "CountriesCaptionAll", 249, "249 länder"},
	} {
		tag, ok := c.parse(tc.lang)
		if !ok {
			t.Fatalf("language %s not loaded", tc.lang)
		}
		got, err := c.byTag[tag].T(tc.id, "Count", tc.count)
		if err != nil || got != tc.want {
			t.Errorf("%s %s(%d) = %q, %v; want %q", tc.lang, tc.id, tc.count, got, err, tc.want)
		}
	}
	if _, err := c.byTag[language.English].T("NoSuchMessage"); err == nil {
		t.Error("an unknown message id is not an error")
	}
}
