package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime"
	"strings"
	"time"

	"alliance/internal/bankfile"
	"alliance/internal/hashing"
	"alliance/pdq"
	"alliance/pdqindex"
)

const matchSynopsis = "match [--threshold T] [--format vics|csv|hma] --bank-file FILE [--queries FILE|-] [--profile hma|cpp-cli] [--workers N] [PATH...]"

// match matches hashes, or files hashed on the fly, against a bank file,
// offline: the bank is loaded into a PDQ index and exact-hash sets, then
// each query prints one JSON line
//
//	{"query": …, "matches": [{"value", "distance", "algorithm", "category", "series"}, …]}
//
// Query hashes come from --queries (a file, or - for standard input; one a
// line as HMA writes them: "pdq HEX", "md5 HEX", "sha1 HEX", "sha256 HEX",
// or a bare hex of 64 digits (pdq), 32 (md5) or 40 (sha1); # comments and
// blank lines are skipped), and "query" is the line. Each PATH is a file or
// directory hashed as `alliance hash` does and matched on its PDQ hash and
// its exact hashes; "query" is its path. With neither, hashes are read from
// standard input. Hashed paths are explicit arguments and query files come
// by flag, so that a text file of hashes is never mistaken for a file to
// hash, or the reverse.
//
// Exact matches come first (distance 0), then PDQ matches by distance.
// A bad query line stops with its line number; a file that cannot be
// hashed prints {"query": path, "error": …} and the exit status is 1 once
// all are done.
func (m *Main) match(ctx context.Context, args []string) error {
	fs := m.flagSet("match", matchSynopsis)
	threshold := fs.Int("threshold", pdqindex.MaxThreshold, fmt.Sprintf("largest PDQ Hamming distance that matches, 0 to %d", pdqindex.MaxThreshold))
	format := fs.String("format", "", "bank file `format`: vics, csv or hma (default: detected from the content)")
	bankFile := fs.String("bank-file", "", "the bank `file` to match against")
	queries := fs.String("queries", "", "`file` of query hashes, one a line; - for standard input")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "files hashed in parallel")
	profile := fs.String("profile", string(pdq.ProfileHMA), "PDQ `profile` files are hashed with: hma or cpp-cli (as the bank's hashes were)")
	if err := parse(fs, args, true); err != nil {
		return err
	}
	usageErr := func(format string, a ...any) error {
		fmt.Fprintf(m.Stderr, "alliance match: "+format+"\n", a...)
		fs.Usage()
		return errUsage
	}
	var f bankfile.Format
	if *format != "" {
		var err error
		if f, err = bankfile.ParseFormat(*format); err != nil {
			return usageErr("%v", err)
		}
	}
	switch {
	case *threshold < 0 || *threshold > pdqindex.MaxThreshold:
		return usageErr("--threshold %d is out of range: want 0 to %d", *threshold, pdqindex.MaxThreshold)
	case *bankFile == "":
		return usageErr("--bank-file is required")
	case *workers < 1:
		return usageErr("--workers must be at least 1")
	}
	p, err := pdq.ParseProfile(*profile)
	if err != nil {
		return usageErr("unknown profile %q (want hma or cpp-cli)", *profile)
	}
	bank, err := loadMatchBank(*bankFile, f)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(m.Stdout)
	defer out.Flush()
	emit := func(r matchResult) error {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		out.Write(b)
		return out.WriteByte('\n')
	}
	if *queries != "" || fs.NArg() == 0 {
		var in io.Reader = m.Stdin
		name := "standard input"
		if *queries != "" && *queries != "-" {
			f, err := os.Open(*queries)
			if err != nil {
				return err
			}
			defer f.Close()
			in, name = f, *queries
		}
		if err := matchLines(in, name, bank, *threshold, emit); err != nil {
			return err
		}
	}
	if fs.NArg() > 0 {
		var bar *progressBar
		if isTerminal(m.Stderr) {
			bar = newProgressBar(m.Stderr)
		}
		opts := hashing.Options{Profile: p}
		files, failed, err := matchPaths(ctx, fs.Args(), opts, *workers, bank, *threshold, emit, bar)
		if err != nil {
			return err
		}
		if failed > 0 {
			if ferr := out.Flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("%d of %d files could not be hashed", failed, files)
		}
	}
	return out.Flush()
}

// matchResult is one output line.
type matchResult struct {
	Query   string     `json:"query"`
	Matches []matchHit `json:"matches"`
	Error   string     `json:"error,omitempty"`
}

// matchHit is one bank entry a query matched.
type matchHit struct {
	Value     string `json:"value"`
	Distance  int    `json:"distance"`
	Algorithm string `json:"algorithm"`
	Category  string `json:"category"`
	Series    string `json:"series"`
}

// bankEntry is what an output line needs of a bank entry; category and
// series strings are interned, since banks repeat them.
type bankEntry struct {
	alg, value, category, series string
}

// matchBank is a bank file loaded for matching; ids are indexes into
// entries.
type matchBank struct {
	entries []bankEntry
	pdq     *pdqindex.Index
	sets    map[string]*pdqindex.HashSet
}

var exactWidth = map[string]int{bankfile.MD5: pdqindex.MD5Size, bankfile.SHA1: pdqindex.SHA1Size, bankfile.SHA256: pdqindex.SHA256Size}

// loadMatchBank reads the bank file at path in format f (detected when
// empty) and indexes it.
func loadMatchBank(path string, f bankfile.Format) (*matchBank, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	br := bufio.NewReaderSize(file, 64<<10)
	if f == "" {
		if f, err = bankfile.Detect(br); err != nil {
			return nil, fmt.Errorf("bank file %s: %w", path, err)
		}
	}
	r, err := bankfile.NewReader(br, f)
	if err != nil {
		return nil, err
	}
	b := &matchBank{sets: map[string]*pdqindex.HashSet{}}
	var pdqs []pdqindex.Entry
	exact := map[string][]byte{} // hashes end to end
	exactIDs := map[string][]uint64{}
	intern := map[string]string{}
	in := func(s string) string {
		if v, ok := intern[s]; ok {
			return v
		}
		intern[s] = s
		return s
	}
	for e, err := range bankfile.All(r) {
		if err != nil {
			return nil, fmt.Errorf("bank file %s (%s): %w", path, f, err)
		}
		id := uint64(len(b.entries))
		b.entries = append(b.entries, bankEntry{alg: e.Algorithm, value: e.Value, category: in(e.Category), series: in(e.Series)})
		raw, _ := hex.DecodeString(e.Value) // validated by the reader
		if e.Algorithm == bankfile.PDQ {
			pdqs = append(pdqs, pdqindex.Entry{ID: id, Hash: pdq.Hash(raw)})
			continue
		}
		exact[e.Algorithm] = append(exact[e.Algorithm], raw...)
		exactIDs[e.Algorithm] = append(exactIDs[e.Algorithm], id)
	}
	b.pdq = pdqindex.Build(pdqs)
	for alg, ids := range exactIDs {
		w, hashes := exactWidth[alg], exact[alg]
		seq := func(yield func(uint64, []byte) bool) {
			for i, id := range ids {
				if !yield(id, hashes[i*w:(i+1)*w]) {
					return
				}
			}
		}
		if b.sets[alg], err = pdqindex.BuildHashSet(w, len(ids), iter.Seq2[uint64, []byte](seq)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// lookup returns the entries matching a hash of alg (hex, validated).
func (b *matchBank) lookup(dst []matchHit, alg, value string, threshold int) ([]matchHit, error) {
	raw, err := hex.DecodeString(value)
	if err != nil {
		return dst, err
	}
	hit := func(id uint64, d int) matchHit {
		e := b.entries[id]
		return matchHit{Value: e.value, Distance: d, Algorithm: e.alg, Category: e.category, Series: e.series}
	}
	if alg == bankfile.PDQ {
		ms, err := b.pdq.Query(pdq.Hash(raw), threshold)
		if err != nil {
			return dst, err
		}
		for _, m := range ms {
			dst = append(dst, hit(m.ID, m.Distance))
		}
		return dst, nil
	}
	set := b.sets[alg]
	if set == nil {
		return dst, nil
	}
	ids, err := set.Lookup(raw)
	if err != nil {
		return dst, err
	}
	for _, id := range ids {
		dst = append(dst, hit(id, 0))
	}
	return dst, nil
}

// matchLines matches each hash line of in (named name in errors).
func matchLines(in io.Reader, name string, b *matchBank, threshold int, emit func(matchResult) error) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), bankfile.MaxRecordSize)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if line == 1 {
			s = strings.TrimPrefix(s, "\ufeff")
		}
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		e, err := bankfile.ParseHashLine(s)
		if err != nil {
			return fmt.Errorf("%s: line %d: %v", name, line, err)
		}
		hits, err := b.lookup([]matchHit{}, e.Algorithm, e.Value, threshold)
		if err != nil {
			return fmt.Errorf("%s: line %d: %v", name, line, err)
		}
		if err := emit(matchResult{Query: s, Matches: hits}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("%s: line %d: longer than %d bytes", name, line+1, bankfile.MaxRecordSize)
		}
		return fmt.Errorf("%s: line %d: %w", name, line+1, err)
	}
	return nil
}

// matchSlot is one file to hash and match, in output order.
type matchSlot struct {
	path string
	err  error
	res  hashing.Result
	done chan struct{}
}

// matchPaths walks paths as `alliance hash` does, hashes the files with n
// workers and emits their matches in walk order. It returns the number of
// files and of files that could not be hashed.
func matchPaths(ctx context.Context, paths []string, opts hashing.Options, n int, b *matchBank, threshold int, emit func(matchResult) error, bar *progressBar) (files, failed int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	order := make(chan *matchSlot, 4*n+16) // bounds the files in flight
	work := make(chan *matchSlot)
	go func() {
		defer close(order)
		defer close(work)
		seq := 0
		add := func(path string, err error) bool {
			s := &matchSlot{path: path, err: err, done: make(chan struct{})}
			select {
			case order <- s:
			case <-ctx.Done():
				return false
			}
			seq++
			if bar != nil {
				bar.queued(seq)
			}
			if err != nil {
				close(s.done)
				return true
			}
			select {
			case work <- s:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for _, root := range paths {
			if !walkFiles(ctx, root, add) {
				return
			}
		}
	}()
	for range n {
		go func() {
			for s := range work {
				s.res, s.err = hashing.HashFile(s.path, opts)
				close(s.done)
			}
		}()
	}
	var tick <-chan time.Time
	if bar != nil {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	for s := range order {
		for waiting := true; waiting; {
			select {
			case <-s.done:
				waiting = false
			case <-tick:
				bar.draw(false)
			case <-ctx.Done():
				return files, failed, ctx.Err()
			}
		}
		files++
		if bar != nil {
			bar.finished(s.res.Size)
		}
		r := matchResult{Query: s.path, Matches: []matchHit{}}
		if s.err != nil {
			failed++
			r.Error = s.err.Error()
		} else {
			for _, h := range []struct{ alg, v string }{{bankfile.MD5, s.res.MD5}, {bankfile.SHA1, s.res.SHA1}, {bankfile.SHA256, s.res.SHA256}} {
				if r.Matches, err = b.lookup(r.Matches, h.alg, h.v, threshold); err != nil {
					return files, failed, err
				}
			}
			if s.res.PDQ != nil {
				if r.Matches, err = b.lookup(r.Matches, bankfile.PDQ, s.res.PDQ.String(), threshold); err != nil {
					return files, failed, err
				}
			}
		}
		if err := emit(r); err != nil {
			return files, failed, err
		}
	}
	if bar != nil {
		bar.total(files)
		bar.draw(true)
	}
	return files, failed, ctx.Err()
}

// Bounds on `alliance bench match`, so that a typo cannot exhaust memory.
const (
	benchMatchMaxN       = 200_000_000
	benchMatchMaxQueries = 10_000_000
)

const benchMatchSynopsis = "bench match [--n N] [--queries Q] [--threshold T] [--seed S]"

// benchMatch runs pdqindex.Bench and prints its report: build time,
// memory, per-query latency on one goroutine and recall against brute
// force.
func (m *Main) benchMatch(ctx context.Context, args []string) error {
	fs := m.flagSet("bench match", benchMatchSynopsis)
	n := fs.Int("n", 1_000_000, fmt.Sprintf("PDQ hashes indexed, 1 to %d", benchMatchMaxN))
	queries := fs.Int("queries", 1000, fmt.Sprintf("queries timed, 1 to %d", benchMatchMaxQueries))
	threshold := fs.Int("threshold", pdqindex.MaxThreshold, fmt.Sprintf("PDQ threshold, 0 to %d", pdqindex.MaxThreshold))
	seed := fs.Uint64("seed", 1, "seed of the generated hashes and queries")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	switch {
	case *n < 1 || *n > benchMatchMaxN:
		return fmt.Errorf("--n %d: want 1 to %d", *n, benchMatchMaxN)
	case *queries < 1 || *queries > benchMatchMaxQueries:
		return fmt.Errorf("--queries %d: want 1 to %d", *queries, benchMatchMaxQueries)
	case *threshold < 0 || *threshold > pdqindex.MaxThreshold:
		return fmt.Errorf("--threshold %d: want 0 to %d", *threshold, pdqindex.MaxThreshold)
	}
	rep, err := pdqindex.Bench(*n, *queries, *threshold, *seed)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(m.Stdout, rep.String())
	return err
}
