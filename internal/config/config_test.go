package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLayering(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alliance.json")
	if err := os.WriteFile(path, []byte(`{"db":"file.db","addr":"127.0.0.1:9000","log_format":"json","fetch_media_per_page":20,"police_grace":"2h","smtp_addr":"mail.example.org:25"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ALLIANCE_ADDR": "127.0.0.1:9001", "ALLIANCE_JOBS": "false",
		"ALLIANCE_FETCH_USER_AGENT": "Alliance SE-HOTLINE node (+mailto:abuse@se-hotline.example.org)",
		"ALLIANCE_SMTP_PASSWORD":    "secret", "ALLIANCE_ESCALATE_AFTER": "96h", "ALLIANCE_CONTACT_RETENTION": "720h",
		"ALLIANCE_METRICS_ADDR": "127.0.0.1:9101"}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c.Flags(fs, "db", "addr", "jobs", "log-format", "allow-private-fetch", "fetch-media-per-page", "recheck-interval")
	if err := fs.Parse([]string{"--db", "flag.db", "--allow-private-fetch", "--fetch-media-per-page", "30", "--recheck-interval", "3h"}); err != nil {
		t.Fatal(err)
	}
	want := Config{DB: "flag.db", Addr: "127.0.0.1:9001", HomeOrg: "SE-HOTLINE", LogFormat: "json", LogLevel: "info", SecureCookies: true, Jobs: false,
		FetchUserAgent: "Alliance SE-HOTLINE node (+mailto:abuse@se-hotline.example.org)", AllowPrivateFetch: true, FetchMediaPerPage: 30,
		SMTPAddr: "mail.example.org:25", SMTPPassword: "secret", SMTPStartTLS: "opportunistic", NoticeFrom: "notices@alliance.invalid",
		PoliceGrace: Duration(2 * time.Hour), RecheckInterval: Duration(3 * time.Hour), RenoticeInterval: Duration(24 * time.Hour),
		EscalateAfter: Duration(96 * time.Hour), ContactRetention: Duration(720 * time.Hour), MetricsAddr: "127.0.0.1:9101"}
	if c != want {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(dir, "none.json"), "no such file"},
		{"unknown key", write("unknown.json", `{"dbb":"x"}`), `unknown field "dbb"`},
		{"not json", write("bad.json", `db = x`), "invalid character"},
		{"too large", write("big.json", `{"db":"`+strings.Repeat("x", maxFileSize)+`"}`), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			err := c.LoadFile(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadFile: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	c := Default()
	if err := c.LoadEnv(func(k string) string { return map[string]string{"ALLIANCE_JOBS": "maybe"}[k] }); err == nil || !strings.Contains(err.Error(), "ALLIANCE_JOBS") {
		t.Errorf("bad boolean: %v", err)
	}
	c = Default()
	if err := c.LoadEnv(func(k string) string { return map[string]string{"ALLIANCE_FETCH_MEDIA_PER_PAGE": "lots"}[k] }); err == nil || !strings.Contains(err.Error(), "ALLIANCE_FETCH_MEDIA_PER_PAGE") {
		t.Errorf("bad number: %v", err)
	}
	c = Default()
	c.DB, c.LogFormat, c.LogLevel, c.FetchUserAgent, c.FetchMediaPerPage = "", "xml", "loud", " ", 0
	c.SMTPStartTLS, c.PoliceGrace, c.MetricsAddr = "sometimes", Duration(time.Millisecond), "9101"
	err := c.Validate()
	for _, want := range []string{"db:", "log-format", "log-level", "fetch-user-agent", "fetch-media-per-page", "smtp-starttls", "police-grace", "metrics-addr"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want it to name %s", err, want)
		}
	}
}

func TestMetricsAddrNotAddr(t *testing.T) {
	c := Default()
	c.MetricsAddr = c.Addr
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "metrics-addr") {
		t.Errorf("metrics-addr equal to addr: %v", err)
	}
}
