package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"alliance/internal/store"
	"alliance/internal/testutil/smtpsink"
)

// Crash test settings. The intake phase kills the server crashKills times,
// crashMinGap to crashMinGap+crashJitter apart, while crashClients clients
// send reports, and lets them send for crashTail after the last restart.
const (
	crashClients = 4
	crashKills   = 4
	crashMinGap  = 2 * time.Second
	crashJitter  = 2 * time.Second
	crashMaxDown = 500 * time.Millisecond
	crashTail    = 2 * time.Second
	// crashSettle is how long the work cut off by the kills may take to
	// be done after the last restart, by the jobs' own schedule.
	// crashSettle includes, on PostgreSQL, app.workerStaleAfter (10 s: what
	// a killed process held is released once its heartbeat is that old) and
	// River's election interval (up to 6 s), besides the work itself on a
	// machine that may be busy with other tests.
	crashSettle = 45 * time.Second
	// crashNotices is how many items the notice phase sends notices for:
	// fewer than the SMTP sink's 64 connections, since a batch sends its
	// notices all at once.
	crashNotices = 40
	// crashHosts is how many host names the test's URLs are spread over.
	// The fetch job waits a second between requests to one host, even to
	// an address its guard then blocks: with few names, one batch of 64
	// takes long enough to hold up a graceful stop.
	crashHosts = 32
)

// crashSeedEnv names the seed of TestCrashSafety's random kill schedule,
// to rerun a failure.
const crashSeedEnv = "ALLIANCE_CRASH_SEED"

// TestCrashSafety runs the real binary and kills it with SIGKILL at random
// moments, restarting it on the same database and port each time, on each
// database under test.
//
// intake: clients send reports continuously, each under an Idempotency-Key
// of its own; a request cut off by a kill is sent again, same key and body,
// until it is answered. At the end every key answered 201 names a report
// that reads back with the URLs sent, the answers to one key always named
// the same report, the database holds exactly one report per key ever
// acknowledged (none lost, none twice), every item has been traced (jobs
// cut off by a kill are done after the restart) and the audit chain is
// intact.
//
// notices: items are assessed, cleared and noticed to an SMTP sink; the
// server is killed while the notices go out. At the end every item has
// exactly one notice, sent, no notice reached the sink twice, and every
// notice missing from the sink is one the kill cut off mid-send, recorded
// as unconfirmed.
//
// The kill moments come from a seed that is logged; set ALLIANCE_CRASH_SEED
// to rerun a schedule.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it: not in -short")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, s, err)
		}
	}
	t.Logf("seed %d (rerun with %s=%d)", seed, crashSeedEnv, seed)
	bin := buildAlliance(t)
	for _, phase := range []struct {
		name string
		run  func(t *testing.T, n *crashNode, rng *rand.Rand)
	}{{"intake", crashIntake}, {"notices", crashNoticePhase}} {
		t.Run(phase.name, func(t *testing.T) {
			for name, dsn := range dsns(t) {
				t.Run(name, func(t *testing.T) {
					h := fnv.New64a()
					h.Write([]byte(phase.name + "/" + name))
					phase.run(t, &crashNode{bin: bin, dsn: dsn}, rand.New(rand.NewPCG(seed, h.Sum64())))
				})
			}
		})
	}
}

// buildAlliance builds the binary of this package into a temporary
// directory and returns its path.
func buildAlliance(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "alliance")
	start := time.Now()
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s in %v", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// crashNode is the server under test: one database, one address, a
// process that is killed and started again.
type crashNode struct {
	bin, dsn string
	env      map[string]string
	addr     string
	p        *proc
	t0       time.Time // the first start
	started  time.Time // the last start
	kills    int
	db       *store.DB // the test's own connection, for what the API does not show
}

// setup writes the trace files (the test's host names on TEST-NET-1,
// which the fetch's SSRF guard blocks, so nothing is fetched from anywhere;
// the range places it in Sweden, so items route national), migrates, and
// returns an analyst's token.
func (n *crashNode) setup(t *testing.T, hostPrefix string, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	var hosts bytes.Buffer
	for i := range crashHosts {
		fmt.Fprintf(&hosts, "192.0.2.%d %s-%d.example.test\n", 10+i, hostPrefix, i)
	}
	n.env = map[string]string{"ALLIANCE_DB": n.dsn,
		"ALLIANCE_HOSTS":     writeFile(t, dir, "crash.hosts", hosts.String()),
		"ALLIANCE_IP_RANGES": writeFile(t, dir, "crash.csv", "cidr,country,asn,org\n192.0.2.0/24,SE,64496,Crash test network\n")}
	for k, v := range extra {
		n.env[k] = v
	}
	if code, _, errOut := cli(t, n.env, "", "migrate"); code != exitOK {
		t.Fatalf("migrate: %s", errOut)
	}
	token := createToken(t, n.env, "crash@se.example.org", "SE-HOTLINE", "analyst")
	db, err := store.Open(context.Background(), n.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n.db = db
	n.addr = freeAddr(t)
	n.start(t)
	n.t0 = n.started
	return token
}

func (n *crashNode) base() string { return "http://" + n.addr }

// start starts serve on the node's address and waits until it answers.
func (n *crashNode) start(t *testing.T) {
	t.Helper()
	n.started = time.Now()
	n.p = startProc(t, n.bin, n.addr, n.env)
}

// crash kills the server with SIGKILL, releases what the dead process
// left claimed (releaseDead), waits down, and starts the server again; what
// says, once the process is dead, how far the work had gone.
func (n *crashNode) crash(t *testing.T, down time.Duration, what func() string) {
	t.Helper()
	n.p.kill()
	n.kills++
	t.Logf("kill %d at %v: %s", n.kills, time.Since(n.t0).Round(time.Millisecond), what())
	n.releaseDead(t)
	time.Sleep(down)
	n.start(t)
	t.Logf("restart %d after %v down: answering %v after its start", n.kills, down.Round(time.Millisecond),
		time.Since(n.started).Round(time.Millisecond))
}

// releaseDead is called while no process runs and logs what the killed
// process left behind for the restart to release.
func (n *crashNode) releaseDead(t *testing.T) {
	t.Helper()
	// What the killed process left behind is released by the restarted
	// node once the dead process's heartbeat is stale: its batch claims
	// and, on PostgreSQL, the batch jobs it left running in River and its
	// leadership (on SQLite the runner releases those when it starts). The
	// settle checks that follow prove it; here it is only logged.
	claims := n.count(t, `SELECT COUNT(*) FROM job_claims`)
	running := n.count(t, `SELECT COUNT(*) FROM river_job WHERE state = 'running'`)
	leader := n.count(t, `SELECT COUNT(*) FROM river_leader`)
	t.Logf("the killed process left %d batch claims, %d running jobs and %d leader rows; the restarted node releases them",
		claims, running, leader)
}

// waitFor polls done every 200 ms until it reports true or timeout passes,
// and returns how long that took and whether it did.
func waitFor(timeout time.Duration, done func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if done() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// count runs a query of one integer on the test's connection.
func (n *crashNode) count(t *testing.T, query string) int {
	t.Helper()
	var v int
	if err := n.db.SQL().QueryRowContext(context.Background(), query).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

// settle waits up to crashSettle for done, the work cut off by the kills
// completed after the restarts, and fails the test if it does not come.
func (n *crashNode) settle(t *testing.T, what string, done func() bool) {
	t.Helper()
	if took, ok := waitFor(crashSettle, done); ok {
		t.Logf("%s within %v", what, took.Round(time.Millisecond))
		return
	}
	t.Errorf("not %s %v after the last restart", what, crashSettle)
}

// crashReport is what a client sent under one key and what it was answered.
type crashReport struct {
	key  string
	urls []string
	id   int64 // the report id answered 201; 0 until then
	// cut is how many attempts failed without an answer (the server was
	// killed, or was down); replayed, whether the answer that settled the
	// key was a replay (an attempt cut off had committed).
	cut      int
	replayed bool
}

// crashLedger is what the clients learned: every key sent and its report.
type crashLedger struct {
	mu      sync.Mutex
	reports []*crashReport
	acked   atomic.Int64
	errs    []string
}

func (l *crashLedger) add(r *crashReport) {
	l.mu.Lock()
	l.reports = append(l.reports, r)
	l.mu.Unlock()
	l.acked.Add(1)
}

func (l *crashLedger) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) < 20 {
		l.errs = append(l.errs, fmt.Sprintf(format, args...))
	}
}

// crashClient sends reports to base with token until stop is closed, each
// under a key of its own, and records them in the ledger. A key is settled
// before the next is sent, and before the client returns: every key it ever
// sent ends acknowledged (or recorded as an error).
func crashClient(base, token string, n int, rng *rand.Rand, stop <-chan struct{}, l *crashLedger) {
	hc := &http.Client{Timeout: 10 * time.Second}
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return
		case <-time.After(time.Duration(rng.IntN(10)) * time.Millisecond):
		}
		r := &crashReport{key: fmt.Sprintf("crash-%d-%d", n, seq)}
		for j := range 1 + rng.IntN(3) {
			r.urls = append(r.urls, fmt.Sprintf("https://crash-%d.example.test/p/%d-%d-%d", rng.IntN(crashHosts), n, seq, j))
		}
		body, _ := json.Marshal(map[string]any{"urls": r.urls, "description": "crash test " + r.key})
		deadline := time.Now().Add(60 * time.Second)
		for r.id == 0 {
			if time.Now().After(deadline) {
				l.fail("key %s: no answer within 60s (%d attempts cut)", r.key, r.cut)
				return
			}
			req, err := http.NewRequest("POST", base+"/api/v1/reports", bytes.NewReader(body))
			if err != nil {
				panic(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", r.key)
			resp, err := hc.Do(req)
			if err != nil {
				// Cut off by a kill, or refused while the server is down.
				r.cut++
				time.Sleep(25 * time.Millisecond)
				continue
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case err != nil:
				r.cut++ // the answer was cut off: it may have committed
				time.Sleep(25 * time.Millisecond)
			case resp.StatusCode == http.StatusCreated:
				var out struct {
					ID    int64 `json:"id"`
					Items []struct {
						URL string `json:"url"`
					} `json:"items"`
				}
				if err := json.Unmarshal(b, &out); err != nil || out.ID == 0 || len(out.Items) != len(r.urls) {
					l.fail("key %s: 201 with body %s", r.key, b)
					return
				}
				for i, it := range out.Items {
					if it.URL != r.urls[i] {
						l.fail("key %s: answered report %d has item %q, sent %q", r.key, out.ID, it.URL, r.urls[i])
					}
				}
				r.id = out.ID
				r.replayed = resp.Header.Get("Idempotent-Replayed") == "true"
				if r.replayed && r.cut == 0 {
					l.fail("key %s: the first answer to a new key is a replay of report %d", r.key, r.id)
				}
			case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
				// Over the rate limit, or the database is busy after a
				// restart: the same key and body again.
				r.cut++
				time.Sleep(100 * time.Millisecond)
			default:
				l.fail("key %s: %d %s", r.key, resp.StatusCode, b)
				return
			}
		}
		l.add(r)
	}
}

// crashIntake is the intake phase of TestCrashSafety on one database.
func crashIntake(t *testing.T, n *crashNode, rng *rand.Rand) {
	token := n.setup(t, "crash", nil)
	var ledger crashLedger
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range crashClients {
		crng := rand.New(rand.NewPCG(rng.Uint64(), uint64(i)))
		wg.Go(func() { crashClient(n.base(), token, i, crng, stop, &ledger) })
	}
	stopClients := func() {
		select {
		case <-stop:
		default:
			close(stop)
			wg.Wait()
		}
	}
	defer stopClients()

	for range crashKills {
		gap := crashMinGap + time.Duration(rng.Int64N(int64(crashJitter)))
		down := time.Duration(rng.Int64N(int64(crashMaxDown)))
		time.Sleep(gap)
		n.crash(t, down, func() string { return fmt.Sprintf("%d reports acknowledged so far", ledger.acked.Load()) })
	}
	time.Sleep(crashTail)
	stopClients()
	sent := time.Since(n.t0)

	ledger.mu.Lock()
	reports, errs := ledger.reports, ledger.errs
	ledger.mu.Unlock()
	for _, e := range errs {
		t.Error(e)
	}
	cut, replayed, urls := 0, 0, 0
	byKey := map[string]*crashReport{}
	byID := map[int64]*crashReport{}
	for _, r := range reports {
		if r.cut > 0 {
			cut++
			if r.replayed {
				replayed++
			}
		}
		urls += len(r.urls)
		if o := byID[r.id]; o != nil {
			t.Errorf("keys %s and %s were both answered with report %d", o.key, r.key, r.id)
		}
		byKey[r.key], byID[r.id] = r, r
	}
	t.Logf("%d reports (%d items) acknowledged in %v, about %.0f/s; %d keys had attempts cut off by a kill: "+
		"%d of those had committed (the retry was a replay), %d had not (the retry created the report)",
		len(reports), urls, sent.Round(time.Millisecond), float64(len(reports))/sent.Seconds(), cut, replayed, cut-replayed)
	if len(reports) == 0 {
		t.Fatal("no report was acknowledged")
	}

	// Every item of every report leaves "new": the trace jobs cut off by
	// the kills are done after the restarts.
	c := apiClient{t: t, base: n.base(), token: token}
	n.settle(t, "every item traced", func() bool {
		var page struct {
			Items []apiItem `json:"items"`
		}
		if code := c.do("GET", "/api/v1/items?status=new&limit=1", nil, &page); code != http.StatusOK {
			t.Fatalf("GET /api/v1/items?status=new: %d", code)
		}
		return len(page.Items) == 0
	})

	// Each acknowledged report reads back with the URLs sent under its key.
	checkCrashReports(t, c, reports)

	// Stop the server and count what the database holds.
	stopProc(t, n.p)
	nReports := n.count(t, `SELECT COUNT(*) FROM reports`)
	nKeys := n.count(t, `SELECT COUNT(*) FROM idempotency_keys`)
	nItems := n.count(t, `SELECT COUNT(*) FROM items`)
	if nReports != len(reports) || nKeys != len(reports) || nItems != urls {
		t.Errorf("the database holds %d reports, %d idempotency keys, %d items; %d keys were acknowledged with %d URLs",
			nReports, nKeys, nItems, len(reports), urls)
	}
	if d := n.count(t, `SELECT COUNT(*) FROM (SELECT url FROM items GROUP BY url HAVING COUNT(*) > 1) d`); d != 0 {
		t.Errorf("%d URLs were stored more than once (a report created twice)", d)
	}
	if d := n.count(t, `SELECT COUNT(*) FROM items WHERE status <> 'routed'`); d != 0 {
		t.Errorf("%d items are not routed", d)
	}
	rows, err := n.db.SQL().QueryContext(context.Background(), `SELECT key, report_id FROM idempotency_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var id int64
		if err := rows.Scan(&key, &id); err != nil {
			t.Fatal(err)
		}
		switch r := byKey[key]; {
		case r == nil:
			t.Errorf("key %s is stored (report %d) but was never acknowledged", key, id)
		case r.id != id:
			t.Errorf("key %s was answered with report %d but is stored with report %d", key, r.id, id)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// The audit chain survived the kills: no row half-written, none lost
	// from the middle.
	if code, out, errOut := cli(t, n.env, "", "audit", "verify"); code != exitOK {
		t.Errorf("audit verify after the kills: exit %d\n%s%s", code, out, errOut)
	}
}

// checkCrashReports reads every acknowledged report back through the API, a
// few at a time, and checks it holds the URLs sent under its key, each item
// routed.
func checkCrashReports(t *testing.T, c apiClient, reports []*crashReport) {
	t.Helper()
	todo := make(chan *crashReport)
	var mu sync.Mutex
	var bad []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for r := range todo {
				var rep struct {
					ID    int64     `json:"id"`
					Items []apiItem `json:"items"`
				}
				resp, err := crashGet(c, fmt.Sprintf("/api/v1/reports/%d", r.id), &rep)
				var urls []string
				routed := true
				for _, it := range rep.Items {
					urls = append(urls, it.URL)
					routed = routed && it.Status == "routed"
				}
				if err != nil || resp != http.StatusOK || rep.ID != r.id || !slices.Equal(urls, r.urls) || !routed {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("key %s, report %d: %d %v %+v", r.key, r.id, resp, err, rep))
					mu.Unlock()
				}
			}
		})
	}
	for _, r := range reports {
		todo <- r
	}
	close(todo)
	wg.Wait()
	for i, b := range bad {
		if i == 10 {
			t.Errorf("… and %d more acknowledged reports that do not read back right", len(bad)-10)
			break
		}
		t.Errorf("acknowledged report does not read back right: %s", b)
	}
}

// crashGet is apiClient.do for GET from several goroutines: it returns
// errors instead of failing the test.
func crashGet(c apiClient, path string, out any) (int, error) {
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
}

// stopProc stops p as an operator would (SIGTERM) and checks that it exits
// cleanly, and soon: batch jobs stop after the batch in hand rather than
// drain a backlog until the stop timeout cuts them off mid-batch.
func stopProc(t *testing.T, p *proc) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	start := time.Now()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, p.logs.String())
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("serve took %v to stop after SIGTERM:\n%s", d.Round(time.Millisecond), p.logs.String())
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		t.Errorf("serve did not stop within 30s of SIGTERM\n%s", p.logs.String())
	}
}

// crashNoticePhase is the notice phase of TestCrashSafety on one database:
// crashNotices items are reported, assessed illegal and, the police grace
// of a second passed, noticed by e-mail to a local SMTP sink; the server is
// killed once a random number of the notices has reached the sink.
func crashNoticePhase(t *testing.T, n *crashNode, rng *rand.Rand) {
	sink := smtpsink.Start(t)
	token := n.setup(t, "notice", map[string]string{"ALLIANCE_SMTP_ADDR": sink.Addr, "ALLIANCE_SMTP_STARTTLS": "never",
		"ALLIANCE_NOTICE_FROM": "notices@se-hotline.example.org", "ALLIANCE_POLICE_GRACE": "1s"})
	c := apiClient{t: t, base: n.base(), token: token}
	var urls []string
	for i := range crashNotices {
		urls = append(urls, fmt.Sprintf("https://notice-%d.example.test/p/%d.png", i%crashHosts, i))
	}
	var ids []int64
	itemOf := map[string]int64{} // URL -> item
	for chunk := range slices.Chunk(urls, 4) {
		var rep struct {
			Items []apiItem `json:"items"`
		}
		if code := c.do("POST", "/api/v1/reports", map[string]any{"urls": chunk}, &rep); code != http.StatusCreated {
			t.Fatalf("report: %d", code)
		}
		for _, it := range rep.Items {
			ids = append(ids, it.ID)
			itemOf[it.URL] = it.ID
		}
	}
	if _, ok := waitFor(crashSettle, func() bool {
		return n.count(t, `SELECT COUNT(*) FROM items WHERE status = 'routed' AND route_kind = 'national'`) == crashNotices
	}); !ok {
		t.Fatalf("the items are not all routed national after %v", crashSettle)
	}
	body := map[string]any{"verdict": "baseline", "content_type": "image", "labels": map[string]string{"age_band": "unknown"}}
	for _, id := range ids {
		var out map[string]any
		if code := c.do("POST", fmt.Sprintf("/api/v1/items/%d/assessments", id), body, &out); code != http.StatusCreated {
			t.Fatalf("assess item %d: %d %v", id, code, out)
		}
	}
	at := 1 + rng.IntN(crashNotices-1)
	sink.WaitFor(t, at, 30*time.Second)
	n.crash(t, 0, func() string {
		return fmt.Sprintf("%d notices in the sink (killed once %d had arrived)", len(sink.Messages()), at)
	})

	n.settle(t, "every notice sent", func() bool {
		return n.count(t, `SELECT COUNT(*) FROM notices WHERE status = 'sent'`) >= crashNotices
	})
	stopProc(t, n.p)

	// The outbox: one notice per item, sent; each item moved on once.
	if got := n.count(t, `SELECT COUNT(*) FROM notices`); got != crashNotices {
		t.Errorf("%d notices in the outbox, want %d (one per item)", got, crashNotices)
	}
	if got := n.count(t, `SELECT COUNT(DISTINCT item_id) FROM notices WHERE status = 'sent'`); got != crashNotices {
		t.Errorf("%d items have their notice sent, want %d", got, crashNotices)
	}
	if got := n.count(t, `SELECT COUNT(*) FROM items WHERE takedown_status = 'notice_sent'`); got != crashNotices {
		t.Errorf("%d items are notice_sent, want %d", got, crashNotices)
	}
	// The sink: every item's notice arrived, under one Message-ID per item.
	msgIDs := map[string]map[string]int{} // URL -> Message-ID -> copies
	for _, m := range sink.Messages() {
		url := ""
		for _, u := range urls {
			if strings.Contains(m.Body, u) {
				url = u
			}
		}
		if url == "" {
			t.Errorf("a message in the sink names none of the items: %q", m.Subject)
			continue
		}
		if msgIDs[url] == nil {
			msgIDs[url] = map[string]int{}
		}
		msgIDs[url][m.Header.Get("Message-Id")]++
	}
	// Notices go out at most once (app.NoticeBatch): one the kill cut off
	// mid-send is not sent again but recorded as sent, unconfirmed; it may
	// or may not have reached the sink.
	unconfirmed := map[int64]bool{}
	rows, err := n.db.SQL().QueryContext(context.Background(), `SELECT item_id FROM notices WHERE unconfirmed`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		unconfirmed[id] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	twice, missing := 0, 0
	for _, u := range urls {
		switch ids := msgIDs[u]; {
		case len(ids) == 0 && unconfirmed[itemOf[u]]:
			missing++
		case len(ids) == 0:
			t.Errorf("no notice about %s reached the sink, and its notice is not unconfirmed", u)
		case len(ids) > 1:
			t.Errorf("%s: %d different notices reached the sink: %v", u, len(ids), ids)
		default:
			for _, copies := range ids {
				twice += copies - 1
			}
		}
	}
	if twice > 0 {
		t.Errorf("%d notices reached the sink twice", twice)
	}
	t.Logf("%d notices in the sink, %d unconfirmed (%d of them not in the sink), none twice", len(sink.Messages()), len(unconfirmed), missing)
	if code, out, errOut := cli(t, n.env, "", "audit", "verify"); code != exitOK {
		t.Errorf("audit verify after the kill: exit %d\n%s%s", code, out, errOut)
	}
}
