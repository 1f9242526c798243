package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"alliance/internal/app"
	"alliance/internal/store"
)

// TestReporterCommands answers a subject-access request and an erasure
// through the CLI, on a database that holds one report with a contact.
func TestReporterCommands(t *testing.T) {
	dsn := dsns(t)["sqlite"]
	env := map[string]string{"ALLIANCE_DB": dsn}
	cli(t, env, "", "migrate")
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	a, sctx := systemApp(ctx, db, slog.New(slog.DiscardHandler), "SE-HOTLINE")
	if _, err := a.SubmitReport(sctx, app.ReportInput{URLs: []string{"https://www.example.com/p"}, ReporterEmail: "someone@example.org"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	code, out, errOut := cli(t, env, "", "reporter", "export", "--email", "someone@example.org")
	var d struct {
		Email   string `json:"email"`
		Reports []struct {
			Reference string   `json:"reference"`
			URLs      []string `json:"urls"`
		} `json:"reports"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &d) != nil || len(d.Reports) != 1 || d.Reports[0].URLs[0] != "https://www.example.com/p" {
		t.Fatalf("reporter export: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := cli(t, env, "", "reporter", "erase", "--email", "someone@example.org"); code != exitOK || !strings.Contains(out, "1 report") {
		t.Fatalf("reporter erase: %d %s %s", code, out, errOut)
	}
	if code, out, _ := cli(t, env, "", "reporter", "export", "--email", "someone@example.org"); code != exitOK || !strings.Contains(out, `"reports": []`) {
		t.Errorf("export after erasure: %d %s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"reporter", "export", "--email", "nobody"}, "e-mail address"},
		{[]string{"reporter", "export"}, "--email"},
		{[]string{"reporter"}, "reporter export"},
	} {
		code, _, errOut := cli(t, env, "", tc.args...)
		if code == exitOK || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
}
