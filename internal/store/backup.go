package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"alliance"
)

// PostgresBackupHelp tells how to back up and restore a PostgreSQL
// database, which Backup leaves to PostgreSQL's own tools.
const PostgresBackupHelp = "Back up PostgreSQL with pg_dump, which takes a consistent snapshot while the node runs: " +
	"pg_dump --format=custom --file=alliance.dump 'postgres://…'; restore into a new, empty database with " +
	"pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname='postgres://…' alliance.dump " +
	"(README.md, Backups, also gives the plain SQL form for psql)."

// Backup writes a consistent copy of the SQLite database to the file path,
// while the node may go on reading and writing: VACUUM INTO copies one read
// snapshot, so the copy holds every transaction committed before it began
// and none after. The copy is written beside path under a temporary name,
// synced to disk and only then moved to path, readable by its owner only
// (it holds password hashes and the node's private key), so path never holds
// half a backup.
//
// An existing path is an ECONFLICT error unless overwrite is set; path may
// never be the database itself. PostgreSQL is an EINVALID error pointing to
// pg_dump (PostgresBackupHelp).
func (db *DB) Backup(ctx context.Context, path string, overwrite bool) error {
	if db.dialect != SQLite {
		return alliance.Errorf(alliance.EINVALID, "alliance backup copies SQLite databases only. %s", PostgresBackupHelp)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	var file string
	if err := db.sql.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		return fmt.Errorf("store: backup: find the database file: %w", err)
	}
	if existing, err := os.Stat(abs); err == nil {
		if self, serr := os.Stat(file); serr == nil && os.SameFile(existing, self) {
			return alliance.Errorf(alliance.EINVALID, "The backup file %s is the database itself; choose another file.", abs)
		}
		if !overwrite {
			return errBackupExists(abs)
		}
		if !existing.Mode().IsRegular() {
			return alliance.Errorf(alliance.EINVALID, "The backup file %s exists and is not a regular file.", abs)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: backup to %s: %w", abs, err)
	}

	tmpf, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp-*")
	if err != nil {
		return fmt.Errorf("store: backup to %s: %w", abs, err)
	}
	tmp := tmpf.Name()
	tmpf.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmp)
		}
	}()
	// VACUUM INTO writes into an empty file; the empty file made above
	// reserves the name with mode 0600.
	if _, err := db.sql.ExecContext(ctx, `VACUUM INTO ?1`, tmp); err != nil {
		return fmt.Errorf("store: backup to %s: vacuum into %s: %w", abs, tmp, err)
	}
	// SQLite does not sync what VACUUM INTO wrote.
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("store: backup to %s: %w", abs, err)
	}
	if err := moveBackup(tmp, abs, overwrite); err != nil {
		return err
	}
	done = true
	if err := syncFile(filepath.Dir(abs)); err != nil {
		return fmt.Errorf("store: backup to %s: %w", abs, err)
	}
	return nil
}

// moveBackup moves the finished copy tmp to path: a rename, or without
// overwrite a hard link, which (unlike a rename) fails if a file appeared at
// path meanwhile. File systems without hard links get a checked rename.
func moveBackup(tmp, path string, overwrite bool) error {
	if !overwrite {
		err := os.Link(tmp, path)
		switch {
		case err == nil:
			os.Remove(tmp) // path holds the copy; a left-over name is harmless
			return nil
		case errors.Is(err, fs.ErrExist):
			return errBackupExists(path)
		}
		if _, serr := os.Lstat(path); serr == nil {
			return errBackupExists(path)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	return nil
}

func errBackupExists(path string) error {
	return alliance.Errorf(alliance.ECONFLICT, "The backup file %s already exists; choose another file or pass --force to replace it.", path)
}

// syncFile flushes a file or directory to stable storage.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
