// Package bankfile reads and writes bank entries (known hashes with their
// classification) in the file formats banks are exchanged in: Project VIC
// VICS JSON, a CSV with a header, and HMA's local-file format ("pdq <hex>"
// per line). Readers and writers stream, one entry at a time, so a file of
// any size is read in constant memory; a record larger than MaxRecordSize
// is an error rather than a reason to buffer it.
//
// Errors name the line (CSV, HMA) or record (VICS) and what is wrong, in
// words an operator can act on, and quote at most a short prefix of the
// offending value. Bad input never panics (fuzz tests check it).
package bankfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"alliance/pdq"
)

// Limits on input: a record, a line or a string longer than MaxRecordSize,
// or JSON nested deeper than MaxDepth, is an error.
const (
	MaxRecordSize = 1 << 20
	MaxDepth      = 64
)

// Algorithms an entry may have.
const (
	PDQ    = "pdq"
	MD5    = "md5"
	SHA1   = "sha1"
	SHA256 = "sha256"
)

// SchemeVICS is the category scheme of VICS categories (numeric, 0–4 in
// the common profiles), recorded as found.
const SchemeVICS = "vics"

// hexLen is the number of hex digits of each algorithm's hashes.
var hexLen = map[string]int{PDQ: 64, MD5: 32, SHA1: 40, SHA256: 64}

// algRank orders the algorithms as a VICS media record carries them.
var algRank = map[string]int{MD5: 0, SHA1: 1, SHA256: 2, PDQ: 3}

// Entry is one known hash and what is known about it.
type Entry struct {
	// Algorithm is pdq, md5, sha1 or sha256.
	Algorithm string
	// Value is the hash in lower-case hex of the algorithm's length.
	Value string
	// Profile is the PDQ profile (hma or cpp-cli) for pdq entries, hma
	// when the file does not say; empty for the exact hashes.
	Profile string
	// Category is the classification in CategoryScheme ("vics" for VICS
	// categories); both empty when unclassified.
	Category       string
	CategoryScheme string
	// Series is the series reference, if any.
	Series string
	// VictimIdentified is nil when the file does not say.
	VictimIdentified *bool
	// Source names where the entry came from, if the file says.
	Source string
	// Line is the line (CSV, HMA) or record (VICS) the entry was read
	// from, for messages; writers ignore it.
	Line int
}

// Format is a bank file format.
type Format string

// The formats.
const (
	VICS Format = "vics"
	CSV  Format = "csv"
	HMA  Format = "hma"
)

// ParseFormat reads a format name: vics, csv or hma (any case).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case VICS, CSV, HMA:
		return f, nil
	}
	return "", fmt.Errorf("unknown bank file format %q (want vics, csv or hma)", short(s))
}

// Detect sniffs the format from the first bytes of r without consuming
// them: JSON (an opening brace or bracket, after an optional byte-order mark and
// space) is VICS, a first line of comma-separated names with an
// "algorithm" column is CSV, anything else is HMA. Wrap the file in a bufio.Reader, call Detect, then
// hand the same bufio.Reader to NewReader.
func Detect(r *bufio.Reader) (Format, error) {
	b, err := r.Peek(4096)
	if len(b) == 0 {
		if err == nil || err == io.EOF {
			return "", errors.New("the bank file is empty")
		}
		return "", err
	}
	s := strings.TrimPrefix(string(b), "\ufeff")
	t := strings.TrimLeft(s, " \t\r\n")
	switch {
	case strings.HasPrefix(t, "{") || strings.HasPrefix(t, "["):
		return VICS, nil
	case isCSVHeader(t):
		return CSV, nil
	}
	return HMA, nil
}

// isCSVHeader reports whether the first line of s is a CSV header: comma
// separated, with an algorithm column.
func isCSVHeader(s string) bool {
	line, _, _ := strings.Cut(s, "\n")
	for f := range strings.SplitSeq(line, ",") {
		if strings.EqualFold(strings.Trim(strings.TrimSpace(f), `"`), "algorithm") {
			return strings.Contains(line, ",")
		}
	}
	return false
}

// Reader reads entries one at a time.
type Reader interface {
	// Next returns the next entry, or io.EOF after the last. After any
	// other error the reader is done and returns that error again.
	Next() (Entry, error)
}

// NewReader returns a reader of format f over r.
func NewReader(r io.Reader, f Format) (Reader, error) {
	switch f {
	case VICS:
		return NewVICSReader(r), nil
	case CSV:
		return NewCSVReader(r), nil
	case HMA:
		return NewHMAReader(r), nil
	}
	return nil, fmt.Errorf("unknown bank file format %q (want vics, csv or hma)", short(string(f)))
}

// All returns the entries of r as a sequence; it stops after the first
// error, which it yields with a zero entry.
func All(r Reader) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for {
			e, err := r.Next()
			if err == io.EOF {
				return
			}
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

// Writer writes entries; Close finishes the file (it does not close the
// underlying writer).
type Writer interface {
	Write(Entry) error
	Close() error
}

// NewWriter returns a writer of format f to w.
func NewWriter(w io.Writer, f Format) (Writer, error) {
	switch f {
	case VICS:
		return NewVICSWriter(w), nil
	case CSV:
		return NewCSVWriter(w), nil
	case HMA:
		return NewHMAWriter(w), nil
	}
	return nil, fmt.Errorf("unknown bank file format %q (want vics, csv or hma)", short(string(f)))
}

// Error is an error in the input at a line (CSV, HMA) or a media record
// (VICS, counted from 1 across cases); its message is safe to show.
type Error struct {
	Unit string // "line" or "record"
	N    int    // the line or record number
	Msg  string // what is wrong
}

func (e *Error) Error() string { return fmt.Sprintf("%s %d: %s", e.Unit, e.N, e.Msg) }

func lineErr(n int, format string, a ...any) error {
	return &Error{Unit: "line", N: n, Msg: fmt.Sprintf(format, a...)}
}

func recordErr(n int, format string, a ...any) error {
	return &Error{Unit: "record", N: n, Msg: fmt.Sprintf(format, a...)}
}

// ParseAlgorithm reads an algorithm name (any case; "sha-1" and "sha-256"
// too).
func ParseAlgorithm(s string) (string, error) {
	a := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "")
	if _, ok := hexLen[a]; ok {
		return a, nil
	}
	return "", fmt.Errorf("unknown algorithm %q (want pdq, md5, sha1 or sha256)", short(s))
}

// NormalizeValue checks that value is a hash of algorithm alg (which must
// be known) in hex of either case and returns it in lower case.
func NormalizeValue(alg, value string) (string, error) {
	n, ok := hexLen[alg]
	if !ok {
		return "", fmt.Errorf("unknown algorithm %q (want pdq, md5, sha1 or sha256)", short(alg))
	}
	if len(value) != n || !isHex(value) {
		return "", fmt.Errorf("%s %q is not %d hex digits", displayAlg(alg), short(value), n)
	}
	return strings.ToLower(value), nil
}

// Validate checks and normalises e as every reader does: known algorithm,
// value of the right length in lower-case hex, a known profile for PDQ
// (hma when empty) and none for the others, a scheme with a category.
func Validate(e *Entry) error {
	alg, err := ParseAlgorithm(e.Algorithm)
	if err != nil {
		return err
	}
	e.Algorithm = alg
	if e.Value, err = NormalizeValue(alg, e.Value); err != nil {
		return err
	}
	if alg == PDQ {
		p, err := pdq.ParseProfile(e.Profile)
		if err != nil {
			return fmt.Errorf("unknown PDQ profile %q (want hma or cpp-cli)", short(e.Profile))
		}
		e.Profile = string(p)
	} else if e.Profile != "" {
		return fmt.Errorf("a profile (%q) is only for pdq entries, not %s", short(e.Profile), alg)
	}
	if e.Category == "" && e.CategoryScheme != "" {
		return fmt.Errorf("category scheme %q without a category", short(e.CategoryScheme))
	}
	for _, f := range []string{e.Category, e.CategoryScheme, e.Series, e.Source} {
		if len(f) > 1024 {
			return fmt.Errorf("a field of %d bytes is longer than 1024", len(f))
		}
	}
	return nil
}

func displayAlg(alg string) string {
	switch alg {
	case MD5:
		return "MD5"
	case SHA1:
		return "SHA-1"
	case SHA256:
		return "SHA-256"
	}
	return "PDQ"
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// short returns s cut to a length fit for a message.
func short(s string) string {
	const n = 72
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// sameMeta reports whether a and b carry the same metadata.
func sameMeta(a, b Entry) bool {
	return a.Category == b.Category && a.CategoryScheme == b.CategoryScheme && a.Series == b.Series &&
		a.Source == b.Source && equalBool(a.VictimIdentified, b.VictimIdentified)
}

func equalBool(a, b *bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// guard is a reader that fails once more than limit bytes have been read
// since the last reset: it bounds what a decoder buffers for one record,
// however long a line or string in the input is.
type guard struct {
	r     io.Reader
	n     int64
	limit int64
}

var errTooLong = errors.New("too long")

func (g *guard) Read(p []byte) (int, error) {
	if g.n >= g.limit {
		return 0, errTooLong
	}
	if rem := g.limit - g.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	return n, err
}

func (g *guard) reset() { g.n = 0 }

// guardSlack allows for the decoders' read-ahead beyond the current record.
const guardSlack = 64 << 10

// stripBOM returns r without a leading UTF-8 byte-order mark.
func stripBOM(r io.Reader) io.Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3)
	}
	return br
}
