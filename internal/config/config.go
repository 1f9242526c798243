package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the configuration of one node.
type Config struct {
	DB            string `json:"db"`             // DSN: file path, sqlite:PATH or postgres://…
	Addr          string `json:"addr"`           // HOST:PORT to listen on
	HomeOrg       string `json:"home_org"`       // organisation that runs this node
	LogFormat     string `json:"log_format"`     // text or json
	LogLevel      string `json:"log_level"`      // debug, info, warn, error
	SecureCookies bool   `json:"secure_cookies"` // false only for plain-http development
	Jobs          bool   `json:"jobs"`           // run background job workers in this process
	// MetricsAddr, when set, serves /metrics on this HOST:PORT only, apart
	// from the public listener; empty serves it on the public listener.
	MetricsAddr string `json:"metrics_addr"`
	// Fetching of reported URLs (internal/fetch, internal/media).
	FetchUserAgent    string `json:"fetch_user_agent"`     // identifies the node to the sites it fetches
	AllowPrivateFetch bool   `json:"allow_private_fetch"`  // turn the SSRF guard off: local test sites only
	FetchMediaPerPage int    `json:"fetch_media_per_page"` // media fetched per HTML page

	// Notices and takedown.
	SMTPAddr         string   `json:"smtp_addr"`     // relay host:port for e-mail notices; "" sends none
	SMTPUser         string   `json:"smtp_user"`     // AUTH user (the password comes from ALLIANCE_SMTP_PASSWORD only)
	SMTPPassword     string   `json:"-"`             // from the environment only, never a flag or the file
	SMTPStartTLS     string   `json:"smtp_starttls"` // never, opportunistic, required
	NoticeFrom       string   `json:"notice_from"`   // From of e-mail notices
	NoticeContact    string   `json:"notice_contact"`
	PoliceGrace      Duration `json:"police_grace"`
	ContactRetention Duration `json:"contact_retention"` // how long reporters' contact e-mails are kept
	RecheckInterval  Duration `json:"recheck_interval"`
	RenoticeInterval Duration `json:"renotice_interval"`
	EscalateAfter    Duration `json:"escalate_after"`

	// Alliance reporting.
	CapabilitiesFile string `json:"capabilities_file"` // JSON list of national capabilities; "" is the Model National Response's
}

// Duration is a time.Duration written as in Go ("90m", "72h") in the JSON
// file, the environment and flags.
type Duration time.Duration

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"90m\" or \"72h\"")
	}
	return d.Set(s)
}

// MarshalJSON writes a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Set implements flag.Value.
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 90m or 72h", s)
	}
	*d = Duration(v)
	return nil
}

// String implements flag.Value.
func (d *Duration) String() string { return time.Duration(*d).String() }

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		DB:            "alliance.db",
		Addr:          "127.0.0.1:8080",
		HomeOrg:       "SE-HOTLINE",
		LogFormat:     "text",
		LogLevel:      "info",
		SecureCookies: true,
		Jobs:          true,
		// Operators should name their node and a contact address here.
		FetchUserAgent:    "Alliance-Hotline-Fetcher/1 (+https://example.org/alliance)",
		FetchMediaPerPage: 50,
		SMTPStartTLS:      "opportunistic",
		NoticeFrom:        "notices@alliance.invalid",
		PoliceGrace:       Duration(time.Hour),
		ContactRetention:  Duration(90 * 24 * time.Hour), // alliance.ContactRetention
		RecheckInterval:   Duration(6 * time.Hour),
		RenoticeInterval:  Duration(24 * time.Hour),
		EscalateAfter:     Duration(72 * time.Hour),
	}
}

// maxFileSize bounds the config file; a larger one is surely a mistake.
const maxFileSize = 1 << 20

// LoadFile overlays the JSON file at path on c. Unknown keys are errors, so
// that a misspelt setting is not silently ignored.
func (c *Config) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return fmt.Errorf("config file %s: larger than %d bytes", path, maxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// LoadEnv overlays the ALLIANCE_* variables found by getenv on c.
func (c *Config) LoadEnv(getenv func(string) string) error {
	str := map[string]*string{
		"ALLIANCE_DB":         &c.DB,
		"ALLIANCE_ADDR":       &c.Addr,
		"ALLIANCE_HOME_ORG":   &c.HomeOrg,
		"ALLIANCE_LOG_FORMAT": &c.LogFormat,
		"ALLIANCE_LOG_LEVEL":  &c.LogLevel,

		"ALLIANCE_FETCH_USER_AGENT": &c.FetchUserAgent,
		"ALLIANCE_SMTP_ADDR":        &c.SMTPAddr,
		"ALLIANCE_SMTP_USER":        &c.SMTPUser,
		"ALLIANCE_SMTP_PASSWORD":    &c.SMTPPassword,
		"ALLIANCE_SMTP_STARTTLS":    &c.SMTPStartTLS,
		"ALLIANCE_NOTICE_FROM":      &c.NoticeFrom,
		"ALLIANCE_NOTICE_CONTACT":   &c.NoticeContact,

		"ALLIANCE_CAPABILITIES_FILE": &c.CapabilitiesFile,
		"ALLIANCE_METRICS_ADDR":      &c.MetricsAddr,
	}
	for k, p := range str {
		if v := getenv(k); v != "" {
			*p = v
		}
	}
	boolean := map[string]*bool{
		"ALLIANCE_SECURE_COOKIES": &c.SecureCookies,
		"ALLIANCE_JOBS":           &c.Jobs,

		"ALLIANCE_ALLOW_PRIVATE_FETCH": &c.AllowPrivateFetch,
	}
	for k, p := range boolean {
		if v := getenv(k); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("environment %s=%q: not a boolean", k, v)
			}
			*p = b
		}
	}
	durations := map[string]*Duration{
		"ALLIANCE_POLICE_GRACE":      &c.PoliceGrace,
		"ALLIANCE_CONTACT_RETENTION": &c.ContactRetention,
		"ALLIANCE_RECHECK_INTERVAL":  &c.RecheckInterval,
		"ALLIANCE_RENOTICE_INTERVAL": &c.RenoticeInterval,
		"ALLIANCE_ESCALATE_AFTER":    &c.EscalateAfter,
	}
	for k, p := range durations {
		if v := getenv(k); v != "" {
			if err := p.Set(v); err != nil {
				return fmt.Errorf("environment %s: %w", k, err)
			}
		}
	}
	if v := getenv("ALLIANCE_FETCH_MEDIA_PER_PAGE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("environment ALLIANCE_FETCH_MEDIA_PER_PAGE=%q: not a whole number", v)
		}
		c.FetchMediaPerPage = n
	}
	return nil
}

// Flags registers the flags named in which ("db", "addr", "home-org",
// "log-format", "log-level", "secure-cookies", "jobs", "fetch-user-agent",
// "allow-private-fetch", "fetch-media-per-page", "capabilities-file", …) on
// fs, bound to c.
// Call after LoadFile and LoadEnv so the flags' defaults show the values in
// force, then fs.Parse overrides them.
func (c *Config) Flags(fs *flag.FlagSet, which ...string) {
	for _, name := range which {
		switch name {
		case "db":
			fs.StringVar(&c.DB, "db", c.DB, "database: a file path or sqlite:PATH (SQLite), or postgres://… (env ALLIANCE_DB)")
		case "addr":
			fs.StringVar(&c.Addr, "addr", c.Addr, "HOST:PORT to listen on (env ALLIANCE_ADDR)")
		case "home-org":
			fs.StringVar(&c.HomeOrg, "home-org", c.HomeOrg, "code of the organisation that runs this node; public reports are received by it")
		case "log-format":
			fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
		case "log-level":
			fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
		case "secure-cookies":
			fs.BoolVar(&c.SecureCookies, "secure-cookies", c.SecureCookies, "mark cookies Secure (__Host-); turn off only for plain-http development")
		case "jobs":
			fs.BoolVar(&c.Jobs, "jobs", c.Jobs, "run background job workers in this process")
		case "metrics-addr":
			fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "serve /metrics on this HOST:PORT only, not on --addr (env ALLIANCE_METRICS_ADDR)")
		case "fetch-user-agent":
			fs.StringVar(&c.FetchUserAgent, "fetch-user-agent", c.FetchUserAgent, "User-Agent of the node's fetches of reported URLs: name the node and a contact (env ALLIANCE_FETCH_USER_AGENT)")
		case "allow-private-fetch":
			fs.BoolVar(&c.AllowPrivateFetch, "allow-private-fetch", c.AllowPrivateFetch, "let fetches reach private and loopback addresses (SSRF guard off): local test sites only, never in production")
		case "smtp-addr":
			fs.StringVar(&c.SMTPAddr, "smtp-addr", c.SMTPAddr, "SMTP relay HOST:PORT for e-mail notices; empty sends none (env ALLIANCE_SMTP_ADDR; password in ALLIANCE_SMTP_PASSWORD)")
		case "smtp-user":
			fs.StringVar(&c.SMTPUser, "smtp-user", c.SMTPUser, "SMTP AUTH user (env ALLIANCE_SMTP_USER)")
		case "smtp-starttls":
			fs.StringVar(&c.SMTPStartTLS, "smtp-starttls", c.SMTPStartTLS, "STARTTLS to the relay: never, opportunistic or required")
		case "notice-from":
			fs.StringVar(&c.NoticeFrom, "notice-from", c.NoticeFrom, "From address of e-mail notices (env ALLIANCE_NOTICE_FROM)")
		case "notice-contact":
			fs.StringVar(&c.NoticeContact, "notice-contact", c.NoticeContact, "where hosts can reply, quoted in notices (env ALLIANCE_NOTICE_CONTACT)")
		case "contact-retention":
			fs.Var(&c.ContactRetention, "contact-retention", "how long reporters' contact e-mails are kept before they are purged (e.g. 2160h for 90 days)")
		case "police-grace":
			fs.Var(&c.PoliceGrace, "police-grace", "how long notified police have to place a hold before notices go out")
		case "recheck-interval":
			fs.Var(&c.RecheckInterval, "recheck-interval", "how often a noticed URL is re-checked")
		case "renotice-interval":
			fs.Var(&c.RenoticeInterval, "renotice-interval", "how often the host is reminded while the content is up")
		case "escalate-after":
			fs.Var(&c.EscalateAfter, "escalate-after", "how long after the first notice an item still up is escalated")
		case "fetch-media-per-page":
			fs.IntVar(&c.FetchMediaPerPage, "fetch-media-per-page", c.FetchMediaPerPage, "media fetched and hashed per reported HTML page")
		case "capabilities-file":
			fs.StringVar(&c.CapabilitiesFile, "capabilities-file", c.CapabilitiesFile, "JSON list of the national capabilities countries assess themselves in; empty is the WeProtect Model National Response's 21 (env ALLIANCE_CAPABILITIES_FILE)")
		default:
			panic("config: unknown flag " + name) // a programming error in the caller
		}
	}
}

// Validate checks the values that are not checked where they are used.
func (c *Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.DB) == "" {
		errs = append(errs, errors.New("db: a database is required (--db or ALLIANCE_DB)"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format: %q is not text or json", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level: %q is not debug, info, warn or error", c.LogLevel))
	}
	if strings.TrimSpace(c.FetchUserAgent) == "" || len(c.FetchUserAgent) > 256 {
		errs = append(errs, errors.New("fetch-user-agent: give 1 to 256 characters naming the node and a contact"))
	}
	switch c.SMTPStartTLS {
	case "never", "opportunistic", "required":
	default:
		errs = append(errs, fmt.Errorf("smtp-starttls: %q is not never, opportunistic or required", c.SMTPStartTLS))
	}
	for name, d := range map[string]Duration{"police-grace": c.PoliceGrace, "recheck-interval": c.RecheckInterval,
		"renotice-interval": c.RenoticeInterval, "escalate-after": c.EscalateAfter, "contact-retention": c.ContactRetention} {
		// Seconds are allowed for labs and end-to-end tests.
		if d < Duration(time.Second) || d > Duration(365*24*time.Hour) {
			errs = append(errs, fmt.Errorf("%s: %s is not between 1s and 8760h", name, time.Duration(d)))
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("metrics-addr: %q is not HOST:PORT", c.MetricsAddr))
		} else if c.MetricsAddr == c.Addr {
			errs = append(errs, fmt.Errorf("metrics-addr: %q is --addr itself; give another port or leave it empty", c.MetricsAddr))
		}
	}
	if c.FetchMediaPerPage < 1 || c.FetchMediaPerPage > 1000 {
		errs = append(errs, fmt.Errorf("fetch-media-per-page: %d is not between 1 and 1000", c.FetchMediaPerPage))
	}
	return errors.Join(errs...)
}
