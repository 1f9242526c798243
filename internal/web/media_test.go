package web_test

import (
	"crypto/md5"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/demosite"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

type entries []alliance.HashEntry

func (s *entries) Next() (alliance.HashEntry, error) {
	if len(*s) == 0 {
		return alliance.HashEntry{}, io.EOF
	}
	e := (*s)[0]
	*s = (*s)[1:]
	return e, nil
}

// TestItemMediaPage checks the item page's fetch section: the outcome, the
// match state with the inherited classification, each medium's address as
// text (never a link, never an image), its shortened hashes and matches;
// and the button that queues a new fetch.
func TestItemMediaPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		se := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		ctx := alliance.NewContextWithActor(t.Context(), se.Actor())
		if _, err := e.app.CreateBank(ctx, app.BankInput{Name: "known"}); err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum(demosite.NoisePNG(7))
		src := entries{{Algorithm: alliance.HashMD5, Value: sum[:], Series: "s-7",
			Classification: alliance.Classification{Scheme: "test-scheme", Category: "baseline"}}}
		if _, err := e.app.ImportEntries(ctx, "known", &src, nil); err != nil {
			t.Fatal(err)
		}
		if err := e.app.Matcher().Load(t.Context()); err != nil {
			t.Fatal(err)
		}
		page := e.site + "/page?img=/noise/7.png&img=/noise/8.png"
		e.client().submitReport(url.Values{"urls": {page}})
		e.traceAll()
		e.fetchAll()
		it := itemByURL(t, e.visibleItems(se), page)

		c := e.client()
		c.login(se.Email)
		res := c.get(fmt.Sprintf("/items/%d", it.ID))
		wantStatus(t, res, http.StatusOK)
		wantContains(t, res.Body, `id="fetch-status">Fetched</dd>`, "a web page; its media were fetched",
			"Partially known: some media matched a hash bank", "2 media",
			`<code class="url">`+e.site+`/noise/7.png</code>`, `<code class="url">`+e.site+`/noise/8.png</code>`,
			"SE-HOTLINE/known · md5", "<code>baseline</code>", "series s-7",
			fmt.Sprintf(`<code title="%x">%x…`, sum, sum[:4]))
		if strings.Contains(res.Body, "<img") || strings.Contains(res.Body, `href="`+e.site) {
			t.Error("the item page shows or links to a medium")
		}

		token := regexp.MustCompile(`action="/items/\d+/refetch"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]*)"`).FindStringSubmatch(res.Body)
		if token == nil {
			t.Fatalf("no refetch form:\n%s", res.Body)
		}
		res = c.post(fmt.Sprintf("/items/%d/refetch", it.ID), url.Values{"csrf": {html.UnescapeString(token[1])}})
		wantStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != fmt.Sprintf("/items/%d?refetched=1", it.ID) {
			t.Errorf("refetch went to %q", loc)
		}
		wantContains(t, c.get(fmt.Sprintf("/items/%d?refetched=1", it.ID)).Body, "queued for a new fetch")
		wantStatus(t, c.post(fmt.Sprintf("/items/%d/refetch", it.ID), url.Values{"csrf": {"forged"}}), http.StatusForbidden)
	})
}
