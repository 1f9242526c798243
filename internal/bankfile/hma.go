package bankfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// HMA's local-file format has one hash a line: the algorithm (signal type)
// and the hex value separated by space, e.g. "pdq 358c…". Lines starting
// with # are comments; blank lines are skipped. A bare 64-digit hex value
// is taken as pdq, as HMA's own hash output for photos is. The algorithms
// are pdq, md5, sha1 and sha256; PDQ entries get the hma profile. The
// format carries no metadata.
type hmaReader struct {
	sc   *bufio.Scanner
	line int
	err  error
}

// NewHMAReader returns a reader of HMA's local-file format.
func NewHMAReader(r io.Reader) Reader {
	sc := bufio.NewScanner(stripBOM(r))
	sc.Buffer(make([]byte, 0, 64<<10), MaxRecordSize)
	return &hmaReader{sc: sc}
}

func (h *hmaReader) Next() (Entry, error) {
	if h.err != nil {
		return Entry{}, h.err
	}
	e, err := h.next()
	if err != nil {
		h.err = err
	}
	return e, err
}

func (h *hmaReader) next() (Entry, error) {
	for h.sc.Scan() {
		h.line++
		s := strings.TrimSpace(h.sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		e, err := ParseHashLine(s)
		if err != nil {
			return Entry{}, lineErr(h.line, "%v", err)
		}
		e.Line = h.line
		return e, nil
	}
	if err := h.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Entry{}, lineErr(h.line+1, "longer than %d bytes", MaxRecordSize)
		}
		return Entry{}, fmt.Errorf("line %d: %w", h.line+1, err)
	}
	return Entry{}, io.EOF
}

// ParseHashLine reads one hash as HMA writes it: "ALGORITHM HEX", or a
// bare hex value: 64 digits are pdq, 32 md5 and 40 sha1. The entry is
// validated (see Validate).
func ParseHashLine(s string) (Entry, error) {
	f := strings.Fields(s)
	var e Entry
	switch len(f) {
	case 1:
		switch len(f[0]) {
		case 64:
			e.Algorithm = PDQ
		case 32:
			e.Algorithm = MD5
		case 40:
			e.Algorithm = SHA1
		default:
			return e, fmt.Errorf("%q is neither \"ALGORITHM HEX\" nor a bare hash of 64 (pdq), 32 (md5) or 40 (sha1) hex digits", short(s))
		}
		e.Value = f[0]
	case 2:
		e.Algorithm, e.Value = f[0], f[1]
	default:
		return e, fmt.Errorf("%q: want \"ALGORITHM HEX\", got %d fields", short(s), len(f))
	}
	err := Validate(&e)
	return e, err
}

type hmaWriter struct{ w *bufio.Writer }

// NewHMAWriter returns a writer of HMA's local-file format; it writes the
// algorithm and value of each entry and drops the metadata.
func NewHMAWriter(w io.Writer) Writer { return &hmaWriter{w: bufio.NewWriter(w)} }

func (h *hmaWriter) Write(e Entry) error {
	if err := Validate(&e); err != nil {
		return err
	}
	h.w.WriteString(e.Algorithm)
	h.w.WriteByte(' ')
	h.w.WriteString(e.Value)
	return h.w.WriteByte('\n')
}

func (h *hmaWriter) Close() error { return h.w.Flush() }
