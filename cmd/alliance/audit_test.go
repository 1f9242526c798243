package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"alliance"
	"alliance/internal/federation"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// auditFixture migrates the database of env and makes the audit rows of
// users users and one token: users+1 rows.
func auditFixture(t *testing.T, env map[string]string, users int) {
	t.Helper()
	if code, out, errOut := cli(t, env, "", "migrate"); code != exitOK {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	for i := range users {
		if code, out, errOut := cli(t, env, "", "user", "add", "--email", fmt.Sprintf("u%d@example.org", i),
			"--org", "SE-HOTLINE", "--role", "analyst"); code != exitOK {
			t.Fatalf("user add: exit %d\n%s%s", code, out, errOut)
		}
	}
	if code, out, errOut := cli(t, env, "", "token", "create", "--email", "u0@example.org"); code != exitOK {
		t.Fatalf("token create: exit %d\n%s%s", code, out, errOut)
	}
}

// rawSQL runs statements on dsn directly, as someone with access to the
// database (not through the node) would.
func rawSQL(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.SQL().Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// wantVerify runs audit verify with args and checks its outcome: intact
// when brokenAt is 0, else exit 1 naming exactly row brokenAt and with
// every string of reason in the message.
func wantVerify(t *testing.T, env map[string]string, brokenAt int64, reason []string, args ...string) {
	t.Helper()
	code, out, errOut := cli(t, env, "", append([]string{"audit", "verify"}, args...)...)
	if brokenAt == 0 {
		if code != exitOK || !strings.Contains(out, "audit chain intact") {
			t.Fatalf("audit verify %v: exit %d, want intact\n%s%s", args, code, out, errOut)
		}
		return
	}
	if code != exitFail {
		t.Fatalf("audit verify %v: exit %d, want 1\n%s%s", args, code, out, errOut)
	}
	if want := fmt.Sprintf("audit chain broken at row %d:", brokenAt); !strings.Contains(errOut, want) {
		t.Errorf("audit verify %v: stderr lacks %q:\n%s", args, want, errOut)
	}
	for _, r := range reason {
		if !strings.Contains(errOut, r) {
			t.Errorf("audit verify %v: stderr lacks %q:\n%s", args, r, errOut)
		}
	}
}

// auditCols are audit_events' columns besides seq, for swapping rows.
var auditCols = []string{"occurred_at", "actor_id", "actor_label", "org_code", "action", "object_type", "object_id",
	"request_id", "prev_hash", "hash"}

// TestAuditTamperCLI tampers with the audit rows in the database by hand, as
// someone with access to it could, and checks that audit verify fails and
// names the first broken row.
func TestAuditTamperCLI(t *testing.T) {
	// Rows 3 and 4 swapped column by column, keeping their seq.
	var swap []string
	for _, c := range auditCols {
		swap = append(swap, fmt.Sprintf(`UPDATE audit_events SET %[1]s = (SELECT %[1]s FROM audit_events WHERE seq = 4) WHERE seq = 3`, c),
			fmt.Sprintf(`UPDATE audit_events SET %[1]s = (SELECT %[1]s FROM audit_events_copy WHERE seq = 3) WHERE seq = 4`, c))
	}
	swapContents := append([]string{`CREATE TABLE audit_events_copy AS SELECT * FROM audit_events`}, swap...)
	swapContents = append(swapContents, `DROP TABLE audit_events_copy`)

	tests := []struct {
		name     string
		stmts    []string
		brokenAt int64
		reason   []string
	}{
		{"edit a middle row", []string{`UPDATE audit_events SET object_id = '999' WHERE seq = 3`}, 3,
			[]string{"row content does not match its hash"}},
		{"edit a middle row's actor", []string{`UPDATE audit_events SET actor_label = 'someone else' WHERE seq = 4`}, 4,
			[]string{"row content does not match its hash"}},
		// The row named is the first one present that fails: row 4, where
		// row 3 was expected; the reason names the missing row.
		{"delete a middle row", []string{`DELETE FROM audit_events WHERE seq = 3`}, 4,
			[]string{"sequence gap: expected row 3"}},
		{"swap two rows' sequence numbers", []string{
			`UPDATE audit_events SET seq = 1000 WHERE seq = 3`,
			`UPDATE audit_events SET seq = 3 WHERE seq = 4`,
			`UPDATE audit_events SET seq = 4 WHERE seq = 1000`,
		}, 3, []string{"link to previous row does not match"}},
		{"swap two rows' contents", swapContents, 3, []string{"link to previous row does not match"}},
		{"delete the tail", []string{`DELETE FROM audit_events WHERE seq >= 5`}, 5,
			[]string{"row missing: the chain head is row 6"}},
		{"delete the last row", []string{`DELETE FROM audit_events WHERE seq = 6`}, 6,
			[]string{"row missing: the chain head is row 6"}},
	}
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"ALLIANCE_DB": dsn}
			auditFixture(t, env, 5) // rows 1-6
			wantVerify(t, env, 0, nil)
			// Each case works on a copy of the rows, restored after it.
			rawSQL(t, dsn, `CREATE TABLE audit_events_saved AS SELECT * FROM audit_events`)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					rawSQL(t, dsn, tt.stmts...)
					wantVerify(t, env, tt.brokenAt, tt.reason)
					rawSQL(t, dsn, `DELETE FROM audit_events`, `INSERT INTO audit_events SELECT * FROM audit_events_saved`)
					wantVerify(t, env, 0, nil)
				})
			}
		})
	}
}

// readAudit returns every audit row of dsn.
func readAudit(t *testing.T, dsn string) []alliance.AuditEvent {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows []alliance.AuditEvent
	err = db.InReadTx(context.Background(), func(tx *store.Tx) error {
		rows, err = tx.AuditEvents(context.Background(), "", 0, 10000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// rewriteChain edits row seq and recomputes every hash from it on, and the
// head: what someone with write access to the database and this source
// code can do. The chain alone then verifies.
func rewriteChain(t *testing.T, dsn string, seq int64) {
	t.Helper()
	rows := readAudit(t, dsn)
	var stmts []string
	prev := alliance.GenesisHash
	for _, e := range rows {
		if e.Seq >= seq {
			if e.Seq == seq {
				e.ObjectID = "rewritten"
			}
			e.PrevHash = prev
			e.Hash = e.ComputeHash()
			stmts = append(stmts, fmt.Sprintf(`UPDATE audit_events SET object_id = '%s', prev_hash = '%s', hash = '%s' WHERE seq = %d`,
				e.ObjectID, e.PrevHash, e.Hash, e.Seq))
		}
		prev = e.Hash
	}
	stmts = append(stmts, fmt.Sprintf(`UPDATE audit_head SET hash = '%s'`, prev))
	rawSQL(t, dsn, stmts...)
}

func TestAuditCheckpoint(t *testing.T) {
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"ALLIANCE_DB": dsn}
			dir := t.TempDir()
			auditFixture(t, env, 5) // rows 1-6
			cpFile := filepath.Join(dir, "checkpoint.json")
			code, out, errOut := cli(t, env, "", "audit", "checkpoint", "--out", cpFile)
			if code != exitOK || !strings.Contains(out, "checkpoint of audit row 6") {
				t.Fatalf("audit checkpoint: exit %d\n%s%s", code, out, errOut)
			}
			var cp map[string]any
			raw, err := os.ReadFile(cpFile)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &cp); err != nil {
				t.Fatalf("checkpoint is not JSON: %v\n%s", err, raw)
			}
			for _, k := range []string{"node_id", "seq", "hash", "time", "sig"} {
				if _, ok := cp[k]; !ok {
					t.Errorf("checkpoint lacks %q: %s", k, raw)
				}
			}
			if code, _, errOut := cli(t, env, "", "audit", "checkpoint", "--out", cpFile); code != exitFail || !strings.Contains(errOut, "already exists") {
				t.Errorf("checkpoint over an existing file: exit %d, stderr %q", code, errOut)
			}
			code, stdoutCP, errOut := cli(t, env, "", "audit", "checkpoint")
			if code != exitOK || !json.Valid([]byte(stdoutCP)) {
				t.Errorf("checkpoint to stdout: exit %d\n%s%s", code, stdoutCP, errOut)
			}

			// The node's key, as an operator would keep it away from the database.
			code, out, errOut = cli(t, env, "", "node")
			if code != exitOK {
				t.Fatalf("node: exit %d\n%s", code, errOut)
			}
			_, key, _ := strings.Cut(out, "key ")
			key = strings.TrimSpace(key)

			wantVerify(t, env, 0, nil, "--checkpoint", cpFile)
			wantVerify(t, env, 0, nil, "--checkpoint", cpFile, "--key", key)
			// Rows appended after the checkpoint keep it valid.
			auditMore(t, env)
			wantVerify(t, env, 0, nil, "--checkpoint", cpFile)

			t.Run("another key", func(t *testing.T) {
				other, err := federation.NewIdentity("SE")
				if err != nil {
					t.Fatal(err)
				}
				code, _, errOut := cli(t, env, "", "audit", "verify", "--checkpoint", cpFile, "--key", federation.EncodePublicKey(other.Public()))
				if code != exitFail || !strings.Contains(errOut, "signature is not valid") {
					t.Errorf("exit %d, stderr %q; want a signature error", code, errOut)
				}
			})

			t.Run("tampered checkpoint", func(t *testing.T) {
				tampers := map[string]func(m map[string]any){
					"seq":  func(m map[string]any) { m["seq"] = 5.0 },
					"hash": func(m map[string]any) { m["hash"] = strings.Repeat("ab", 32) },
					"time": func(m map[string]any) { m["time"] = "2020-01-01T00:00:00Z" },
					"sig": func(m map[string]any) {
						s := []byte(m["sig"].(string))
						s[5] ^= 1
						m["sig"] = string(s)
					},
				}
				for field, tamper := range tampers {
					m := map[string]any{}
					if err := json.Unmarshal(raw, &m); err != nil {
						t.Fatal(err)
					}
					tamper(m)
					b, _ := json.Marshal(m)
					f := filepath.Join(dir, "tampered-"+field+".json")
					if err := os.WriteFile(f, b, 0o600); err != nil {
						t.Fatal(err)
					}
					code, _, errOut := cli(t, env, "", "audit", "verify", "--checkpoint", f)
					if code != exitFail || !strings.Contains(errOut, "signature is not valid") {
						t.Errorf("%s changed: exit %d, stderr %q; want a signature error", field, code, errOut)
					}
				}
			})

			t.Run("chain rewritten with hashes recomputed", func(t *testing.T) {
				rawSQL(t, dsn, `CREATE TABLE audit_events_saved AS SELECT * FROM audit_events`,
					`CREATE TABLE audit_head_saved AS SELECT * FROM audit_head`)
				restore := func() {
					rawSQL(t, dsn, `DELETE FROM audit_events`, `INSERT INTO audit_events SELECT * FROM audit_events_saved`,
						`DELETE FROM audit_head`, `INSERT INTO audit_head SELECT * FROM audit_head_saved`)
					wantVerify(t, env, 0, nil, "--checkpoint", cpFile)
				}
				for _, seq := range []int64{2, 6} {
					rewriteChain(t, dsn, seq)
					wantVerify(t, env, 0, nil) // the chain alone cannot tell
					wantVerify(t, env, 6, []string{"does not match the checkpoint"}, "--checkpoint", cpFile)
					wantVerify(t, env, 6, []string{"does not match the checkpoint"}, "--checkpoint", cpFile, "--key", key)
					restore()
				}
				// Rows after the checkpoint may be rewritten: the checkpoint
				// vouches for rows up to its own only.
				rewriteChain(t, dsn, 7)
				wantVerify(t, env, 0, nil, "--checkpoint", cpFile)
				restore()

				// The tail cut off together with the head.
				rows := readAudit(t, dsn)
				rawSQL(t, dsn, `DELETE FROM audit_events WHERE seq > 4`,
					fmt.Sprintf(`UPDATE audit_head SET seq = 4, hash = '%s'`, rows[3].Hash))
				wantVerify(t, env, 0, nil)
				wantVerify(t, env, 6, []string{"checkpointed row missing: the chain ends at row 4"}, "--checkpoint", cpFile)
				restore()
			})

			t.Run("usage", func(t *testing.T) {
				if code, _, errOut := cli(t, env, "", "audit", "verify", "--key", key); code != exitUsage || !strings.Contains(errOut, "--key needs --checkpoint") {
					t.Errorf("--key alone: exit %d, stderr %q", code, errOut)
				}
				if code, _, errOut := cli(t, env, "", "audit", "verify", "--checkpoint", filepath.Join(dir, "none.json")); code != exitFail || !strings.Contains(errOut, "none.json") {
					t.Errorf("missing checkpoint file: exit %d, stderr %q", code, errOut)
				}
				if code, _, errOut := cli(t, env, "", "audit", "verify", "--checkpoint", cpFile, "--key", "ed25519:nope"); code != exitFail || !strings.Contains(errOut, "--key") {
					t.Errorf("bad key: exit %d, stderr %q", code, errOut)
				}
				if code, _, errOut := cli(t, env, "", "audit", "frobnicate"); code != exitUsage || !strings.Contains(errOut, "audit checkpoint") {
					t.Errorf("unknown verb: exit %d, stderr %q", code, errOut)
				}
			})
		})
	}
}

// auditMore appends two audit rows.
func auditMore(t *testing.T, env map[string]string) {
	t.Helper()
	for _, email := range []string{"late1@example.org", "late2@example.org"} {
		if code, out, errOut := cli(t, env, "", "user", "add", "--email", email, "--org", "SE-HOTLINE", "--role", "analyst"); code != exitOK {
			t.Fatalf("user add: exit %d\n%s%s", code, out, errOut)
		}
	}
}

// TestAuditCheckpointRefusals: no checkpoint of a broken or empty chain.
func TestAuditCheckpointRefusals(t *testing.T) {
	dsn := testutil.SQLiteDSN(t)
	env := map[string]string{"ALLIANCE_DB": dsn}
	if code, _, errOut := cli(t, env, "", "migrate"); code != exitOK {
		t.Fatal(errOut)
	}
	if code, _, errOut := cli(t, env, "", "audit", "checkpoint"); code != exitFail || !strings.Contains(errOut, "empty") {
		t.Errorf("empty chain: exit %d, stderr %q", code, errOut)
	}
	auditMore(t, env)
	rawSQL(t, dsn, `UPDATE audit_events SET action = 'x' WHERE seq = 1`)
	if code, out, errOut := cli(t, env, "", "audit", "checkpoint"); code != exitFail || out != "" || !strings.Contains(errOut, "broken at row 1") {
		t.Errorf("broken chain: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// users returns the users of dsn, in id order.
func users(t *testing.T, dsn string) [][4]string {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.SQL().Query(`SELECT id, email, role, password_hash FROM users ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][4]string
	for rows.Next() {
		var u [4]string
		if err := rows.Scan(&u[0], &u[1], &u[2], &u[3]); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBackupSQLite(t *testing.T) {
	dsn := testutil.SQLiteDSN(t)
	env := map[string]string{"ALLIANCE_DB": dsn}
	auditFixture(t, env, 3)
	dir := t.TempDir()
	out := filepath.Join(dir, "backup.db")

	// The node goes on writing audit rows while the backup is taken.
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var writes int
	var writeErr error
	wg.Go(func() {
		for ctx.Err() == nil {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				return tx.AppendAudit(ctx, &alliance.AuditEvent{ActorLabel: "system", Action: "test.during_backup"})
			})
			if err != nil && ctx.Err() == nil {
				writeErr = err
				return
			}
			writes++
			time.Sleep(time.Millisecond)
		}
	})
	time.Sleep(20 * time.Millisecond)
	code, stdout, errOut := cli(t, env, "", "backup", "--out", out)
	cancel()
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("writer during backup: %v", writeErr)
	}
	if code != exitOK || !strings.Contains(stdout, "backed up") {
		t.Fatalf("backup: exit %d\n%s%s", code, stdout, errOut)
	}
	t.Logf("%d audit rows appended while backing up", writes)
	if fi, err := os.Stat(out); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %v, want 0600", fi.Mode().Perm())
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".backup.db.tmp-*")); len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}

	backupDSN := "sqlite:" + out
	wantVerify(t, map[string]string{"ALLIANCE_DB": backupDSN}, 0, nil)
	if got, want := users(t, backupDSN), users(t, dsn); !reflect.DeepEqual(got, want) || len(got) != 3 {
		t.Errorf("backup users = %v, want %v", got, want)
	}
	if got, all := len(readAudit(t, backupDSN)), len(readAudit(t, dsn)); got < 4 || got > all {
		t.Errorf("backup has %d audit rows; the database has %d and had 4 before the backup", got, all)
	}

	t.Run("existing file", func(t *testing.T) {
		before, _ := os.ReadFile(out)
		auditMore(t, env)
		code, _, errOut := cli(t, env, "", "backup", "--out", out)
		if code != exitFail || !strings.Contains(errOut, "already exists") || !strings.Contains(errOut, "--force") {
			t.Errorf("backup over an existing file: exit %d, stderr %q", code, errOut)
		}
		if after, _ := os.ReadFile(out); string(after) != string(before) {
			t.Error("the refused backup changed the existing file")
		}
		if code, _, errOut := cli(t, env, "", "backup", "--out", out, "--force"); code != exitOK {
			t.Fatalf("backup --force: exit %d, stderr %q", code, errOut)
		}
		if got, want := users(t, backupDSN), users(t, dsn); !reflect.DeepEqual(got, want) || len(got) != 5 {
			t.Errorf("replaced backup users = %v, want %v", got, want)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		self := strings.TrimPrefix(dsn, "sqlite:")
		if code, _, errOut := cli(t, env, "", "backup", "--out", self, "--force"); code != exitFail || !strings.Contains(errOut, "database itself") {
			t.Errorf("backup onto the database: exit %d, stderr %q", code, errOut)
		}
		if code, _, errOut := cli(t, env, "", "backup"); code != exitUsage || !strings.Contains(errOut, "--out is required") {
			t.Errorf("no --out: exit %d, stderr %q", code, errOut)
		}
		empty := map[string]string{"ALLIANCE_DB": testutil.SQLiteDSN(t)}
		if code, _, errOut := cli(t, empty, "", "backup", "--out", filepath.Join(dir, "empty.db")); code != exitFail || !strings.Contains(errOut, "no schema") {
			t.Errorf("unmigrated database: exit %d, stderr %q", code, errOut)
		}
	})
	wantVerify(t, env, 0, nil)
}

// TestBackupPostgres: alliance backup points to pg_dump, and the documented
// pg_dump round trips (psql, pg_restore) restore a database whose audit
// chain verifies.
func TestBackupPostgres(t *testing.T) {
	if os.Getenv(testutil.PostgresEnv) == "" {
		t.Skipf("%s is not set", testutil.PostgresEnv)
	}
	dsn := testutil.PostgresDSN(t)
	env := map[string]string{"ALLIANCE_DB": dsn}
	auditFixture(t, env, 3)
	code, _, errOut := cli(t, env, "", "backup", "--out", filepath.Join(t.TempDir(), "x"))
	if code != exitFail || !strings.Contains(errOut, "pg_dump") || !strings.Contains(errOut, "SQLite databases only") {
		t.Errorf("backup of PostgreSQL: exit %d, stderr %q; want a pointer to pg_dump", code, errOut)
	}

	if _, err := exec.LookPath("pg_dump"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pg_dump not on PATH; CI must run the PostgreSQL restore test")
		}
		t.Skip("pg_dump not on PATH: skipping the pg_dump restore test (it is required when CI is set)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	// The commands README.md gives: a plain SQL dump restored with psql,
	// and a custom-format dump restored with pg_restore.
	tests := []struct {
		name    string
		dump    []string
		restore func(file, dsn string) (string, []string)
	}{
		{"psql", []string{"--no-owner", "--no-privileges"}, func(file, dsn string) (string, []string) {
			return "psql", []string{"--quiet", "--no-psqlrc", "--set", "ON_ERROR_STOP=1", "--single-transaction", "--file", file, dsn}
		}},
		{"pg_restore", []string{"--format=custom"}, func(file, dsn string) (string, []string) {
			return "pg_restore", []string{"--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname", dsn, file}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := exec.LookPath(tt.name); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("%s not on PATH; CI must run the PostgreSQL restore test", tt.name)
				}
				t.Skipf("%s not on PATH: skipping this restore (it is required when CI is set)", tt.name)
			}
			file := filepath.Join(t.TempDir(), "alliance.dump")
			run("pg_dump", append(tt.dump, "--file", file, dsn)...)
			restored := testutil.PostgresDSN(t)
			name, args := tt.restore(file, restored)
			run(name, args...)
			renv := map[string]string{"ALLIANCE_DB": restored}
			wantVerify(t, renv, 0, nil)
			if got, want := users(t, restored), users(t, dsn); !reflect.DeepEqual(got, want) || len(got) != 3 {
				t.Errorf("restored users = %v, want %v", got, want)
			}
			// The restored node carries on: migrate finds nothing to do,
			// and new rows extend the restored chain.
			if code, out, errOut := cli(t, renv, "", "migrate"); code != exitOK {
				t.Fatalf("migrate restored: exit %d\n%s%s", code, out, errOut)
			}
			auditMore(t, renv)
			wantVerify(t, renv, 0, nil)
		})
	}
}
