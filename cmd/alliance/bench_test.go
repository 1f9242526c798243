package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"alliance/internal/testutil"
)

// TestBenchIntake runs the bench briefly on a fresh SQLite database and, when
// PostgreSQL is available, on an empty PostgreSQL one: every report must be
// accepted, traced and routed.
func TestBenchIntake(t *testing.T) {
	runs := map[string][]string{"sqlite": nil}
	if os.Getenv(testutil.PostgresEnv) != "" {
		runs["postgres"] = []string{"--db", testutil.PostgresDSN(t)}
	}
	for name, dbArgs := range runs {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"bench", "intake", "--duration", "1s", "--clients", "4", "--json"}, dbArgs...)
			code, out, errOut := cli(t, nil, "", args...)
			if code != exitOK {
				t.Fatalf("bench: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			var res benchResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("bench --json output: %v\n%s", err, out)
			}
			t.Logf("%s: %.0f reports/s, p99 %.1fms; trace %.0f items/s", name, res.ReportsPerS, res.LatencyMS.P99, res.Trace.ItemsPerS)
			if res.Database != name || res.Clients != 4 {
				t.Errorf("database %q with %d clients, want %s with 4", res.Database, res.Clients, name)
			}
			if res.Reports == 0 || res.ReportsPerS <= 0 || res.Errors != 0 {
				t.Errorf("%d reports (%.0f/s), %d errors %v; want some reports and no errors", res.Reports, res.ReportsPerS, res.Errors, res.ErrorSamples)
			}
			if res.Trace.Items < int64(res.Reports) || !res.Trace.AllRouted || res.Trace.ItemsPerS <= 0 {
				t.Errorf("trace: %d items of %d, all routed %v, %.0f items/s", res.Trace.Items, res.Reports, res.Trace.AllRouted, res.Trace.ItemsPerS)
			}
			if !(res.LatencyMS.P50 > 0 && res.LatencyMS.P50 <= res.LatencyMS.P90 && res.LatencyMS.P90 <= res.LatencyMS.P99 && res.LatencyMS.P99 <= res.LatencyMS.Max) {
				t.Errorf("latencies out of order: %+v", res.LatencyMS)
			}

			if name == "postgres" {
				// The database now holds the bench's data: a second run must refuse it.
				code, _, errOut := cli(t, nil, "", args...)
				if code != exitFail || !strings.Contains(errOut, "not empty") {
					t.Errorf("bench on a used database: exit %d, stderr %q; want exit 1 saying it is not empty", code, errOut)
				}
			}
		})
	}
}

func TestBenchUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench"}, exitUsage, "bench intake"},
		{[]string{"bench", "intake", "--help"}, exitOK, "--clients"},
		{[]string{"bench", "intake", "--clients", "0"}, exitFail, "--clients 0"},
		{[]string{"bench", "intake", "--duration", "1h"}, exitFail, "--duration 1h0m0s"},
		{[]string{"bench", "intake", "--reports", "-1"}, exitFail, "--reports -1"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := cli(t, nil, "", tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, output %q; want exit %d mentioning %q", code, out+errOut, tt.code, tt.want)
			}
		})
	}
}

// TestBenchFetch runs a small fetch bench and checks that every item was
// fetched and that the tenth in the bank are known.
func TestBenchFetch(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	code, out, stderr := cli(t, nil, "", "bench", "fetch", "--items", "40", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res benchFetchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if res.Items != 40 || res.Recorded != 40 || res.Fetched != 40 || res.Known != 4 || res.ItemsPerS <= 0 {
		t.Errorf("bench fetch: %+v", res)
	}
	if code, _, errOut := cli(t, nil, "", "bench", "fetch", "--items", "0"); code != 1 || !strings.Contains(errOut, "--items") {
		t.Errorf("--items 0: exit %d %s", code, errOut)
	}
}
