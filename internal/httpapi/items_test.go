package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/testutil"
	"alliance/internal/trace"
)

func TestReadVisibility(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		in := newIntake(t, db, testHosts, httpapi.Options{})
		s := in.submit(t, "", `{"urls":["https://www.example.com/seen"]}`)
		item := itemPath(s.Items[0].ID)
		tests := []struct {
			name, path, auth string
			wantStatus       int
			wantField        string
		}{
			{"item, receiving organisation", item, in.tokens["SE-HOTLINE"], 200, ""},
			{"item, other organisation", item, in.tokens["NL-HOTLINE"], 404, ""},
			{"item, anonymous", item, "", 401, ""},
			{"report, receiving organisation", reportPath(s.ID), in.tokens["SE-HOTLINE"], 200, ""},
			{"report, other organisation", reportPath(s.ID), in.tokens["NL-HOTLINE"], 404, ""},
			{"report, anonymous", reportPath(s.ID), "", 401, ""},
			{"list, anonymous", "/api/v1/items", "", 401, ""},
			{"no such item", itemPath(s.Items[0].ID + 1000), in.tokens["SE-HOTLINE"], 404, ""},
			{"no such report", reportPath(s.ID + 1000), in.tokens["SE-HOTLINE"], 404, ""},
			{"item id zero", "/api/v1/items/0", in.tokens["SE-HOTLINE"], 400, "id"},
			{"item id negative", "/api/v1/items/-3", in.tokens["SE-HOTLINE"], 400, "id"},
			{"item id word", "/api/v1/items/abc", in.tokens["SE-HOTLINE"], 400, "id"},
			{"item id past int64", "/api/v1/items/9223372036854775808", in.tokens["SE-HOTLINE"], 400, "id"},
			{"report id word", "/api/v1/reports/x1", in.tokens["SE-HOTLINE"], 400, "id"},
			{"retrace id word", "/api/v1/items/x/retrace", in.tokens["SE-HOTLINE"], 400, "id"},
			{"retrace, other organisation", item + "/retrace", in.tokens["NL-HOTLINE"], 404, ""},
			{"retrace, anonymous", item + "/retrace", "", 401, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				method := http.MethodGet
				if strings.HasSuffix(tt.path, "/retrace") {
					method = http.MethodPost
				}
				w := in.do(t, request{method: method, path: tt.path, auth: tt.auth})
				if w.Code != tt.wantStatus {
					t.Fatalf("status %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
				}
				if tt.wantStatus == http.StatusOK {
					return
				}
				var env envelope
				decodeBody(t, w, &env)
				if env.Error.Field != tt.wantField {
					t.Errorf("error = %+v, want field %q", env.Error, tt.wantField)
				}
			})
		}
	})
}

func TestListItemsPages(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		in := newIntake(t, db, testHosts, httpapi.Options{})
		var urls []string
		for i := range 7 {
			urls = append(urls, fmt.Sprintf("%q", fmt.Sprintf("https://www.example.com/page/%d", i)))
		}
		s := in.submit(t, in.tokens["SE-HOTLINE"], `{"urls":[`+strings.Join(urls, ",")+`]}`)
		in.submit(t, in.tokens["NL-HOTLINE"], `{"urls":["https://www.example.com/not-ours"]}`)

		seen := map[int64]bool{}
		var sizes []int
		path := "/api/v1/items?limit=3"
		for page := 0; ; page++ {
			if page > 3 {
				t.Fatal("more pages than items")
			}
			var p itemPage
			in.get(t, "SE-HOTLINE", path, &p)
			sizes = append(sizes, len(p.Items))
			for i, it := range p.Items {
				if seen[it.ID] {
					t.Errorf("item %d on two pages", it.ID)
				}
				seen[it.ID] = true
				if it.Organisation != "SE-HOTLINE" || it.ReportID != s.ID {
					t.Errorf("item %+v is not SE-HOTLINE's", it)
				}
				if i > 0 && it.ID > p.Items[i-1].ID {
					t.Errorf("page %d not newest first: %d after %d", page, it.ID, p.Items[i-1].ID)
				}
			}
			if p.Next == nil {
				break
			}
			path = "/api/v1/items?limit=3&cursor=" + url.QueryEscape(*p.Next)
		}
		if fmt.Sprint(sizes) != "[3 3 1]" || len(seen) != 7 {
			t.Errorf("page sizes %v, %d distinct items; want [3 3 1] and 7", sizes, len(seen))
		}

		for _, tt := range []struct{ query, field string }{
			{"limit=0", "limit"},
			{"limit=501", "limit"},
			{"limit=ten", "limit"},
			{"status=lost", "status"},
			{"route=sideways", "route"},
			{"cursor=not-a-cursor", "cursor"},
		} {
			t.Run(tt.query, func(t *testing.T) {
				w := in.do(t, request{method: http.MethodGet, path: "/api/v1/items?" + tt.query, auth: in.tokens["SE-HOTLINE"]})
				if w.Code != http.StatusBadRequest {
					t.Fatalf("status %d; body %s", w.Code, w.Body)
				}
				var env envelope
				decodeBody(t, w, &env)
				if env.Error.Field != tt.field {
					t.Errorf("error = %+v, want field %q", env.Error, tt.field)
				}
			})
		}
	})
}

// TestTraceAndRoute follows reports through a trace batch: trace and route
// appear on the items, the destination of a forward can read it, and a
// re-trace of an item that moved changes its route and keeps the history.
func TestTraceAndRoute(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		in := newIntake(t, db, testHosts+trace.ExampleSE+" moving.example.test\n", httpapi.Options{})
		sys := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
		s := in.submit(t, "", `{"urls":[`+
			`"http://`+trace.ExampleSE+`/x",`+
			`"http://`+trace.ExampleNL+`/",`+
			`"http://`+trace.ExampleRU+`/",`+
			`"https://nl.example.test/a",`+
			`"https://gone.example.test/",`+
			`"https://moving.example.test/"]}`)
		if _, err := in.app.TraceBatch(sys, 100); err != nil {
			t.Fatalf("TraceBatch: %v", err)
		}
		type want struct {
			country, kind, org, police, traceStatus string
		}
		tests := []struct {
			name string
			want want
		}{
			{"Swedish network", want{"SE", "national", "SE-HOTLINE", "SE-POLICE", "ok"}},
			{"Dutch network", want{"NL", "forward", "NL-HOTLINE", "", "ok"}},
			{"Russian network", want{"RU", "no-hotline", "SE-HOTLINE", "", "ok"}},
			{"name on a Dutch network", want{"NL", "forward", "NL-HOTLINE", "", "ok"}},
			// A failed trace is shown, and retried with backoff before the
			// item is routed as untraceable.
			{"name that does not resolve", want{"", "", "", "", "nxdomain"}},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var it itemOut
				in.get(t, "SE-HOTLINE", itemPath(s.Items[i].ID), &it)
				tr, rt := it.Trace, it.Route
				if tr == nil {
					t.Fatalf("item %s: no trace", it.URL)
				}
				if tr.Status != tt.want.traceStatus || tr.DataDate == "" || tr.TracedAt.IsZero() {
					t.Errorf("trace %+v", tr)
				}
				if tt.want.country != "" {
					if tr.Country == nil || *tr.Country != tt.want.country || tr.IP == nil || tr.ASN == nil || tr.ASOrg == nil {
						t.Errorf("trace %+v, want country %s with address and network", tr, tt.want.country)
					}
				} else if tr.IP != nil || tr.Country != nil || tr.ASN != nil {
					t.Errorf("failed trace %+v shows an address", tr)
				}
				if tt.want.kind == "" {
					if it.Status != "new" || rt != nil || len(it.RouteHistory) != 0 {
						t.Errorf("item waiting for a retry: status %q, route %+v, history %+v", it.Status, rt, it.RouteHistory)
					}
					return
				}
				if it.Status != "routed" || rt == nil {
					t.Fatalf("item %s: status %q, route %+v", it.URL, it.Status, rt)
				}
				if rt.Kind != tt.want.kind || rt.Organisation != tt.want.org || rt.Police != tt.want.police ||
					rt.Reason == "" || rt.DecidedAt.IsZero() {
					t.Errorf("route %+v, want %+v", rt, tt.want)
				}
				if len(it.RouteHistory) != 1 || it.RouteHistory[0].Kind != rt.Kind {
					t.Errorf("route history %+v, want the one route", it.RouteHistory)
				}
				// The destination of a forward sees the item; no one else does.
				w := in.do(t, request{method: http.MethodGet, path: itemPath(it.ID), auth: in.tokens["NL-HOTLINE"]})
				if wantStatus := map[bool]int{true: 200, false: 404}[rt.Organisation == "NL-HOTLINE"]; w.Code != wantStatus {
					t.Errorf("NL-HOTLINE reads it: status %d, want %d", w.Code, wantStatus)
				}
			})
		}

		t.Run("filters", func(t *testing.T) {
			for _, tt := range []struct {
				query string
				want  int
			}{
				{"route=forward", 2}, {"route=national", 2}, {"route=no-hotline", 1},
				{"country=NL", 2}, {"country=SE", 2}, {"status=routed", 5}, {"status=new", 1},
				{"status=routed&route=forward&country=NL", 2}, {"route=forward&country=SE", 0},
			} {
				var p itemPage
				in.get(t, "SE-HOTLINE", "/api/v1/items?"+tt.query, &p)
				if len(p.Items) != tt.want {
					t.Errorf("%s: %d items, want %d", tt.query, len(p.Items), tt.want)
				}
			}
			var p itemPage
			in.get(t, "NL-HOTLINE", "/api/v1/items", &p)
			if len(p.Items) != 2 || p.Items[0].Route == nil || p.Items[0].Route.Kind != "forward" {
				t.Errorf("NL-HOTLINE sees %+v, want the two forwards", p.Items)
			}
		})

		t.Run("retrace after a move", func(t *testing.T) {
			moving := s.Items[5].ID
			w := in.do(t, request{method: http.MethodPost, path: itemPath(moving) + "/retrace", auth: in.tokens["SE-HOTLINE"]})
			if w.Code != http.StatusAccepted {
				t.Fatalf("retrace: status %d; body %s", w.Code, w.Body)
			}
			var queued struct {
				ItemID int64 `json:"item_id"`
				Queued bool  `json:"queued"`
			}
			decodeBody(t, w, &queued)
			if queued.ItemID != moving || !queued.Queued {
				t.Errorf("answer %+v", queued)
			}
			// The host moved to a Dutch network; the next batch sees it there.
			moved := newIntakeApp(t, db, testHosts+trace.ExampleNL+" moving.example.test\n")
			if _, err := moved.TraceBatch(sys, 100); err != nil {
				t.Fatalf("TraceBatch: %v", err)
			}
			var it itemOut
			in.get(t, "SE-HOTLINE", itemPath(moving), &it)
			if it.Route == nil || it.Route.Kind != "forward" || it.Route.Organisation != "NL-HOTLINE" {
				t.Fatalf("route after the move = %+v", it.Route)
			}
			var kinds []string
			for _, r := range it.RouteHistory {
				kinds = append(kinds, r.Kind+" "+r.Organisation)
			}
			if got := strings.Join(kinds, ", "); got != "national SE-HOTLINE, forward NL-HOTLINE" {
				t.Errorf("route history = %s", got)
			}
		})
	})
}
