package httpapi_test

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

type bankImportResponse struct {
	Import struct {
		ID          int64   `json:"id"`
		Bank        string  `json:"bank"`
		Owner       string  `json:"owner"`
		Format      string  `json:"format"`
		Status      string  `json:"status"`
		RecordsRead int64   `json:"records_read"`
		Added       int64   `json:"added"`
		Existing    int64   `json:"existing"`
		Error       string  `json:"error"`
		CreatedAt   string  `json:"created_at"`
		StartedAt   *string `json:"started_at"`
		FinishedAt  *string `json:"finished_at"`
	} `json:"import"`
}

func TestBankImportAPI(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		in := newIntake(t, db, testHosts, httpapi.Options{})
		var queued []int64
		in.app.SetBankImportEnqueuer(func(_ context.Context, _ *sql.Tx, id int64) error {
			queued = append(queued, id)
			return nil
		})
		se := in.tokens["SE-HOTLINE"]
		if w := in.do(t, request{method: http.MethodPost, path: "/api/v1/banks", auth: se, body: `{"name":"known"}`}); w.Code != http.StatusCreated {
			t.Fatalf("create bank: %d %s", w.Code, w.Body)
		}
		csv := "algorithm,value,category\n" +
			"pdq," + strings.Repeat("a5", 32) + ",c1\n" +
			"md5," + strings.Repeat("0f", 16) + ",c2\n"
		runJob := func() {
			t.Helper()
			sys := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
			for _, id := range queued {
				if err := in.app.RunImport(sys, id); err != nil {
					t.Fatalf("run import %d: %v", id, err)
				}
			}
			queued = nil
		}
		tests := []struct {
			name, body, status, err string
			read, added             int64
		}{
			{"good", csv, "done", "", 2, 2},
			{"again", csv, "done", "", 2, 0},
			{"bad record", csv + "pdq,zz,c1\n", "failed", "Line 4", 2, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := in.do(t, request{method: http.MethodPost, path: "/api/v1/banks/known/import?format=csv", auth: se, body: tt.body})
				if w.Code != http.StatusAccepted {
					t.Fatalf("import: %d %s, want 202", w.Code, w.Body)
				}
				var res bankImportResponse
				decodeBody(t, w, &res)
				loc := w.Header().Get("Location")
				if res.Import.Status != "queued" || res.Import.Bank != "known" || res.Import.Format != "csv" ||
					loc != "/api/v1/bank-imports/"+strings.TrimSpace(strings.TrimPrefix(loc, "/api/v1/bank-imports/")) || len(queued) != 1 {
					t.Fatalf("import answer %+v, Location %q, queued %v", res.Import, loc, queued)
				}
				runJob()
				var got bankImportResponse
				in.get(t, "SE-HOTLINE", loc, &got)
				if got.Import.ID != res.Import.ID || got.Import.Status != tt.status || got.Import.Added != tt.added ||
					!strings.Contains(got.Import.Error, tt.err) || got.Import.FinishedAt == nil ||
					(tt.status == "done" && (got.Import.RecordsRead != tt.read || got.Import.Existing != tt.read-tt.added)) {
					t.Errorf("import after the job: %+v", got.Import)
				}
				if w := in.do(t, request{method: http.MethodGet, path: loc, auth: in.tokens["NL-HOTLINE"]}); w.Code != http.StatusNotFound {
					t.Errorf("another organisation's GET %s: %d, want 404", loc, w.Code)
				}
			})
		}
		// The failed import left the bank as it was: a header and two entries.
		w := in.do(t, request{method: http.MethodGet, path: "/api/v1/banks/known/export?format=csv", auth: se})
		if w.Code != http.StatusOK || strings.Count(w.Body.String(), "\n") != 3 {
			t.Errorf("export after the imports: %d %s", w.Code, w.Body)
		}
		if w := in.do(t, request{method: http.MethodGet, path: "/api/v1/bank-imports/999", auth: se}); w.Code != http.StatusNotFound {
			t.Errorf("unknown import: %d, want 404", w.Code)
		}
	})
}
