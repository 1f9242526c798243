package main

import (
	"crypto/md5"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"alliance/internal/trace"
)

// TestFederationTwoNodes starts two nodes from the CLI (separate databases
// and ports), peers them with `alliance peer add`, and checks that a bank
// shared by the Swedish node matches on the Dutch one, labelled with its
// source, within seconds.
func TestFederationTwoNodes(t *testing.T) {
	dir := t.TempDir()
	envSE := map[string]string{"ALLIANCE_DB": filepath.Join(dir, "se.db"), "ALLIANCE_HOME_ORG": "SE-HOTLINE"}
	envNL := map[string]string{"ALLIANCE_DB": filepath.Join(dir, "nl.db"), "ALLIANCE_HOME_ORG": "NL-HOTLINE"}
	key := func(env map[string]string) string {
		t.Helper()
		cli(t, env, "", "migrate")
		code, out, errOut := cli(t, env, "", "node")
		if code != exitOK {
			t.Fatalf("node: %s", errOut)
		}
		for _, line := range strings.Split(out, "\n") {
			if k, ok := strings.CutPrefix(line, "key "); ok {
				return k
			}
		}
		t.Fatalf("node printed no key: %q", out)
		return ""
	}
	keySE, keyNL := key(envSE), key(envNL)
	if again := key(envSE); again != keySE {
		t.Errorf("the node's key changed between runs: %s, %s", keySE, again)
	}

	sum := md5.Sum([]byte("federated entry"))
	if code, _, errOut := cli(t, envSE, "", "bank", "create", "--org", "SE-HOTLINE", "--name", "shared"); code != exitOK {
		t.Fatalf("bank create: %s", errOut)
	}
	bank := writeFile(t, dir, "shared.csv", fmt.Sprintf("algorithm,value,category,category_scheme,series\nmd5,%x,baseline,test,S-42\n", sum))
	if code, _, errOut := cli(t, envSE, "", "bank", "import", "--bank", "SE-HOTLINE/shared", "--format", "csv", bank); code != exitOK {
		t.Fatalf("bank import: %s", errOut)
	}
	// Both nodes trace the same lab name to a Dutch network.
	hosts := writeFile(t, dir, "lab.hosts", trace.ExampleNL+" shop.nl.example.test\n")
	envSE["ALLIANCE_HOSTS"], envNL["ALLIANCE_HOSTS"] = hosts, hosts
	se := startMain(t, envSE, "serve")
	nl := startMain(t, envNL, "serve")

	if code, out, errOut := cli(t, envSE, "", "peer", "add", "--url", nl.base, "--key", keyNL, "--country", "NL", "--bank", "SE-HOTLINE/shared"); code != exitOK ||
		!strings.Contains(out, "SE-HOTLINE/shared") {
		t.Fatalf("peer add on SE: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := cli(t, envNL, "", "peer", "add", "--url", se.base, "--key", keySE, "--country", "SE"); code != exitOK {
		t.Fatalf("peer add on NL: %s", errOut)
	}
	if code, _, errOut := cli(t, envNL, "", "peer", "add", "--url", se.base, "--key", "ed25519:nonsense", "--country", "SE"); code == exitOK || !strings.Contains(errOut, "key") {
		t.Errorf("a bad key: exit %d, %s", code, errOut)
	}

	c := apiClient{t: t, base: nl.base, token: createToken(t, envNL, "analyst@nl.example.org", "NL-HOTLINE", "analyst")}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var res struct {
			Results []struct {
				Matches []struct {
					Bank   string `json:"bank"`
					Source string `json:"source"`
					Series string `json:"series"`
				} `json:"matches"`
			} `json:"results"`
		}
		q := map[string]any{"hashes": []map[string]any{{"algorithm": "md5", "value": fmt.Sprintf("%x", sum)}}}
		code := c.do("POST", "/api/v1/match", q, &res)
		if code == http.StatusOK && len(res.Results) == 1 && len(res.Results[0].Matches) == 1 {
			m := res.Results[0].Matches[0]
			if m.Bank != "peer SE SE-HOTLINE/shared" || !strings.Contains(m.Source, "peer SE") || m.Series != "S-42" {
				t.Errorf("the replicated entry: %+v", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shared entry does not match on the NL node after 30s (last %d %+v)\nSE log:\n%s\nNL log:\n%s", code, res, se.logs.String(), nl.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Steady-state lag: an entry imported at the origin, until it matches
	// on the peer (the figure for docs/benchmarks.md; not asserted).
	later := md5.Sum([]byte("later entry"))
	start := time.Now()
	more := writeFile(t, dir, "more.csv", fmt.Sprintf("algorithm,value\nmd5,%x\n", later))
	if code, _, errOut := cli(t, envSE, "", "bank", "import", "--bank", "SE-HOTLINE/shared", "--format", "csv", more); code != exitOK {
		t.Fatalf("second import: %s", errOut)
	}
	waitUntil(t, "the later entry on NL", func() bool {
		var res struct {
			Results []struct {
				Matches []any `json:"matches"`
			} `json:"results"`
		}
		q := map[string]any{"hashes": []map[string]any{{"algorithm": "md5", "value": fmt.Sprintf("%x", later)}}}
		return c.do("POST", "/api/v1/match", q, &res) == http.StatusOK && len(res.Results) == 1 && len(res.Results[0].Matches) == 1
	})
	t.Logf("replication lag, commit at the origin to a match on the peer: %v", time.Since(start).Round(10*time.Millisecond))

	// A report hosted in the Netherlands goes to the Dutch node's hotline,
	// and its assessment there comes back to the Swedish item.
	seAnalyst := apiClient{t: t, base: se.base, token: createToken(t, envSE, "analyst@se.example.org", "SE-HOTLINE", "analyst")}
	var rep struct {
		Items []apiItem `json:"items"`
	}
	if code := seAnalyst.do("POST", "/api/v1/reports", map[string]any{"urls": []string{"https://shop.nl.example.test/listing/9"}}, &rep); code != http.StatusCreated {
		t.Fatalf("report on SE: %d", code)
	}
	var queue struct {
		Items []apiItem `json:"items"`
	}
	waitUntil(t, "the forwarded item in the NL queue", func() bool {
		return c.do("GET", "/api/v1/queue", nil, &queue) == http.StatusOK && len(queue.Items) == 1
	})
	var out map[string]any
	if code := c.do("POST", fmt.Sprintf("/api/v1/items/%d/assessments", queue.Items[0].ID), map[string]any{"verdict": "not_illegal"}, &out); code != http.StatusCreated {
		t.Fatalf("assess on NL: %d %v", code, out)
	}
	waitUntil(t, "the status back on SE", func() bool {
		var it struct {
			Federation *struct {
				RemoteStatus string `json:"remote_status"`
				RemoteOrg    string `json:"remote_organisation"`
			} `json:"federation"`
		}
		return seAnalyst.do("GET", fmt.Sprintf("/api/v1/items/%d", rep.Items[0].ID), nil, &it) == http.StatusOK &&
			it.Federation != nil && it.Federation.RemoteStatus == "closed_not_illegal" && it.Federation.RemoteOrg == "NL-HOTLINE"
	})

	code, out2, _ := cli(t, envNL, "", "peer", "list")

	if code != exitOK || !strings.Contains(out2, "SE") || !strings.Contains(out2, "b") {
		t.Errorf("peer list on NL: %d\n%s", code, out2)
	}
}

// waitUntil polls cond for up to 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not within 30s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
