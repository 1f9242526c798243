package bankfile

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// CSVColumns are the columns of the CSV format, in the order the writer
// writes them. A file needs a header naming algorithm, value and any of
// the others, in any order; an unknown or repeated column is an error, and
// so is a row with more or fewer fields than the header. victim_identified
// is true, false or empty.
var CSVColumns = []string{"algorithm", "value", "profile", "category", "category_scheme", "series", "victim_identified", "source"}

type csvReader struct {
	g    *guard
	r    *csv.Reader
	cols []int // column index in CSVColumns, per field
	err  error
}

// NewCSVReader returns a reader of the CSV format (see CSVColumns).
func NewCSVReader(r io.Reader) Reader {
	g := &guard{r: stripBOM(r), limit: MaxRecordSize + guardSlack}
	cr := csv.NewReader(g)
	cr.ReuseRecord = true
	return &csvReader{g: g, r: cr}
}

func (c *csvReader) Next() (Entry, error) {
	if c.err != nil {
		return Entry{}, c.err
	}
	e, err := c.next()
	if err != nil {
		c.err = err
	}
	return e, err
}

func (c *csvReader) read() ([]string, int, error) {
	c.g.reset()
	rec, err := c.r.Read()
	if err == io.EOF {
		return nil, 0, err
	}
	if err != nil {
		var pe *csv.ParseError
		switch {
		case errors.Is(err, errTooLong):
			line, _ := c.r.FieldPos(0)
			return nil, 0, lineErr(max(line, 1), "a record longer than %d bytes", MaxRecordSize)
		case errors.As(err, &pe):
			msg := pe.Err.Error()
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				msg = "the number of fields differs from the header's"
			}
			return nil, 0, lineErr(pe.StartLine, "%s", msg)
		}
		return nil, 0, err
	}
	line, _ := c.r.FieldPos(0)
	return rec, line, nil
}

func (c *csvReader) next() (Entry, error) {
	if c.cols == nil {
		rec, line, err := c.read()
		if err == io.EOF {
			return Entry{}, errors.New("the CSV file is empty: it needs a header line")
		}
		if err != nil {
			return Entry{}, err
		}
		seen := make([]bool, len(CSVColumns))
		for _, name := range rec {
			i := slices.Index(CSVColumns, strings.ToLower(strings.TrimSpace(name)))
			switch {
			case i < 0:
				return Entry{}, lineErr(line, "unknown column %q in the header (want %s)", short(name), strings.Join(CSVColumns, ","))
			case seen[i]:
				return Entry{}, lineErr(line, "column %q twice in the header", short(name))
			}
			seen[i] = true
			c.cols = append(c.cols, i)
		}
		if !seen[0] || !seen[1] {
			return Entry{}, lineErr(line, "the header needs the columns algorithm and value")
		}
	}
	for {
		rec, line, err := c.read()
		if err != nil {
			return Entry{}, err
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" && len(c.cols) > 1 {
			continue
		}
		var e Entry
		e.Line = line
		for k, v := range rec {
			v = strings.TrimSpace(v)
			switch CSVColumns[c.cols[k]] {
			case "algorithm":
				e.Algorithm = v
			case "value":
				e.Value = v
			case "profile":
				e.Profile = v
			case "category":
				e.Category = v
			case "category_scheme":
				e.CategoryScheme = v
			case "series":
				e.Series = v
			case "source":
				e.Source = v
			case "victim_identified":
				switch strings.ToLower(v) {
				case "":
				case "true":
					e.VictimIdentified = ptr(true)
				case "false":
					e.VictimIdentified = ptr(false)
				default:
					return Entry{}, lineErr(line, "victim_identified %q is not true, false or empty", short(v))
				}
			}
		}
		if err := Validate(&e); err != nil {
			return Entry{}, lineErr(line, "%v", err)
		}
		return e, nil
	}
}

func ptr[T any](v T) *T { return &v }

type csvWriter struct {
	bw     *bufio.Writer
	w      *csv.Writer
	header bool
}

// NewCSVWriter returns a writer of the CSV format, with all of CSVColumns.
func NewCSVWriter(w io.Writer) Writer {
	bw := bufio.NewWriter(w)
	return &csvWriter{bw: bw, w: csv.NewWriter(bw)}
}

func (c *csvWriter) Write(e Entry) error {
	if err := Validate(&e); err != nil {
		return err
	}
	if !c.header {
		c.header = true
		if err := c.w.Write(CSVColumns); err != nil {
			return err
		}
	}
	vi := ""
	if e.VictimIdentified != nil {
		vi = fmt.Sprint(*e.VictimIdentified)
	}
	return c.w.Write([]string{e.Algorithm, e.Value, e.Profile, e.Category, e.CategoryScheme, e.Series, vi, e.Source})
}

func (c *csvWriter) Close() error {
	if !c.header {
		c.header = true
		c.w.Write(CSVColumns)
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}
