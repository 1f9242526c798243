package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"alliance/internal/hashing"
	"alliance/pdq"
)

const hashSynopsis = "hash [--format jsonl|csv|tsv] [--profile hma|cpp-cli] [--dihedral] [--workers N] [--max-size BYTES] [--max-pixels N] PATH..."

// hash prints the exact and PDQ hashes of files, walking directories. It
// prints one record per file in input order: the arguments in the order
// given, each directory's files in lexical order (filepath.WalkDir), so
// that two runs over the same tree print the same lines; the files are
// hashed in parallel and a reorder window of a few records per worker
// keeps the output in order. Symbolic links to files are hashed, links to
// directories are skipped, and so are devices, sockets and pipes found
// inside directories. A file that cannot be hashed gets a record with its
// error, and the exit status is 1 once all files are done.
func (m *Main) hash(ctx context.Context, args []string) error {
	fs := m.flagSet("hash", hashSynopsis)
	format := fs.String("format", "jsonl", "output `format`: jsonl, csv or tsv")
	profile := fs.String("profile", string(pdq.ProfileHMA), "PDQ `profile`: hma (full resolution, as HMA and python-threatexchange) or cpp-cli (the C++ tool's 512×512 resize)")
	dihedral := fs.Bool("dihedral", false, "also print the PDQ hashes of the 8 rotations and reflections")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "files hashed in parallel (default: all cores)")
	maxSize := fs.Int64("max-size", hashing.DefaultMaxSize, "largest file hashed, in `bytes`")
	maxPixels := fs.Int64("max-pixels", hashing.DefaultMaxPixels, "largest image decoded, in `pixels` (from its header)")
	if err := parse(fs, args, true); err != nil {
		return err
	}
	usageErr := func(format string, a ...any) error {
		fmt.Fprintf(m.Stderr, "alliance hash: "+format+"\n", a...)
		fs.Usage()
		return errUsage
	}
	p, err := pdq.ParseProfile(*profile)
	switch {
	case *format != "jsonl" && *format != "csv" && *format != "tsv":
		return usageErr("unknown format %q (want jsonl, csv or tsv)", *format)
	case err != nil:
		return usageErr("unknown profile %q (want hma or cpp-cli)", *profile)
	case *workers < 1:
		return usageErr("--workers must be at least 1")
	case *maxSize < 1 || *maxPixels < 1:
		return usageErr("--max-size and --max-pixels must be positive")
	case fs.NArg() == 0:
		return usageErr("no PATH given")
	}
	opts := hashing.Options{Profile: p, Dihedral: *dihedral, MaxSize: *maxSize, MaxPixels: *maxPixels}

	out := bufio.NewWriter(m.Stdout)
	w := newRecordWriter(out, *format, *dihedral)
	if err := w.header(); err != nil {
		return err
	}
	var bar *progressBar
	if isTerminal(m.Stderr) {
		bar = newProgressBar(m.Stderr)
	}
	files, failed, err := runHash(ctx, fs.Args(), opts, *workers, w, bar)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be hashed", failed, files)
	}
	return nil
}

// hashJob is one file to hash, numbered in output order; err is set when
// the walk itself failed on it.
type hashJob struct {
	seq  int
	path string
	err  error
}

type hashDone struct {
	hashJob
	res hashing.Result
}

// runHash walks paths, hashes the files with n workers and writes one
// record per file in walk order. It returns the number of files and of
// failures.
func runHash(ctx context.Context, paths []string, opts hashing.Options, n int, w *recordWriter, bar *progressBar) (files, failed int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// window bounds the records waiting for an earlier one to finish.
	window := make(chan struct{}, 4*n+16)
	jobs := make(chan hashJob)
	done := make(chan hashDone, n)
	walked := make(chan int, 1) // the number of files, once the walk ends

	go func() {
		defer close(jobs)
		seq := 0
		emit := func(path string, err error) bool {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return false
			}
			select {
			case jobs <- hashJob{seq: seq, path: path, err: err}:
				seq++
				if bar != nil {
					bar.queued(seq)
				}
				return true
			case <-ctx.Done():
				return false
			}
		}
		for _, root := range paths {
			if !walkFiles(ctx, root, emit) {
				break
			}
		}
		walked <- seq
	}()

	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for j := range jobs {
				d := hashDone{hashJob: j}
				if j.err == nil {
					d.res, d.err = hashing.HashFile(j.path, opts)
				}
				done <- d
			}
		})
	}
	go func() {
		wg.Wait()
		close(done)
	}()

	pending := map[int]hashDone{}
	next := 0
	var tick <-chan time.Time
	if bar != nil {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	for done != nil || len(pending) > 0 {
		select {
		case d, ok := <-done:
			if !ok {
				done = nil
				continue
			}
			pending[d.seq] = d
			for {
				d, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				<-window
				if d.err != nil {
					failed++
				}
				if bar != nil {
					bar.finished(d.res.Size)
				}
				if err == nil {
					if err = w.record(d.path, d.res, d.err); err != nil {
						cancel() // stdout is gone: stop walking and hashing
					}
				}
			}
		case <-tick:
			bar.draw(false)
		}
	}
	files = <-walked
	if bar != nil {
		bar.total(files)
		bar.draw(true)
	}
	if err == nil {
		err = ctx.Err()
	}
	return files, failed, err
}

// walkFiles calls emit for every file under root, in lexical order, and
// reports whether to go on.
func walkFiles(ctx context.Context, root string, emit func(path string, err error) bool) bool {
	goOn := true
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			goOn = false
			return filepath.SkipAll
		}
		if err != nil {
			// An unreadable directory (or a missing root) is one failed
			// record; the walk goes on with its siblings.
			goOn = emit(path, err)
			return skipUnlessStopped(goOn, d)
		}
		switch t := d.Type(); {
		case d.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			fi, err := os.Stat(path)
			switch {
			case err != nil:
				goOn = emit(path, err)
			case fi.Mode().IsRegular():
				goOn = emit(path, nil)
			}
		case t.IsRegular() || path == root:
			// A special file named on the command line gets an error
			// record from the hasher; inside directories they are skipped.
			goOn = emit(path, nil)
		}
		return skipUnlessStopped(goOn, nil)
	})
	if err != nil && goOn {
		goOn = emit(root, err)
	}
	return goOn
}

func skipUnlessStopped(goOn bool, d fs.DirEntry) error {
	if !goOn {
		return filepath.SkipAll
	}
	if d != nil && d.IsDir() {
		return filepath.SkipDir
	}
	return nil
}

// recordWriter prints hash records as JSON lines, CSV or TSV.
//
// JSON lines have exactly the keys path, md5, sha1, sha256, pdq (hex, null
// for a file that is not an image), pdq_quality (null likewise) and, with
// --dihedral, pdq_dihedral (8 hex hashes in the reference's order: orig,
// rot90, rot180, rot270, flipx, flipy, flipp, flipm; null for a
// non-image); a file that cannot be hashed gets {"path": …, "error": …}.
// CSV and TSV have a header line and the same columns, the dihedral
// hashes as 8 columns pdq_orig … pdq_flipm, and an error column last. TSV
// escapes backslash, tab, newline and carriage return in fields as \\,
// \t, \n and \r.
type recordWriter struct {
	w        *bufio.Writer
	format   string
	dihedral bool
	csv      *csv.Writer
}

func newRecordWriter(w *bufio.Writer, format string, dihedral bool) *recordWriter {
	r := &recordWriter{w: w, format: format, dihedral: dihedral}
	if format == "csv" {
		r.csv = csv.NewWriter(w)
	}
	return r
}

func (r *recordWriter) columns() []string {
	cols := []string{"path", "md5", "sha1", "sha256", "pdq", "pdq_quality"}
	if r.dihedral {
		for t := pdq.Original; t <= pdq.FlipMinus1; t++ {
			cols = append(cols, "pdq_"+t.String())
		}
	}
	return append(cols, "error")
}

func (r *recordWriter) header() error {
	if r.format == "jsonl" {
		return nil
	}
	return r.row(r.columns())
}

type jsonHash struct {
	Path       string  `json:"path"`
	MD5        string  `json:"md5"`
	SHA1       string  `json:"sha1"`
	SHA256     string  `json:"sha256"`
	PDQ        *string `json:"pdq"`
	PDQQuality *int    `json:"pdq_quality"`
}

type jsonHashDihedral struct {
	jsonHash
	PDQDihedral []string `json:"pdq_dihedral"`
}

type jsonError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

func (r *recordWriter) record(path string, res hashing.Result, err error) error {
	var pdqHex string
	var dihedral []string
	if res.PDQ != nil {
		pdqHex = res.PDQ.String()
	}
	if res.Dihedral != nil {
		for _, h := range res.Dihedral {
			dihedral = append(dihedral, h.String())
		}
	}
	if r.format != "jsonl" {
		row := make([]string, 0, len(r.columns()))
		if err != nil {
			row = append(row, path)
			for range len(r.columns()) - 2 {
				row = append(row, "")
			}
			return r.row(append(row, err.Error()))
		}
		q := ""
		if res.PDQ != nil {
			q = strconv.Itoa(res.PDQQuality)
		}
		row = append(row, path, res.MD5, res.SHA1, res.SHA256, pdqHex, q)
		if r.dihedral {
			if dihedral == nil {
				dihedral = make([]string, 8)
			}
			row = append(row, dihedral...)
		}
		return r.row(append(row, ""))
	}
	var v any
	switch {
	case err != nil:
		v = jsonError{Path: path, Error: err.Error()}
	default:
		j := jsonHash{Path: path, MD5: res.MD5, SHA1: res.SHA1, SHA256: res.SHA256}
		if res.PDQ != nil {
			j.PDQ, j.PDQQuality = &pdqHex, &res.PDQQuality
		}
		v = j
		if r.dihedral {
			v = jsonHashDihedral{jsonHash: j, PDQDihedral: dihedral}
		}
	}
	b, merr := json.Marshal(v)
	if merr != nil {
		return merr
	}
	b = append(b, '\n')
	_, werr := r.w.Write(b)
	return werr
}

var tsvEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

func (r *recordWriter) row(fields []string) error {
	if r.csv != nil {
		if err := r.csv.Write(fields); err != nil {
			return err
		}
		r.csv.Flush()
		return r.csv.Error()
	}
	for i, f := range fields {
		if i > 0 {
			r.w.WriteByte('\t')
		}
		tsvEscaper.WriteString(r.w, f)
	}
	return r.w.WriteByte('\n')
}

// isTerminal reports whether w is a character device, such as a terminal.
// The standard library has no isatty; a character device that is not a
// terminal (/dev/null) only costs the progress bar's few writes.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar draws one status line on a terminal: files done out of
// files found (a lower bound while the walk goes on), bytes hashed and
// rate. It is a few lines of our own rather than a dependency: the
// standard library has all it needs.
type progressBar struct {
	w       io.Writer
	start   time.Time
	mu      sync.Mutex
	found   int
	walked  bool
	done    int
	bytes   int64
	lastLen int
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, start: time.Now()}
}

func (b *progressBar) queued(n int) {
	b.mu.Lock()
	b.found = n
	b.mu.Unlock()
}

func (b *progressBar) total(n int) {
	b.mu.Lock()
	b.found, b.walked = n, true
	b.mu.Unlock()
}

func (b *progressBar) finished(size int64) {
	b.mu.Lock()
	b.done++
	b.bytes += size
	b.mu.Unlock()
}

func (b *progressBar) draw(final bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	const width = 30
	secs := max(time.Since(b.start).Seconds(), 1e-3)
	filled, of := 0, strconv.Itoa(b.found)
	if b.walked || final {
		if b.found > 0 {
			filled = width * b.done / b.found
		}
	} else {
		of = "≥" + of
	}
	line := fmt.Sprintf("hashing [%s%s] %d/%s files, %.1f MB, %.0f files/s",
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		b.done, of, float64(b.bytes)/1e6, float64(b.done)/secs)
	pad := max(0, b.lastLen-len(line))
	b.lastLen = len(line)
	fmt.Fprintf(b.w, "\r%s%s", line, strings.Repeat(" ", pad))
	if final {
		fmt.Fprintln(b.w)
	}
}
