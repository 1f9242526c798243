package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/config"
	"alliance/internal/federation"
	"alliance/internal/store"
)

const (
	auditVerifySynopsis     = "audit verify --db DSN [--checkpoint FILE [--key PUBKEY]]"
	auditCheckpointSynopsis = "audit checkpoint --db DSN [--out FILE [--force]]"
	backupSynopsis          = "backup --db DSN --out FILE [--force]"
	// maxCheckpointBytes bounds a checkpoint file read back: one is ~300 bytes.
	maxCheckpointBytes = 64 << 10
)

// audit checks the audit chain (audit verify) and signs its head (audit
// checkpoint).
func (m *Main) audit(ctx context.Context, args []string) error {
	verb := ""
	if len(args) > 0 {
		verb = args[0]
	}
	switch verb {
	case "verify":
		return m.auditVerify(ctx, args[1:])
	case "checkpoint":
		return m.auditCheckpoint(ctx, args[1:])
	}
	fmt.Fprintf(m.Stderr, "Usage:\n  alliance %s\n  alliance %s\n", auditVerifySynopsis, auditCheckpointSynopsis)
	if verb == "-h" || verb == "-help" || verb == "--help" || verb == "help" {
		return errHelp
	}
	return errUsage
}

func (m *Main) auditVerify(ctx context.Context, args []string) error {
	fs := m.flagSet("audit verify", auditVerifySynopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	cpFile := fs.String("checkpoint", "", "also check this signed checkpoint (from audit checkpoint): its signature, and that the chain still holds its row unchanged")
	keyText := fs.String("key", "", "check the checkpoint's signature against this public key (ed25519:…, as alliance node prints it) instead of the key in the database")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if *keyText != "" && *cpFile == "" {
		fmt.Fprintf(m.Stderr, "--key needs --checkpoint\n")
		fs.Usage()
		return errUsage
	}
	var (
		cp  *app.SignedAuditCheckpoint
		key ed25519.PublicKey
	)
	if *cpFile != "" {
		c, err := readCheckpoint(*cpFile)
		if err != nil {
			return err
		}
		cp = &c
	}
	if *keyText != "" {
		if key, err = federation.ParsePublicKey(*keyText); err != nil {
			return fmt.Errorf("--key: %w", err)
		}
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		var v alliance.AuditVerification
		var err error
		if cp != nil {
			v, err = a.VerifyAuditCheckpoint(sctx, *cp, key)
		} else {
			v, err = a.VerifyAudit(sctx)
		}
		if err != nil {
			return err
		}
		if !v.OK {
			return fmt.Errorf("audit chain broken at row %d: %s (%d rows checked)", v.BrokenAt, v.Reason, v.Rows)
		}
		fmt.Fprintf(m.Stdout, "audit chain intact: %d rows, head %s\n", v.Rows, v.HeadHash)
		if cp != nil {
			fmt.Fprintf(m.Stdout, "checkpoint holds: row %d signed by %s at %s\n", cp.Seq, cp.NodeID, cp.Time.UTC().Format(time.RFC3339))
		}
		return nil
	})
}

// readCheckpoint reads a checkpoint file written by audit checkpoint. Its
// signature is checked later, against the node's key.
func readCheckpoint(path string) (app.SignedAuditCheckpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return app.SignedAuditCheckpoint{}, fmt.Errorf("read checkpoint: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxCheckpointBytes+1))
	if err != nil {
		return app.SignedAuditCheckpoint{}, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	if len(raw) > maxCheckpointBytes {
		return app.SignedAuditCheckpoint{}, fmt.Errorf("read checkpoint %s: over %d bytes; not a checkpoint", path, maxCheckpointBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var cp app.SignedAuditCheckpoint
	if err := dec.Decode(&cp); err != nil {
		return app.SignedAuditCheckpoint{}, fmt.Errorf("read checkpoint %s: not a checkpoint file: %w", path, err)
	}
	if dec.More() {
		return app.SignedAuditCheckpoint{}, fmt.Errorf("read checkpoint %s: data after the checkpoint", path)
	}
	return cp, nil
}

func (m *Main) auditCheckpoint(ctx context.Context, args []string) error {
	fs := m.flagSet("audit checkpoint", auditCheckpointSynopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db", "home-org")
	if err != nil {
		return err
	}
	out := fs.String("out", "", "write the checkpoint to this file instead of standard output (keep it away from the database)")
	force := fs.Bool("force", false, "replace --out if it exists")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if *force && *out == "" {
		fmt.Fprintf(m.Stderr, "--force needs --out\n")
		fs.Usage()
		return errUsage
	}
	return m.asSystem(ctx, cfg, func(a *app.App, sctx context.Context) error {
		cp, err := a.CheckpointAudit(sctx)
		if err != nil {
			return err
		}
		raw, err := json.MarshalIndent(cp, "", "  ")
		if err != nil {
			return fmt.Errorf("encode checkpoint: %w", err)
		}
		raw = append(raw, '\n')
		if *out == "" {
			_, err := m.Stdout.Write(raw)
			return err
		}
		if err := writeNewFile(*out, raw, 0o644, *force); err != nil {
			return fmt.Errorf("write checkpoint: %w", err)
		}
		fmt.Fprintf(m.Stdout, "wrote checkpoint of audit row %d (hash %s) signed by %s to %s\n", cp.Seq, cp.Hash, cp.NodeID, *out)
		return nil
	})
}

// writeNewFile writes data to path, which must not exist unless overwrite.
func writeNewFile(path string, data []byte, perm os.FileMode, overwrite bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if overwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, perm)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s already exists; choose another file or pass --force to replace it", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// backup copies a SQLite database while the node may be running; for
// PostgreSQL it says how to use pg_dump.
func (m *Main) backup(ctx context.Context, args []string) error {
	fs := m.flagSet("backup", backupSynopsis)
	cfg, err := m.loadConfig(fs, args, config.Default(), "db")
	if err != nil {
		return err
	}
	out := fs.String("out", "", "file to write the copy to (required; must not exist unless --force)")
	force := fs.Bool("force", false, "replace --out if it exists")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := m.required(fs, [2]string{"out", *out}); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if dialect, _, err := store.ParseDSN(cfg.DB); err != nil {
		return err
	} else if dialect == store.Postgres {
		return alliance.Errorf(alliance.EINVALID, "alliance backup copies SQLite databases only. %s", store.PostgresBackupHelp)
	}
	db, err := m.openDB(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if v == 0 {
		return fmt.Errorf("the database %s has no schema (run alliance migrate first); nothing to back up", cfg.DB)
	}
	if err := db.Backup(ctx, *out, *force); err != nil {
		return err
	}
	size := int64(-1)
	if fi, err := os.Stat(*out); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(m.Stdout, "backed up the database (schema version %d) to %s (%d bytes); check it with: alliance audit verify --db %s\n",
		v, *out, size, *out)
	return nil
}
