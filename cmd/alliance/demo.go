package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/config"
)

// demoPassword is the password of every demo user. The demo listens on
// loopback by default; it is not a deployment.
const demoPassword = "alliance-demo-2026"

// demoUsers are the logins the demo creates: one per role, in two countries,
// so that the separation between organisations can be seen.
var demoUsers = []app.NewUser{
	{Email: "admin@se-hotline.example.org", Name: "Demo admin (SE)", OrgCode: "SE-HOTLINE", Role: "admin"},
	{Email: "analyst@se-hotline.example.org", Name: "Demo analyst (SE)", OrgCode: "SE-HOTLINE", Role: "analyst"},
	{Email: "police@se-police.example.org", Name: "Demo police (SE)", OrgCode: "SE-POLICE", Role: "police"},
	{Email: "analyst@nl-hotline.example.org", Name: "Demo analyst (NL)", OrgCode: "NL-HOTLINE", Role: "analyst"},
	{Email: "secretariat@secretariat.example.org", Name: "Demo secretariat", OrgCode: "INT-SECRETARIAT", Role: "secretariat"},
	{Email: "auditor@se-hotline.example.org", Name: "Demo auditor (SE)", OrgCode: "SE-HOTLINE", Role: "auditor"},
}

func (m *Main) demo(ctx context.Context, args []string) error {
	base := config.Default()
	base.DB = "alliance-demo.db"
	// The demo is opened over plain http on loopback, where Secure cookies
	// cannot be relied on by every browser.
	base.SecureCookies = false
	fs := m.flagSet("demo", "demo [--db DSN] [--addr HOST:PORT]")
	cfg, err := m.loadConfig(fs, args, base, serveFlags...)
	if err != nil {
		return err
	}
	if err := parse(fs, args, false); err != nil {
		return err
	}
	log, err := m.logger(cfg)
	if err != nil {
		return err
	}
	db, err := m.openDB(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	a, sctx := systemApp(ctx, db, log, cfg.HomeOrg)
	if err := seedDemo(sctx, a); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	return m.run(ctx, cfg, db, log, func(url string) {
		w := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(w, "\nAlliance demo is running: open %s\n\nDemo logins (password %q):\n", url, demoPassword)
		for _, u := range demoUsers {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", u.Email, u.Role, u.OrgCode)
		}
		fmt.Fprintf(w, "\nDatabase: %s. Stop with Ctrl-C.\n", cfg.DB)
		w.Flush()
	})
}

// seedDemo adds the demo users and the synthetic demo data. It is idempotent:
// running the demo again on the same database keeps what is there.
func seedDemo(ctx context.Context, a *app.App) error {
	for _, u := range demoUsers {
		u.Password = demoPassword
		if _, err := a.AddUser(ctx, u); err != nil {
			if alliance.ErrorCode(err) == alliance.ECONFLICT && strings.Contains(alliance.ErrorField(err), "email") {
				continue
			}
			return err
		}
	}
	return nil
}
