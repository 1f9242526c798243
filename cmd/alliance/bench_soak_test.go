package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchSoak runs a short soak: every kind of traffic is answered, the
// node is sampled, and the flat check has its verdict.
func TestBenchSoak(t *testing.T) {
	code, out, errOut := cli(t, nil, "", "bench", "soak", "--duration", "3s", "--sample", "1s", "--rate", "40",
		"--lookups", "40", "--queue-reads", "5", "--bank-entries", "1000", "--json")
	if code != exitOK {
		t.Fatalf("bench soak: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var res struct {
		Database string `json:"database"`
		Kinds    []struct {
			Name      string `json:"name"`
			Sent, OK  int64
			Errors    int64 `json:"errors"`
			LatencyMS struct {
				P50, P99 float64
			} `json:"latency_ms"`
		} `json:"kinds"`
		Samples []struct {
			HeapMB     float64 `json:"heap_mb"`
			Goroutines int     `json:"goroutines"`
		} `json:"samples"`
		Flat struct{ OK bool } `json:"flat"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bench soak --json: %v\n%s", err, out)
	}
	if res.Database != "sqlite" || len(res.Kinds) != 3 || len(res.Samples) < 2 || !res.Flat.OK {
		t.Errorf("soak: %+v", res)
	}
	for _, k := range res.Kinds {
		if k.Sent == 0 || k.OK != k.Sent || k.Errors != 0 || k.LatencyMS.P50 <= 0 || k.LatencyMS.P99 < k.LatencyMS.P50 {
			t.Errorf("%s: %+v", k.Name, k)
		}
	}
	for _, s := range res.Samples {
		if s.HeapMB <= 0 || s.Goroutines <= 0 {
			t.Errorf("sample %+v", s)
		}
	}
	if code, _, errOut := cli(t, nil, "", "bench", "soak", "--rate", "-1"); code == exitOK || !strings.Contains(errOut, "--rate") {
		t.Errorf("a negative rate: exit %d, %s", code, errOut)
	}
}
