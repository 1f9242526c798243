package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/federation"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestPeers checks the admins' peers page: the node's own identity to give
// to other operators, none at first, then a peer added on the command line
// whose pull failed, with the error.
func TestPeers(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		admin := e.addUser("admin@se-hotline.example", "SE-HOTLINE", alliance.RoleAdmin)
		c := e.client()
		c.login(admin.Email)
		sys := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
		me, err := e.app.NodeIdentity(sys)
		if err != nil {
			t.Fatal(err)
		}
		res := c.get("/peers?lang=en")
		wantStatus(t, res, http.StatusOK)
		wantContains(t, res.Body, `<h1>Federation peers</h1>`, `<code>`+me.NodeID+`</code>`,
			strings.ReplaceAll(federation.EncodePublicKey(me.Public()), "+", "&#43;"), `<p id="peers-none">No peers yet.</p>`, `href="/peers"`)

		nl, err := federation.NewIdentity("NL")
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.app.PutPeer(sys, app.PeerInput{URL: "https://nl-node.example.test", Key: federation.EncodePublicKey(nl.Public()),
			Country: "NL", Countries: []string{"NL"}})
		if err != nil {
			t.Fatal(err)
		}
		err = db.InTx(sys, func(tx *store.Tx) error {
			claimed, err := tx.ClaimPeers(sys, 1, time.Minute)
			if err != nil || len(claimed) != 1 {
				t.Fatalf("claim the peer: %v, %d", err, len(claimed))
			}
			_, err = tx.RecordPull(sys, claimed[0], "", "pull https://nl-node.example.test: connection refused", tx.Now().Add(time.Minute))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		res = c.get("/peers")
		wantStatus(t, res, http.StatusOK)
		wantContains(t, res.Body, `<caption id="peers-caption">1 peer</caption>`, `<code>`+p.NodeID+`</code>`,
			`<code class="url">https://nl-node.example.test</code>`, `data-failures="1"><strong>1 failed pull</strong>`,
			"connection refused", "Items forwarded for:</span> NL")
		wantLacks(t, res.Body, `id="peers-none"`)
		wantContains(t, c.get("/peers?lang=sv").Body, "Anslutna noder", "1 misslyckad hämtning")
	})
}

// TestBrowserAdmin walks an admin's pages in headless Chromium: the peers
// page from the navigation, then disabling a user with the home page's
// button.
func TestBrowserAdmin(t *testing.T) {
	ctx := testutil.Browser(t)
	e := newEnv(t, testutil.NewSQLite(t), true)
	admin := e.addUser("admin@se-hotline.example", "SE-HOTLINE", alliance.RoleAdmin)
	e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
	srv := e.browserServer()
	step(t, ctx, "log in and open the peers page",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("email"), admin.Email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.Click(chromedp.CSS(`nav a[href="/peers"]`)),
		chromedp.WaitVisible(chromedp.ID("node-identity")),
	)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Federation peers") || !strings.Contains(text, "No peers yet.") || !strings.Contains(text, "alliance peer add") {
		t.Errorf("peers page:\n%s", text)
	}
	screenshot(t, ctx, "web-peers.png")
	step(t, ctx, "disable the analyst",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.Click(chromedp.CSS(`button[aria-label="Disable analyst@se-hotline.example"]`)),
		chromedp.WaitVisible(chromedp.ID("users-done")),
		chromedp.WaitVisible(chromedp.CSS(`button[aria-label="Enable analyst@se-hotline.example"]`)),
	)
	screenshot(t, ctx, "web-users.png")
}
