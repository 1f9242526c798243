package httpapi

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/bankfile"
)

// maxImportBytes bounds a bank file uploaded through the API; larger files
// go through `alliance bank import`.
const maxImportBytes = 1 << 30

type matchRequest struct {
	Hashes []matchQueryJSON `json:"hashes"`
}

type matchQueryJSON struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
	Threshold *int   `json:"threshold,omitempty"`
}

type bankMatchJSON struct {
	EntryID          int64  `json:"entry_id"`
	Bank             string `json:"bank"`
	BankOrg          string `json:"bank_org"`
	Value            string `json:"value"`
	Distance         int    `json:"distance"`
	Category         string `json:"category"`
	CategoryScheme   string `json:"category_scheme"`
	Series           string `json:"series"`
	VictimIdentified *bool  `json:"victim_identified"`
	Source           string `json:"source"`
}

type matchResultJSON struct {
	Query   matchQueryJSON  `json:"query"`
	Matches []bankMatchJSON `json:"matches"`
}

// match answers POST /api/v1/match.
func (h *api) match(w http.ResponseWriter, r *http.Request) error {
	var req matchRequest
	if err := DecodeJSON(w, r, &req, 0); err != nil {
		return err
	}
	qs := make([]app.MatchQuery, len(req.Hashes))
	for i, q := range req.Hashes {
		qs[i] = app.MatchQuery{Algorithm: q.Algorithm, Value: q.Value, Threshold: q.Threshold}
	}
	res, err := h.app.Match(r.Context(), qs)
	if err != nil {
		return err
	}
	out := struct {
		Results []matchResultJSON `json:"results"`
	}{Results: make([]matchResultJSON, len(res))}
	for i, rr := range res {
		t := rr.Threshold
		mr := matchResultJSON{Query: matchQueryJSON{Algorithm: string(rr.Algorithm), Value: rr.Value, Threshold: &t},
			Matches: make([]bankMatchJSON, len(rr.Matches))}
		for j, m := range rr.Matches {
			mr.Matches[j] = bankMatchJSON{EntryID: m.EntryID, Bank: m.Bank, BankOrg: m.BankOrg, Value: m.Value,
				Distance: m.Distance, Category: m.Category, CategoryScheme: m.Scheme, Series: m.Series,
				VictimIdentified: m.VictimIdentified, Source: m.Source}
		}
		out.Results[i] = mr
	}
	return WriteJSON(w, http.StatusOK, out)
}

type bankJSON struct {
	Name         string    `json:"name"`
	Owner        string    `json:"owner"`
	Description  string    `json:"description"`
	PDQThreshold int       `json:"pdq_threshold"`
	Entries      int64     `json:"entries"`
	SharedWith   []string  `json:"shared_with"`
	CreatedAt    time.Time `json:"created_at"`
}

func newBankJSON(b *alliance.Bank) bankJSON {
	shared := b.SharedWith
	if shared == nil {
		shared = []string{}
	}
	return bankJSON{Name: b.Name, Owner: b.OwnerOrg, Description: b.Description, PDQThreshold: b.PDQThreshold,
		Entries: b.Entries, SharedWith: shared, CreatedAt: b.CreatedAt}
}

// createBank answers POST /api/v1/banks.
func (h *api) createBank(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name         string `json:"name"`
		Description  string `json:"description"`
		PDQThreshold *int   `json:"pdq_threshold"`
	}
	if err := DecodeJSON(w, r, &req, 0); err != nil {
		return err
	}
	b, err := h.app.CreateBank(r.Context(), app.BankInput{Name: req.Name, Description: req.Description, PDQThreshold: req.PDQThreshold})
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, newBankJSON(&b))
}

// listBanks answers GET /api/v1/banks.
func (h *api) listBanks(w http.ResponseWriter, r *http.Request) error {
	banks, err := h.app.Banks(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Banks []bankJSON `json:"banks"`
	}{Banks: make([]bankJSON, len(banks))}
	for i := range banks {
		out.Banks[i] = newBankJSON(&banks[i])
	}
	return WriteJSON(w, http.StatusOK, out)
}

// shareBank answers POST /api/v1/banks/{name}/shares.
func (h *api) shareBank(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Org string `json:"org"`
	}
	if err := DecodeJSON(w, r, &req, 0); err != nil {
		return err
	}
	if err := h.app.ShareBank(r.Context(), r.PathValue("name"), req.Org); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// fileFormat reads the format query parameter (csv when absent).
func fileFormat(r *http.Request) (bankfile.Format, error) {
	s := r.URL.Query().Get("format")
	if s == "" {
		return bankfile.CSV, nil
	}
	f, err := bankfile.ParseFormat(s)
	if err != nil {
		return "", alliance.FieldErrorf("format", "format must be vics, csv or hma.")
	}
	return f, nil
}

// importBank answers POST /api/v1/banks/{name}/import?format=[&wait=true]:
// the body is the file. It is staged and imported by a background job: the
// answer is 202 with the import (GET /api/v1/bank-imports/{id} follows it).
// With wait=true the file is imported in one transaction before the answer,
// which carries the counts.
func (h *api) importBank(w http.ResponseWriter, r *http.Request) error {
	f, err := fileFormat(r)
	if err != nil {
		return err
	}
	if r.ContentLength > maxImportBytes {
		return alliance.Errorf(alliance.ETOOLARGE, "A bank file over 1 GiB must be imported with `alliance bank import`.")
	}
	body := importBody{http.MaxBytesReader(w, r.Body, maxImportBytes)}
	if wait, _ := strconv.ParseBool(r.URL.Query().Get("wait")); !wait {
		imp, err := h.app.StartImport(r.Context(), r.PathValue("name"), f, body)
		if err != nil {
			return err
		}
		w.Header().Set("Location", bankImportPath(imp.ID))
		return WriteJSON(w, http.StatusAccepted, struct {
			Import bankImportJSON `json:"import"`
		}{newBankImportJSON(&imp)})
	}
	rd, err := bankfile.NewReader(bufio.NewReader(body), f)
	if err != nil {
		return alliance.FieldErrorf("format", "format must be vics, csv or hma.")
	}
	res, err := h.app.ImportEntries(r.Context(), r.PathValue("name"), app.FileEntries(rd), nil)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, struct {
		Read     int64 `json:"read"`
		Added    int64 `json:"added"`
		Existing int64 `json:"existing"`
	}{res.Read, res.Added, res.Existing})
}

// importBody turns the error of a body over maxImportBytes into ETOOLARGE.
type importBody struct{ r io.Reader }

// Read implements io.Reader.
func (b importBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = alliance.Errorf(alliance.ETOOLARGE, "A bank file over 1 GiB must be imported with `alliance bank import`.")
	}
	return n, err
}

func bankImportPath(id int64) string { return "/api/v1/bank-imports/" + strconv.FormatInt(id, 10) }

type bankImportJSON struct {
	ID          int64      `json:"id"`
	Bank        string     `json:"bank"`
	Owner       string     `json:"owner"`
	Format      string     `json:"format"`
	Status      string     `json:"status"`
	RecordsRead int64      `json:"records_read"`
	Added       int64      `json:"added"`
	Existing    int64      `json:"existing"`
	Error       string     `json:"error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
}

func newBankImportJSON(imp *app.BankImport) bankImportJSON {
	return bankImportJSON{ID: imp.ID, Bank: imp.Bank, Owner: imp.OrgCode, Format: imp.Format, Status: imp.Status,
		RecordsRead: imp.RecordsRead, Added: imp.Added, Existing: imp.Present, Error: imp.Error,
		CreatedAt: imp.CreatedAt, StartedAt: imp.StartedAt, FinishedAt: imp.FinishedAt}
}

// getBankImport answers GET /api/v1/bank-imports/{id}: the import's status,
// its counts so far and, when it failed, why.
func (h *api) getBankImport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	imp, err := h.app.ImportStatus(r.Context(), id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, struct {
		Import bankImportJSON `json:"import"`
	}{newBankImportJSON(&imp)})
}

// exportBank answers GET /api/v1/banks/{name}/export?format=, streaming.
// An error after the first entry is written can only cut the file short
// (it is logged); before that it is the usual envelope.
func (h *api) exportBank(w http.ResponseWriter, r *http.Request) error {
	f, err := fileFormat(r)
	if err != nil {
		return err
	}
	var fw bankfile.Writer
	started := false
	err = h.app.ExportEntries(r.Context(), r.PathValue("name"), func(e alliance.HashEntry) error {
		if !started {
			started = true
			ct := "text/csv; charset=utf-8"
			switch f {
			case bankfile.VICS:
				ct = "application/json"
			case bankfile.HMA:
				ct = "text/plain; charset=utf-8"
			}
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(http.StatusOK)
			var err error
			if fw, err = bankfile.NewWriter(w, f); err != nil {
				return err
			}
		}
		return fw.Write(app.FileEntry(e))
	})
	if err == nil && !started { // an empty bank: an empty file of the format
		w.WriteHeader(http.StatusOK)
		if fw, err = bankfile.NewWriter(w, f); err != nil {
			return err
		}
	}
	if err == nil {
		err = fw.Close()
	}
	if err != nil && started {
		h.log.WarnContext(r.Context(), "api: export cut short", "err", err, "request_id", alliance.RequestIDFromContext(r.Context()))
		return nil
	}
	return err
}

// disableEntry answers POST /api/v1/banks/{name}/entries/{id}/disable.
func (h *api) disableEntry(w http.ResponseWriter, r *http.Request) error {
	return h.setEntryActive(w, r, false)
}

// enableEntry answers POST /api/v1/banks/{name}/entries/{id}/enable.
func (h *api) enableEntry(w http.ResponseWriter, r *http.Request) error {
	return h.setEntryActive(w, r, true)
}

// setEntryActive switches the entry named by the path on or off.
func (h *api) setEntryActive(w http.ResponseWriter, r *http.Request, active bool) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := h.app.SetEntryActive(r.Context(), r.PathValue("name"), id, active); err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, struct {
		EntryID int64 `json:"entry_id"`
		Active  bool  `json:"active"`
	}{id, active})
}
