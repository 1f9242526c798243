package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// fixture is an API over a fresh database with one analyst of SE-HOTLINE
// holding a token.
type fixture struct {
	db    *store.DB
	h     http.Handler
	token string
	user  alliance.User
	logs  *bytes.Buffer
}

func newFixture(t *testing.T, db *store.DB) fixture {
	t.Helper()
	logs := new(bytes.Buffer)
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	a := app.New(app.Options{DB: db, Logger: logger, HomeOrg: "SE-HOTLINE"})
	ctx := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
	u, err := a.AddUser(ctx, app.NewUser{Email: "Ann@Example.org", Name: "Ann Analyst", OrgCode: "SE-HOTLINE", Role: "analyst"})
	if err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	tok, err := a.CreateToken(ctx, u.Email, "test")
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	return fixture{db: db, h: httpapi.New(a, httpapi.Options{Logger: logger}), token: tok.Secret, user: u, logs: logs}
}

// do serves one request; auth is the whole Authorization header ("" for none).
func (f fixture) do(t *testing.T, method, path, auth string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), method, path, nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// envelope is the error envelope as a client reads it.
type envelope struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// decodeBody decodes a JSON response into v, failing on trailing data.
func decodeBody(t *testing.T, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json; body %s", ct, w.Body)
	}
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("trailing data after JSON value")
	}
}

func TestAuthentication(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tests := []struct {
			name       string
			path, auth string
			wantStatus int
			wantCode   string
			wantChall  string // WWW-Authenticate
		}{
			{"me valid token", "/api/v1/me", "Bearer " + f.token, 200, "", ""},
			{"me lower-case scheme", "/api/v1/me", "bearer " + f.token, 200, "", ""},
			{"me no token", "/api/v1/me", "", 401, alliance.EUNAUTHORIZED, "Bearer"},
			{"me wrong token", "/api/v1/me", "Bearer alt_wrongwrongwrong", 401, alliance.EUNAUTHORIZED, `Bearer error="invalid_token"`},
			{"me token without prefix", "/api/v1/me", "Bearer nonsense", 401, alliance.EUNAUTHORIZED, `Bearer error="invalid_token"`},
			{"me basic auth", "/api/v1/me", "Basic YTpi", 401, alliance.EUNAUTHORIZED, `Bearer error="invalid_request"`},
			{"me empty bearer", "/api/v1/me", "Bearer", 401, alliance.EUNAUTHORIZED, `Bearer error="invalid_request"`},
			{"me two words", "/api/v1/me", "Bearer " + f.token + " x", 401, alliance.EUNAUTHORIZED, `Bearer error="invalid_request"`},
			{"countries anonymous", "/api/v1/countries", "", 200, "", ""},
			{"countries wrong token", "/api/v1/countries", "Bearer alt_wrong", 401, alliance.EUNAUTHORIZED, `Bearer error="invalid_token"`},
			{"organisations anonymous", "/api/v1/organisations", "", 401, alliance.EUNAUTHORIZED, "Bearer"},
			{"organisations valid token", "/api/v1/organisations", "Bearer " + f.token, 200, "", ""},
			{"openapi anonymous", "/api/v1/openapi.json", "", 200, "", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := f.do(t, http.MethodGet, tt.path, tt.auth)
				if w.Code != tt.wantStatus {
					t.Fatalf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
				}
				if got := w.Header().Get("WWW-Authenticate"); got != tt.wantChall {
					t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantChall)
				}
				if tt.wantCode == "" {
					return
				}
				var env envelope
				decodeBody(t, w, &env)
				if env.Error.Code != tt.wantCode || env.Error.Message == "" {
					t.Errorf("error = %+v, want code %q with a message", env.Error, tt.wantCode)
				}
				if strings.Contains(w.Body.String(), f.token) {
					t.Errorf("response echoes the token")
				}
			})
		}
	})
}

func TestMe(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		w := f.do(t, http.MethodGet, "/api/v1/me", "Bearer "+f.token)
		if w.Code != http.StatusOK {
			t.Fatalf("status = %d; body %s", w.Code, w.Body)
		}
		type org struct {
			Code    string  `json:"code"`
			Name    string  `json:"name"`
			Kind    string  `json:"kind"`
			Country *string `json:"country"`
		}
		var got struct {
			User struct {
				ID    int64  `json:"id"`
				Email string `json:"email"`
				Name  string `json:"name"`
				Role  string `json:"role"`
			} `json:"user"`
			Organisation org      `json:"organisation"`
			Permissions  []string `json:"permissions"`
		}
		decodeBody(t, w, &got)
		if got.User.ID != f.user.ID || got.User.Email != "ann@example.org" || got.User.Name != "Ann Analyst" || got.User.Role != "analyst" {
			t.Errorf("user = %+v", got.User)
		}
		se := "SE"
		if diff := cmp.Diff(org{Code: "SE-HOTLINE", Name: "Sweden hotline", Kind: "hotline", Country: &se}, got.Organisation); diff != "" {
			t.Errorf("organisation (-want +got):\n%s", diff)
		}
		var want []string
		for _, p := range alliance.RoleAnalyst.Permissions() {
			want = append(want, string(p))
		}
		if diff := cmp.Diff(want, got.Permissions); diff != "" {
			t.Errorf("permissions (-want +got):\n%s", diff)
		}
	})
}

func TestCountries(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		w := f.do(t, http.MethodGet, "/api/v1/countries", "")
		if w.Code != http.StatusOK {
			t.Fatalf("status = %d; body %s", w.Code, w.Body)
		}
		// Decode into raw values too, to see nulls as nulls.
		var raw struct {
			Countries []map[string]any `json:"countries"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		if len(raw.Countries) != 249 {
			t.Fatalf("%d countries, want 249", len(raw.Countries))
		}
		byCode := map[string]map[string]any{}
		members := 0
		for _, c := range raw.Countries {
			if len(c) != 4 {
				t.Errorf("country %v has %d fields, want code, name, member, member_since", c, len(c))
			}
			byCode[c["code"].(string)] = c
			if c["member"] == true {
				members++
				if c["member_since"] == nil {
					t.Errorf("member %v without member_since", c["code"])
				}
			} else if c["member_since"] != nil {
				t.Errorf("non-member %v with member_since %v", c["code"], c["member_since"])
			}
		}
		if members != 48 {
			t.Errorf("%d members, want 48", members)
		}
		tests := []struct {
			code string
			want map[string]any
		}{
			{"SE", map[string]any{"code": "SE", "name": "Sweden", "member": true, "member_since": "2012-12-05"}},
			{"US", map[string]any{"code": "US", "name": alliance.CountryName("US"), "member": true, "member_since": "2012-12-05"}},
			{"BR", map[string]any{"code": "BR", "name": alliance.CountryName("BR"), "member": false, "member_since": nil}},
		}
		for _, tt := range tests {
			t.Run(tt.code, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, byCode[tt.code]); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestOrganisations(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		w := f.do(t, http.MethodGet, "/api/v1/organisations", "Bearer "+f.token)
		if w.Code != http.StatusOK {
			t.Fatalf("status = %d; body %s", w.Code, w.Body)
		}
		var raw struct {
			Organisations []map[string]any `json:"organisations"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		if want := 2*len(alliance.FoundingMembers) + 1; len(raw.Organisations) != want {
			t.Fatalf("%d organisations, want %d", len(raw.Organisations), want)
		}
		byCode := map[string]map[string]any{}
		for _, o := range raw.Organisations {
			byCode[o["code"].(string)] = o
		}
		tests := []struct {
			code string
			want map[string]any
		}{
			{"SE-POLICE", map[string]any{"code": "SE-POLICE", "name": "Sweden police", "kind": "police", "country": "SE"}},
			{alliance.SecretariatCode, map[string]any{"code": alliance.SecretariatCode, "name": "Global Alliance secretariat", "kind": "secretariat", "country": nil}},
		}
		for _, tt := range tests {
			t.Run(tt.code, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, byCode[tt.code]); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestNoRoute(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tests := []struct {
			name, method, path string
			wantStatus         int
			wantCode           string
			wantAllow          string
		}{
			{"unknown path", http.MethodGet, "/api/v1/nothing-here", 404, alliance.ENOTFOUND, ""},
			{"unknown version", http.MethodGet, "/api/v0/me", 404, alliance.ENOTFOUND, ""},
			{"wrong method", http.MethodPost, "/api/v1/me", 405, "method_not_allowed", "GET, HEAD"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := f.do(t, tt.method, tt.path, "")
				if w.Code != tt.wantStatus {
					t.Fatalf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
				}
				var env envelope
				decodeBody(t, w, &env)
				if env.Error.Code != tt.wantCode {
					t.Errorf("code = %q, want %q", env.Error.Code, tt.wantCode)
				}
				if got := w.Header().Get("Allow"); got != tt.wantAllow {
					t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
				}
			})
		}
	})
}

// TestInternalErrorHidden checks that a failing database shows the client a
// generic message only, while the log has the detail with the request id.
func TestInternalErrorHidden(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequestWithContext(alliance.NewContextWithRequestID(t.Context(), "req-42"), http.MethodGet, "/api/v1/countries", nil)
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		if w.Code != http.StatusInternalServerError && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("status = %d, want 500 or 503; body %s", w.Code, w.Body)
		}
		var env envelope
		decodeBody(t, w, &env)
		if env.Error.Code == alliance.EINTERNAL && env.Error.Message != "Internal error." {
			t.Errorf("message = %q, want the generic one", env.Error.Message)
		}
		if strings.Contains(strings.ToLower(env.Error.Message), "sql") {
			t.Errorf("message leaks detail: %q", env.Error.Message)
		}
		if logs := f.logs.String(); !strings.Contains(logs, `"request_id":"req-42"`) || !strings.Contains(logs, "closed") {
			t.Errorf("log lacks the request id or the detail:\n%s", logs)
		}
	})
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		err        error
		wantStatus int
		want       string
	}{
		{alliance.FieldErrorf("email", "Bad e-mail."), 400, `{"error":{"code":"invalid","message":"Bad e-mail.","field":"email"}}`},
		{alliance.Errorf(alliance.EUNAUTHORIZED, "Log in."), 401, `{"error":{"code":"unauthorized","message":"Log in."}}`},
		{alliance.Errorf(alliance.EFORBIDDEN, "No."), 403, `{"error":{"code":"forbidden","message":"No."}}`},
		{alliance.Errorf(alliance.ENOTFOUND, "Gone."), 404, `{"error":{"code":"not_found","message":"Gone."}}`},
		{alliance.Errorf(alliance.ECONFLICT, "Taken."), 409, `{"error":{"code":"conflict","message":"Taken."}}`},
		{alliance.Errorf(alliance.ETOOLARGE, "Big."), 413, `{"error":{"code":"too_large","message":"Big."}}`},
		{alliance.Errorf(alliance.ERATELIMIT, "Slow down."), 429, `{"error":{"code":"rate_limited","message":"Slow down."}}`},
		{alliance.Errorf(alliance.EUNAVAILABLE, "Later."), 503, `{"error":{"code":"unavailable","message":"Later."}}`},
		{alliance.Errorf(alliance.EINTERNAL, "secret detail"), 500, `{"error":{"code":"internal","message":"Internal error."}}`},
		{io.ErrUnexpectedEOF, 500, `{"error":{"code":"internal","message":"Internal error."}}`},
		{alliance.Errorf("made_up", "Odd."), 500, `{"error":{"code":"internal","message":"Internal error."}}`},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			w := httptest.NewRecorder()
			httpapi.WriteError(w, tt.err)
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if got := strings.TrimSpace(w.Body.String()); got != tt.want {
				t.Errorf("body = %s, want %s", got, tt.want)
			}
			if got := w.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if wantChall := tt.wantStatus == 401; (w.Header().Get("WWW-Authenticate") != "") != wantChall {
				t.Errorf("WWW-Authenticate = %q", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

// TestWriteErrorRetryAfter checks that a 429 says when to retry, in whole
// seconds rounded up, and that other errors do not.
func TestWriteErrorRetryAfter(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unknown wait", alliance.Errorf(alliance.ERATELIMIT, "Slow down."), "1"},
		{"under a second", &alliance.Error{Code: alliance.ERATELIMIT, Message: "Slow down.", RetryAfter: 10 * time.Millisecond}, "1"},
		{"whole seconds", &alliance.Error{Code: alliance.ERATELIMIT, Message: "Slow down.", RetryAfter: 30 * time.Second}, "30"},
		{"rounded up", &alliance.Error{Code: alliance.ERATELIMIT, Message: "Slow down.", RetryAfter: 30*time.Second + time.Nanosecond}, "31"},
		{"wrapped", fmt.Errorf("app: submit: %w", &alliance.Error{Code: alliance.ERATELIMIT, Message: "Slow down.", RetryAfter: 90 * time.Second}), "90"},
		{"not rate limited", &alliance.Error{Code: alliance.EINVALID, Message: "Bad.", RetryAfter: time.Minute}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			httpapi.WriteError(w, tt.err)
			if got := w.Header().Get("Retry-After"); got != tt.want {
				t.Errorf("Retry-After = %q, want %q", got, tt.want)
			}
		})
	}
}
