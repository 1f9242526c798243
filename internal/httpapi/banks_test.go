package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

type matchResponse struct {
	Results []struct {
		Query struct {
			Algorithm string `json:"algorithm"`
			Value     string `json:"value"`
			Threshold int    `json:"threshold"`
		} `json:"query"`
		Matches []struct {
			EntryID        int64  `json:"entry_id"`
			Bank           string `json:"bank"`
			BankOrg        string `json:"bank_org"`
			Value          string `json:"value"`
			Distance       int    `json:"distance"`
			Category       string `json:"category"`
			CategoryScheme string `json:"category_scheme"`
			Series         string `json:"series"`
			Source         string `json:"source"`
			Victim         *bool  `json:"victim_identified"`
		} `json:"matches"`
	} `json:"results"`
}

func TestBanksAndMatch(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		in := newIntake(t, db, testHosts, httpapi.Options{})
		if err := in.app.Matcher().Load(t.Context()); err != nil {
			t.Fatal(err)
		}
		se, nl := in.tokens["SE-HOTLINE"], in.tokens["NL-HOTLINE"]
		post := func(auth, path, body string, want int) string {
			t.Helper()
			w := in.do(t, request{method: http.MethodPost, path: path, auth: auth, body: body})
			if w.Code != want {
				t.Fatalf("POST %s: status %d, want %d; body %s", path, w.Code, want, w.Body)
			}
			return w.Body.String()
		}
		post(se, "/api/v1/banks", `{"name":"known","pdq_threshold":20}`, http.StatusCreated)
		post(se, "/api/v1/banks", `{"name":"known"}`, http.StatusConflict)

		base := strings.Repeat("a5", 32)
		near := "5a" + base[2:] // 8 bits away
		far := strings.Repeat("5a", 16) + base[32:]
		csv := "algorithm,value,category,category_scheme,series,source\n" +
			"pdq," + base + ",c1,test-scheme,s1,unit\n" +
			"pdq," + far + ",c1,test-scheme,s1,unit\n" +
			"md5," + strings.Repeat("0f", 16) + ",c2,test-scheme,,unit\n"
		post(se, "/api/v1/banks/known/import?format=csv&wait=true", csv, http.StatusOK)
		if got := post(se, "/api/v1/banks/known/import?format=csv&wait=true", csv, http.StatusOK); !strings.Contains(got, `"added":0`) {
			t.Errorf("second import answered %s, want nothing added", got)
		}
		bad := strings.Replace(csv, ",c2,", ",c2,x,", 1) + "pdq,zz,c1,,,\n"
		if got := post(se, "/api/v1/banks/known/import?format=csv&wait=true", bad, http.StatusBadRequest); !strings.Contains(got, "Line 4") {
			t.Errorf("bad import answered %s, want it to name line 4", got)
		}

		match := fmt.Sprintf(`{"hashes":[{"algorithm":"pdq","value":%q,"threshold":31},{"algorithm":"md5","value":%q}]}`,
			strings.ToUpper(near), strings.Repeat("0F", 16))
		var res matchResponse
		w := in.do(t, request{method: http.MethodPost, path: "/api/v1/match", auth: se, body: match})
		if w.Code != http.StatusOK {
			t.Fatalf("match: %d %s", w.Code, w.Body)
		}
		decodeBody(t, w, &res)
		if len(res.Results) != 2 || len(res.Results[0].Matches) != 1 || len(res.Results[1].Matches) != 1 {
			t.Fatalf("match results %+v, want one match each (the far hash is past the bank's threshold)", res)
		}
		m := res.Results[0].Matches[0]
		if m.Bank != "known" || m.BankOrg != "SE-HOTLINE" || m.Value != base || m.Distance != 8 || m.Category != "c1" || m.CategoryScheme != "test-scheme" ||
			m.Series != "s1" || m.Source != "unit" || res.Results[0].Query.Value != near {
			t.Errorf("pdq match %+v (query %+v)", m, res.Results[0].Query)
		}

		w = in.do(t, request{method: http.MethodPost, path: "/api/v1/match", auth: nl, body: match})
		var other matchResponse
		decodeBody(t, w, &other)
		if len(other.Results[0].Matches)+len(other.Results[1].Matches) != 0 {
			t.Errorf("unshared bank matched for NL-HOTLINE: %+v", other)
		}
		post(se, "/api/v1/banks/known/shares", `{"org":"NL-HOTLINE"}`, http.StatusNoContent)
		w = in.do(t, request{method: http.MethodPost, path: "/api/v1/match", auth: nl, body: match})
		decodeBody(t, w, &other)
		if len(other.Results[0].Matches) != 1 {
			t.Errorf("shared bank did not match for NL-HOTLINE: %+v", other)
		}

		var banks struct {
			Banks []struct {
				Name         string   `json:"name"`
				Owner        string   `json:"owner"`
				Description  string   `json:"description"`
				PDQThreshold int      `json:"pdq_threshold"`
				Entries      int64    `json:"entries"`
				SharedWith   []string `json:"shared_with"`
				CreatedAt    string   `json:"created_at"`
			} `json:"banks"`
		}
		in.get(t, "SE-HOTLINE", "/api/v1/banks", &banks)
		if len(banks.Banks) != 1 || banks.Banks[0].Entries != 3 || banks.Banks[0].PDQThreshold != 20 ||
			len(banks.Banks[0].SharedWith) != 1 {
			t.Errorf("banks %+v, want known with 3 entries", banks)
		}
		w = in.do(t, request{method: http.MethodGet, path: "/api/v1/banks/known/export?format=csv", auth: se})
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), base) || strings.Count(w.Body.String(), "\n") != 4 {
			t.Errorf("export: %d %s", w.Code, w.Body)
		}
		if w := in.do(t, request{method: http.MethodGet, path: "/api/v1/banks/known/export", auth: nl}); w.Code != http.StatusNotFound {
			t.Errorf("export by another organisation: %d", w.Code)
		}

		post(se, fmt.Sprintf("/api/v1/banks/known/entries/%d/disable", m.EntryID), "", http.StatusOK)
		w = in.do(t, request{method: http.MethodPost, path: "/api/v1/match", auth: se, body: match})
		decodeBody(t, w, &res)
		if len(res.Results[0].Matches) != 0 {
			t.Errorf("disabled entry still matches: %+v", res.Results[0])
		}
		var state struct {
			EntryID int64 `json:"entry_id"`
			Active  bool  `json:"active"`
		}
		w = in.do(t, request{method: http.MethodPost, auth: se,
			path: fmt.Sprintf("/api/v1/banks/known/entries/%d/enable", m.EntryID)})
		if w.Code != http.StatusOK {
			t.Fatalf("enable: %d %s", w.Code, w.Body)
		}
		if decodeBody(t, w, &state); state.EntryID != m.EntryID || !state.Active {
			t.Errorf("enable answered %+v", state)
		}
		w = in.do(t, request{method: http.MethodPost, path: "/api/v1/match", auth: se, body: match})
		decodeBody(t, w, &res)
		if len(res.Results[0].Matches) != 1 || res.Results[0].Matches[0].EntryID != m.EntryID {
			t.Errorf("re-enabled entry does not match: %+v", res.Results[0])
		}
		if w := in.do(t, request{method: http.MethodPost, auth: nl,
			path: fmt.Sprintf("/api/v1/banks/known/entries/%d/enable", m.EntryID)}); w.Code != http.StatusNotFound {
			t.Errorf("enable by another organisation: %d", w.Code)
		}
	})
}

func TestMatchValidationAPI(t *testing.T) {
	in := newIntake(t, testutil.NewSQLite(t), testHosts, httpapi.Options{})
	if err := in.app.Matcher().Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	ok := fmt.Sprintf(`{"algorithm":"pdq","value":%q}`, strings.Repeat("0", 64))
	many := `{"hashes":[` + strings.TrimSuffix(strings.Repeat(ok+",", 1001), ",") + `]}`
	tests := []struct {
		name, auth, body string
		status           int
		field            string
	}{
		{"anonymous", "", `{"hashes":[` + ok + `]}`, 401, ""},
		{"no hashes", in.tokens["SE-HOTLINE"], `{"hashes":[]}`, 400, "hashes"},
		{"too many", in.tokens["SE-HOTLINE"], many, 400, "hashes"},
		{"bad value", in.tokens["SE-HOTLINE"], `{"hashes":[` + ok + `,{"algorithm":"pdq","value":"abc"}]}`, 400, "hashes[1].value"},
		{"bad algorithm", in.tokens["SE-HOTLINE"], `{"hashes":[{"algorithm":"crc32","value":"00"}]}`, 400, "hashes[0].algorithm"},
		{"bad threshold", in.tokens["SE-HOTLINE"], `{"hashes":[{"algorithm":"pdq","value":"` + strings.Repeat("0", 64) + `","threshold":40}]}`, 400, "hashes[0].threshold"},
		{"fine", in.tokens["SE-HOTLINE"], `{"hashes":[` + ok + `]}`, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := in.do(t, request{method: http.MethodPost, path: "/api/v1/match", auth: tt.auth, body: tt.body})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if tt.status == 200 {
				return
			}
			var env envelope
			decodeBody(t, w, &env)
			if env.Error.Field != tt.field {
				t.Errorf("error %+v, want field %q", env.Error, tt.field)
			}
		})
	}
}
