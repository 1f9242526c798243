package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// cli runs the alliance command in-process and returns its exit status and output.
func cli(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := &Main{
		Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
	}
	code := m.Run(context.Background(), args)
	return code, stdout.String(), stderr.String()
}

// dsns returns the databases the CLI tests run on: a SQLite file always and
// a fresh PostgreSQL database when ALLIANCE_TEST_POSTGRES is set.
func dsns(t *testing.T) map[string]string {
	out := map[string]string{"sqlite": testutil.SQLiteDSN(t)}
	if os.Getenv(testutil.PostgresEnv) != "" {
		out["postgres"] = testutil.PostgresDSN(t)
	}
	return out
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, exitUsage, "Usage: alliance COMMAND"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"help", []string{"--help"}, exitOK, "Commands:"},
		{"unknown flag", []string{"migrate", "--nope"}, exitUsage, "flag provided but not defined"},
		{"command help", []string{"serve", "--help"}, exitOK, "--home-org"},
		{"user help", []string{"user", "add", "--help"}, exitOK, "--password-stdin"},
		{"user without verb", []string{"user"}, exitUsage, "user add"},
		{"token without verb", []string{"token", "delete"}, exitUsage, "token revoke --db DSN --email E --id N"},
		{"token help", []string{"token", "create", "-h"}, exitOK, "--email"},
		{"audit help", []string{"audit", "verify", "--help"}, exitOK, "--db"},
		{"missing email", []string{"user", "add", "--org", "SE-HOTLINE", "--role", "analyst"}, exitUsage, "--email is required"},
		{"stray argument", []string{"migrate", "extra"}, exitUsage, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, nil, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tt.code, errOut)
			}
			if !strings.Contains(out+errOut, tt.want) {
				t.Errorf("output lacks %q:\n%s%s", tt.want, out, errOut)
			}
		})
	}
}

func TestBadDatabase(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{"unreachable postgres", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", "127.0.0.1:1"},
		{"sqlite in missing directory", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"), "x.db"},
		{"unknown scheme", "mysql://localhost/x", "mysql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cli(t, nil, "", "migrate", "--db", tt.dsn)
			if code != exitFail {
				t.Fatalf("exit %d, want 1; stderr: %s", code, errOut)
			}
			if lines := strings.Count(strings.TrimSpace(errOut), "\n") + 1; lines != 1 {
				t.Errorf("want one line naming the cause, got %d:\n%s", lines, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr lacks %q: %s", tt.want, errOut)
			}
		})
	}
}

func TestUserTokenAudit(t *testing.T) {
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"ALLIANCE_DB": dsn}
			for range 2 { // migrate is idempotent
				if code, out, errOut := cli(t, env, "", "migrate"); code != exitOK || !strings.Contains(out, "schema version") {
					t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
				}
			}
			code, out, errOut := cli(t, env, "a long enough password\n", "user", "add", "--email", "Analyst@Example.org",
				"--org", "se-hotline", "--role", "analyst", "--password-stdin")
			if code != exitOK || !strings.Contains(out, "analyst@example.org") {
				t.Fatalf("user add: exit %d\n%s%s", code, out, errOut)
			}
			bad := []struct {
				name string
				args []string
				want string
			}{
				{"duplicate email", []string{"--email", "analyst@EXAMPLE.org", "--org", "SE-HOTLINE", "--role", "analyst"}, "already exists"},
				{"unknown org", []string{"--email", "b@example.org", "--org", "XX-HOTLINE", "--role", "analyst"}, "SE-HOTLINE"},
				{"unknown role", []string{"--email", "b@example.org", "--org", "SE-HOTLINE", "--role", "root"}, "analyst, police"},
				{"bad email", []string{"--email", "not-an-address", "--org", "SE-HOTLINE", "--role", "analyst"}, "not a valid e-mail"},
			}
			for _, b := range bad {
				code, _, errOut := cli(t, env, "", append([]string{"user", "add"}, b.args...)...)
				if code != exitFail || !strings.Contains(errOut, b.want) {
					t.Errorf("%s: exit %d, stderr %q, want exit 1 mentioning %q", b.name, code, errOut, b.want)
				}
			}

			code, out, errOut = cli(t, env, "", "token", "create", "--email", "analyst@example.org", "--name", "ci")
			if code != exitOK {
				t.Fatalf("token create: exit %d\n%s", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			token := lines[len(lines)-1]
			if !strings.HasPrefix(token, "alt_") || strings.Contains(token, " ") {
				t.Fatalf("last line is not the token alone: %q", token)
			}

			code, out, errOut = cli(t, env, "", "audit", "verify")
			if code != exitOK || !strings.Contains(out, "intact: 2 rows") {
				t.Fatalf("audit verify: exit %d\n%s%s", code, out, errOut)
			}

			// Tamper with the first row by hand: verify must fail and name it.
			db, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().Exec("UPDATE audit_events SET action = 'user.delete' WHERE seq = 1"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			code, _, errOut = cli(t, env, "", "audit", "verify")
			if code != exitFail || !strings.Contains(errOut, "broken at row 1") {
				t.Fatalf("tampered audit verify: exit %d, stderr %q", code, errOut)
			}
		})
	}
}

// serveMain runs the alliance command with args (serve or demo) in-process
// on a free port until the test ends, and returns its base URL.
func serveMain(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	return startMain(t, env, args...).base
}

// runningMain is a server started by startMain.
type runningMain struct {
	base string      // http://127.0.0.1:PORT
	logs *syncBuffer // everything it wrote to stdout and stderr
	stop func()      // shuts it down and checks its exit; idempotent
}

// startMain runs the alliance command with args in-process on a free port.
// It stops at the end of the test, or earlier through stop.
func startMain(t *testing.T, env map[string]string, args ...string) *runningMain {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan int, 1)
	logs := &syncBuffer{}
	m := &Main{Stdout: logs, Stderr: logs, Getenv: func(k string) string { return env[k] },
		Listening: func(addr string) { addrc <- addr }}
	go func() { done <- m.Run(ctx, append(args, "--addr", "127.0.0.1:0")) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != exitOK {
					t.Errorf("server exited %d:\n%s", code, logs.String())
				}
			case <-time.After(30 * time.Second):
				t.Error("server did not shut down within 30s")
			}
		})
	}
	t.Cleanup(stop)
	select {
	case addr := <-addrc:
		return &runningMain{base: "http://" + addr, logs: logs, stop: stop}
	case code := <-done:
		t.Fatalf("server exited %d before listening:\n%s", code, logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not listen within 60s:\n%s", logs.String())
	}
	return nil
}

func TestServeTokenAuth(t *testing.T) {
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"ALLIANCE_DB": dsn}
			if code, _, errOut := cli(t, env, "", "serve"); code != exitFail || !strings.Contains(errOut, "alliance migrate") {
				t.Fatalf("serve on an unmigrated database: exit %d, stderr %q", code, errOut)
			}
			cli(t, env, "", "migrate")
			cli(t, env, "", "user", "add", "--email", "police@example.org", "--org", "NL-POLICE", "--role", "police")
			_, out, _ := cli(t, env, "", "token", "create", "--email", "police@example.org")
			token := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])

			base := serveMain(t, env, "serve", "--home-org", "NL-HOTLINE")
			get := func(path, token string) (int, map[string]any) {
				req, _ := http.NewRequest("GET", base+path, nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var body map[string]any
				if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
					t.Fatalf("GET %s: %d, body is not JSON: %v", path, resp.StatusCode, err)
				}
				return resp.StatusCode, body
			}
			code, body := get("/api/v1/me", token)
			if code != 200 {
				t.Fatalf("/me with token: %d %v", code, body)
			}
			if u := body["user"].(map[string]any); u["email"] != "police@example.org" {
				t.Errorf("/me user = %v", u)
			}
			for _, tok := range []string{"", "alt_wrong", "garbage"} {
				code, body := get("/api/v1/me", tok)
				if code != 401 || body["error"] == nil {
					t.Errorf("/me with token %q: %d %v, want 401 with a JSON error", tok, code, body)
				}
			}
			if code, _ := get("/api/v1/countries", ""); code != 200 {
				t.Errorf("/countries anonymous: %d", code)
			}
			resp, err := http.Get(base + "/readyz")
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("/readyz: %v %v", resp, err)
			}

			// The operator lists and revokes the token while the server runs:
			// the server refuses it once its short cache lapses.
			code, out, errOut := cli(t, env, "", "token", "list", "--email", "police@example.org")
			if code != exitOK || !strings.Contains(out, "LAST USED") || !strings.Contains(out, " api ") || strings.Contains(out, token) {
				t.Fatalf("token list: exit %d\n%s%s", code, out, errOut)
			}
			id := strings.Fields(strings.Split(strings.TrimSpace(out), "\n")[1])[0]
			for _, bad := range [][]string{{"--id", "999999"}, {"--id", "x"}, {}} {
				if code, _, _ := cli(t, env, "", append([]string{"token", "revoke", "--email", "police@example.org"}, bad...)...); code == exitOK {
					t.Errorf("token revoke %q: exit 0", bad)
				}
			}
			if code, out, errOut := cli(t, env, "", "token", "revoke", "--email", "police@example.org", "--id", id); code != exitOK || !strings.Contains(out, "revoked token "+id) {
				t.Fatalf("token revoke: exit %d\n%s%s", code, out, errOut)
			}
			deadline := time.Now().Add(app.TokenCacheTTL + 5*time.Second)
			for code, _ := get("/api/v1/me", token); code != 401; code, _ = get("/api/v1/me", token) {
				if time.Now().After(deadline) {
					t.Fatalf("revoked token still accepted after %v: %d", app.TokenCacheTTL+5*time.Second, code)
				}
				time.Sleep(200 * time.Millisecond)
			}
			if code, out, _ := cli(t, env, "", "token", "list", "--email", "police@example.org"); code != exitOK || !strings.Contains(out, "no API tokens") {
				t.Errorf("token list after revoke: exit %d\n%s", code, out)
			}

			// A disabled user's new token is refused; enabled again, accepted.
			_, out, _ = cli(t, env, "", "token", "create", "--email", "police@example.org")
			token = strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
			if code, out, errOut := cli(t, env, "", "user", "disable", "--email", "police@example.org"); code != exitOK || !strings.Contains(out, "disabled police@example.org") {
				t.Fatalf("user disable: exit %d\n%s%s", code, out, errOut)
			}
			if code, _ := get("/api/v1/me", token); code != 401 {
				t.Errorf("token of a disabled user (never cached): %d, want 401", code)
			}
			if code, _, errOut := cli(t, env, "", "user", "enable", "--email", "nobody@example.org"); code != exitFail || !strings.Contains(errOut, "No user") {
				t.Errorf("enable an unknown user: exit %d, stderr %q", code, errOut)
			}
			cli(t, env, "", "user", "enable", "--email", "police@example.org")
			if code, _ := get("/api/v1/me", token); code != 200 {
				t.Errorf("token after enabling: %d, want 200", code)
			}
		})
	}
}

// TestServeMetricsAddr: with --metrics-addr, /metrics is served there and
// not on the public listener.
func TestServeMetricsAddr(t *testing.T) {
	env := map[string]string{"ALLIANCE_DB": testutil.SQLiteDSN(t)}
	cli(t, env, "", "migrate")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := l.Addr().String()
	l.Close()
	base := serveMain(t, env, "serve", "--metrics-addr", metricsAddr)
	status := func(url string) int {
		res, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := status(base + "/metrics"); code == http.StatusOK {
		t.Errorf("public /metrics: %d, want none", code)
	}
	if code := status("http://" + metricsAddr + "/metrics"); code != http.StatusOK {
		t.Errorf("/metrics on --metrics-addr: %d", code)
	}
	if code, _, errOut := cli(t, env, "", "serve", "--metrics-addr", "9101"); code == exitOK || !strings.Contains(errOut, "metrics-addr") {
		t.Errorf("--metrics-addr without a host: exit %d, stderr %q", code, errOut)
	}
}
