package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"alliance/internal/store"
)

// proc is an `alliance serve` running as a separate process.
type proc struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
	addr string
}

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProc starts the binary as `serve` on addr with env and waits until
// it answers /healthz.
func startProc(t *testing.T, bin, addr string, env map[string]string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", addr)
	cmd.Env = append(os.Environ(), "ALLIANCE_LOG_LEVEL=warn")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{cmd: cmd, logs: &bytes.Buffer{}, addr: addr}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve on %s did not answer: %v\n%s", addr, err, p.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill stops the process at once, as a crash would.
func (p *proc) kill() {
	if p.cmd.Process != nil && p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

// mirror counts the entries of the mirror of bank on the database at dsn,
// and the "add" changes logged for them (one each, unless an object was
// applied twice).
func mirror(t *testing.T, dsn, bank string) (entries, adds int) {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.SQL().QueryRowContext(context.Background(), `SELECT
		(SELECT COUNT(*) FROM bank_entries e JOIN banks b ON b.id = e.bank_id WHERE b.name = $1),
		(SELECT COUNT(*) FROM bank_changes c JOIN bank_entries e ON e.id = c.entry_id JOIN banks b ON b.id = e.bank_id
			WHERE b.name = $1 AND c.op = 'add')`, bank).Scan(&entries, &adds)
	if err != nil {
		t.Fatal(err)
	}
	return entries, adds
}

// TestFederationThreeProcesses runs three nodes as separate processes on
// loopback. The Swedish node shares a bank with the Dutch and the German
// ones; the German node is killed, the bank grows, the German node comes
// back, and both peers end with every entry exactly once, each logged once:
// nothing lost, nothing applied twice.
func TestFederationThreeProcesses(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "alliance")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	envs := map[string]map[string]string{}
	keys := map[string]string{}
	for _, n := range []struct{ name, org string }{{"se", "SE-HOTLINE"}, {"nl", "NL-HOTLINE"}, {"de", "DE-HOTLINE"}} {
		env := map[string]string{"ALLIANCE_DB": filepath.Join(dir, n.name+".db"), "ALLIANCE_HOME_ORG": n.org}
		cli(t, env, "", "migrate")
		_, out, _ := cli(t, env, "", "node")
		k, _ := strings.CutPrefix(strings.Split(strings.TrimSpace(out), "\n")[1], "key ")
		envs[n.name], keys[n.name] = env, k
	}
	addrs := map[string]string{"se": freeAddr(t), "nl": freeAddr(t), "de": freeAddr(t)}
	if code, _, errOut := cli(t, envs["se"], "", "bank", "create", "--org", "SE-HOTLINE", "--name", "shared"); code != exitOK {
		t.Fatal(errOut)
	}
	importRange := func(from, to int) {
		t.Helper()
		var b strings.Builder
		b.WriteString("algorithm,value\n")
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "sha256,%064x\n", i+1)
		}
		f := writeFile(t, dir, fmt.Sprintf("batch-%d.csv", from), b.String())
		if code, _, errOut := cli(t, envs["se"], "", "bank", "import", "--bank", "SE-HOTLINE/shared", "--format", "csv", f); code != exitOK {
			t.Fatalf("import %d-%d: %s", from, to, errOut)
		}
	}
	importRange(0, 3000)
	for _, peer := range []struct{ name, cc string }{{"nl", "NL"}, {"de", "DE"}} {
		if code, _, errOut := cli(t, envs["se"], "", "peer", "add", "--url", "http://"+addrs[peer.name], "--key", keys[peer.name],
			"--country", peer.cc, "--bank", "SE-HOTLINE/shared"); code != exitOK {
			t.Fatal(errOut)
		}
		if code, _, errOut := cli(t, envs[peer.name], "", "peer", "add", "--url", "http://"+addrs["se"], "--key", keys["se"], "--country", "SE"); code != exitOK {
			t.Fatal(errOut)
		}
	}
	procs := map[string]*proc{}
	for _, name := range []string{"se", "nl", "de"} {
		procs[name] = startProc(t, bin, addrs[name], envs[name])
	}
	const mirrorName = "peer SE SE-HOTLINE/shared"
	caughtUp := func(name string, want int) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			entries, adds := mirror(t, envs[name]["ALLIANCE_DB"], mirrorName)
			if entries == want && adds == want {
				return
			}
			if entries > want || adds > want {
				t.Fatalf("%s: %d entries, %d adds logged; want %d of each (something applied twice)", name, entries, adds, want)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d entries, %d adds after 60s; want %d\n%s", name, entries, adds, want, procs[name].logs.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	caughtUp("nl", 3000)
	caughtUp("de", 3000)

	procs["de"].kill()
	importRange(3000, 5000)
	caughtUp("nl", 5000)
	time.Sleep(2 * time.Second) // the bank moves on while the German node is down
	importRange(5000, 6000)
	procs["de"] = startProc(t, bin, addrs["de"], envs["de"])
	caughtUp("de", 6000)
	caughtUp("nl", 6000)
}
