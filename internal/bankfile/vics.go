package bankfile

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// VICS is Project VIC's OData JSON: an object with "odata.metadata"
// (version 1.x) or "@odata.context" (2.0) and a "value" array, whose
// elements are media records (the #Media hash-set shape) or cases with a
// nested "Media" array of them (#Cases). Of a media record the reader
// keeps MD5, SHA1, SHA256 and PDQ (one entry each, sharing the record's
// metadata, in that order; a name may also be spelt with '-' or '_', as
// "SHA-256", and a hash may come as {"HashName", "HashValue"} in the
// record's "AlternativeHashes" list, where VICS 2.0 puts hashes beyond MD5
// and SHA1; a field of the record wins over that list), Category (as found, scheme "vics"), Series and
// VictimIdentified (a JSON boolean, or "true"/"false", "1"/"0",
// "yes"/"no" as a string or number). Field names match in any case; other
// fields (MediaID, PhotoDNA, MediaSize, DateUpdated, case fields …) are
// skipped. A record with PhotoDNA only is skipped; one with none of these
// hashes is an error. A UTF-8 byte-order mark is ignored.
//
// The reader walks the JSON token by token, so memory does not grow with
// the file; a record over MaxRecordSize bytes or nested deeper than
// MaxDepth is an error.
type vicsReader struct {
	g       *guard
	dec     *json.Decoder
	state   int
	record  int // media records started
	pending []Entry
	context bool
	value   bool
	err     error
}

const (
	vicsStart = iota
	vicsTop   // reading the top object's keys
	vicsValue // in the value array
	vicsMedia // in a case's Media array
	vicsDone
)

// NewVICSReader returns a reader of VICS JSON.
func NewVICSReader(r io.Reader) Reader {
	g := &guard{r: stripBOM(r), limit: MaxRecordSize + guardSlack}
	dec := json.NewDecoder(g)
	dec.UseNumber()
	return &vicsReader{g: g, dec: dec}
}

func (v *vicsReader) Next() (Entry, error) {
	if v.err != nil {
		return Entry{}, v.err
	}
	e, err := v.next()
	if err != nil {
		if err != io.EOF || v.state != vicsDone {
			// The decoder reports io.EOF between tokens too: before the
			// end of the top object it is a truncated file.
			err = v.wrap(err)
		}
		v.err = err
	}
	return e, err
}

// wrap turns decoder errors into messages with the record number.
func (v *vicsReader) wrap(err error) error {
	var be *Error
	var nv notVICSError
	if errors.As(err, &be) || errors.As(err, &nv) {
		return err
	}
	n := max(v.record, 1)
	var se *json.SyntaxError
	switch {
	case errors.Is(err, errTooLong):
		return recordErr(n, "a record or value longer than %d bytes", MaxRecordSize)
	case errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF:
		return recordErr(n, "the file ends in the middle of the JSON (truncated?)")
	case errors.As(err, &se):
		return recordErr(n, "invalid JSON at byte %d: %v", se.Offset, err)
	}
	return recordErr(n, "%v", err)
}

func (v *vicsReader) next() (Entry, error) {
	for {
		if len(v.pending) > 0 {
			e := v.pending[0]
			v.pending = v.pending[1:]
			return e, nil
		}
		v.g.reset()
		switch v.state {
		case vicsStart:
			tok, err := v.dec.Token()
			if err == io.EOF {
				return Entry{}, notVICSError("it is empty")
			}
			if err != nil {
				return Entry{}, notVICSError(err.Error())
			}
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return Entry{}, notVICSError("it is not a JSON object")
			}
			v.state = vicsTop
		case vicsTop:
			if err := v.topKey(); err != nil {
				return Entry{}, err
			}
		case vicsValue:
			tok, err := v.dec.Token()
			if err != nil {
				return Entry{}, err
			}
			switch tok {
			case json.Delim(']'):
				v.state = vicsTop
			case json.Delim('{'):
				v.record++
				if err := v.object(false); err != nil {
					return Entry{}, err
				}
			default:
				return Entry{}, recordErr(v.record+1, "an element of \"value\" is not an object")
			}
		case vicsMedia:
			tok, err := v.dec.Token()
			if err != nil {
				return Entry{}, err
			}
			switch tok {
			case json.Delim(']'):
				// The rest of the case object, then the next element.
				if err := v.object(true); err != nil {
					return Entry{}, err
				}
			case json.Delim('{'):
				v.record++
				if err := v.object(false); err != nil {
					return Entry{}, err
				}
			default:
				return Entry{}, recordErr(v.record+1, "an element of \"Media\" is not an object")
			}
		case vicsDone:
			return Entry{}, io.EOF
		}
	}
}

// notVICSError is a problem with the file as a whole, not with a record.
type notVICSError string

func (e notVICSError) Error() string { return "not a VICS file: " + string(e) }

// topKey reads one key of the top object and its value, or the object's
// end.
func (v *vicsReader) topKey() error {
	tok, err := v.dec.Token()
	if err != nil {
		return err
	}
	if tok == json.Delim('}') {
		if !v.value {
			return notVICSError(`no "value" array`)
		}
		if _, err := v.dec.Token(); err != io.EOF {
			return notVICSError("data after the end of the VICS object")
		}
		v.state = vicsDone
		return nil
	}
	key, _ := tok.(string)
	switch {
	case strings.EqualFold(key, "odata.metadata") || strings.EqualFold(key, "@odata.context"):
		tok, err := v.dec.Token()
		if err != nil {
			return err
		}
		if _, ok := tok.(string); !ok {
			return notVICSError(fmt.Sprintf("%q is not a string", key))
		}
		v.context = true
	case strings.EqualFold(key, "value"):
		tok, err := v.dec.Token()
		if err != nil {
			return err
		}
		if tok != json.Delim('[') {
			return notVICSError(`"value" is not an array`)
		}
		if v.value {
			return notVICSError(`two "value" arrays`)
		}
		v.value = true
		v.state = vicsValue
	default:
		return v.skip(0)
	}
	return nil
}

// object reads the keys of an element of "value" (a media record, or a
// case when it has a Media array) or of a media record in a case, after
// its '{'. In a case (inCase), fields are skipped. It sets v.pending to a
// media record's entries, or v.state to vicsMedia on a case's Media
// array.
func (v *vicsReader) object(inCase bool) error {
	var m mediaRecord
	n := v.record
	for {
		tok, err := v.dec.Token()
		if err != nil {
			return err
		}
		if tok == json.Delim('}') {
			break
		}
		key, _ := tok.(string)
		if v.state == vicsValue && strings.EqualFold(key, "Media") {
			tok, err := v.dec.Token()
			if err != nil {
				return err
			}
			if tok == json.Delim('[') {
				v.state = vicsMedia
				return nil
			}
			if err := v.skipFrom(tok, 0); err != nil {
				return err
			}
			continue
		}
		if inCase {
			if err := v.skip(0); err != nil {
				return err
			}
			continue
		}
		if err := m.field(v, n, key); err != nil {
			return err
		}
	}
	if inCase {
		v.state = vicsValue
		return nil
	}
	return m.entries(v, n)
}

type mediaRecord struct {
	hashes   [4]string // by algRank
	alt      [4]string // from AlternativeHashes, used where hashes has none
	photoDNA bool
	meta     Entry
}

// vicsHashKeys are the field names written for each algorithm. The reader
// also takes them with a '-' or '_' ("SHA-256"), in any case.
var vicsHashKeys = [4]string{"MD5", "SHA1", "SHA256", "PDQ"}
var vicsAlgs = [4]string{MD5, SHA1, SHA256, PDQ}

// vicsHashIndex returns the index in vicsHashKeys that name spells, or -1.
func vicsHashIndex(name string) int {
	name = strings.NewReplacer("-", "", "_", "").Replace(strings.TrimSpace(name))
	for i, k := range vicsHashKeys {
		if strings.EqualFold(name, k) {
			return i
		}
	}
	return -1
}

func (m *mediaRecord) field(v *vicsReader, n int, key string) error {
	tok, err := v.dec.Token()
	if err != nil {
		return err
	}
	if i := vicsHashIndex(key); i >= 0 {
		switch s := tok.(type) {
		case nil:
		case string:
			m.hashes[i] = strings.TrimSpace(s)
		default:
			return recordErr(n, "%s is not a string", key)
		}
		return nil
	}
	switch {
	case strings.EqualFold(key, "PhotoDNA"):
		m.photoDNA = tok != nil && tok != ""
		return v.skipFrom(tok, 0)
	case strings.EqualFold(key, "AlternativeHashes"):
		return m.alternativeHashes(v, n, tok)
	case strings.EqualFold(key, "Category"):
		switch c := tok.(type) {
		case nil:
		case json.Number:
			m.meta.Category = c.String()
		case string:
			m.meta.Category = strings.TrimSpace(c)
		default:
			return recordErr(n, "Category is not a number or a string")
		}
	case strings.EqualFold(key, "Series"):
		switch c := tok.(type) {
		case nil:
		case json.Number:
			m.meta.Series = c.String()
		case string:
			m.meta.Series = strings.TrimSpace(c)
		default:
			return recordErr(n, "Series is not a string")
		}
	case strings.EqualFold(key, "VictimIdentified"):
		b, ok := vicsBool(tok)
		if !ok {
			return recordErr(n, "VictimIdentified %s is not true or false", short(fmt.Sprint(tok)))
		}
		m.meta.VictimIdentified = b
	default:
		return v.skipFrom(tok, 0)
	}
	return nil
}

// alternativeHashes reads a record's "AlternativeHashes", a list of
// {"HashName", "HashValue"} objects, after its first token. VICS 2.0
// carries hashes other than MD5 and SHA1 there (PhotoDNA, mostly); names
// of our algorithms are kept, PhotoDNA noted, others skipped.
func (m *mediaRecord) alternativeHashes(v *vicsReader, n int, tok json.Token) error {
	if tok == nil {
		return nil
	}
	if tok != json.Delim('[') {
		return recordErr(n, "AlternativeHashes is not a list")
	}
	for {
		tok, err := v.dec.Token()
		if err != nil {
			return err
		}
		if tok == json.Delim(']') {
			return nil
		}
		if tok != json.Delim('{') {
			return recordErr(n, "an element of AlternativeHashes is not an object")
		}
		var name, value string
		for {
			tok, err := v.dec.Token()
			if err != nil {
				return err
			}
			if tok == json.Delim('}') {
				break
			}
			key, _ := tok.(string)
			if tok, err = v.dec.Token(); err != nil {
				return err
			}
			s, isString := tok.(string)
			switch {
			case strings.EqualFold(key, "HashName") && isString:
				name = s
			case strings.EqualFold(key, "HashValue") && isString:
				value = strings.TrimSpace(s)
			case strings.EqualFold(key, "HashName") || strings.EqualFold(key, "HashValue"):
				if tok != nil {
					return recordErr(n, "AlternativeHashes %s is not a string", key)
				}
			default:
				if err := v.skipFrom(tok, 2); err != nil {
					return err
				}
			}
		}
		if value == "" {
			continue
		}
		if i := vicsHashIndex(name); i >= 0 {
			m.alt[i] = value
		} else if strings.EqualFold(strings.TrimSpace(name), "PhotoDNA") {
			m.photoDNA = true
		}
	}
}

// vicsBool reads a boolean as VICS files spell them.
func vicsBool(tok json.Token) (*bool, bool) {
	var s string
	switch t := tok.(type) {
	case nil:
		return nil, true
	case bool:
		return ptr(t), true
	case json.Number:
		s = t.String()
	case string:
		s = strings.ToLower(strings.TrimSpace(t))
	default:
		return nil, false
	}
	switch s {
	case "":
		return nil, true
	case "true", "1", "yes":
		return ptr(true), true
	case "false", "0", "no":
		return ptr(false), true
	}
	return nil, false
}

func (m *mediaRecord) entries(v *vicsReader, n int) error {
	if m.meta.Category != "" {
		m.meta.CategoryScheme = SchemeVICS
	}
	v.pending = v.pending[:0]
	for i, h := range m.hashes {
		if h == "" {
			h = m.alt[i]
		}
		if h == "" {
			continue
		}
		e := m.meta
		e.Algorithm, e.Value, e.Line = vicsAlgs[i], h, n
		if err := Validate(&e); err != nil {
			return recordErr(n, "%v", err)
		}
		v.pending = append(v.pending, e)
	}
	if len(v.pending) == 0 && !m.photoDNA {
		return recordErr(n, "no MD5, SHA1, SHA256 or PDQ hash (is this a VICS file?)")
	}
	return nil
}

// skip reads and discards one value.
func (v *vicsReader) skip(depth int) error {
	tok, err := v.dec.Token()
	if err != nil {
		return err
	}
	return v.skipFrom(tok, depth)
}

// skipFrom discards the rest of the value that starts with tok.
func (v *vicsReader) skipFrom(tok json.Token, depth int) error {
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if d == '}' || d == ']' {
		return fmt.Errorf("unexpected %q", string(d))
	}
	if depth+1 > MaxDepth {
		return recordErr(max(v.record, 1), "JSON nested deeper than %d levels", MaxDepth)
	}
	for {
		tok, err := v.dec.Token()
		if err != nil {
			return err
		}
		if tok == json.Delim('}') || tok == json.Delim(']') {
			return nil
		}
		if err := v.skipFrom(tok, depth+1); err != nil {
			return err
		}
	}
}

// vicsContext is what the writer declares: VICS 2.0's hash-set shape.
const vicsContext = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"

type vicsWriter struct {
	w       *bufio.Writer
	started bool
	id      int
	cur     []Entry // entries of the media record being gathered
}

// NewVICSWriter returns a writer of VICS 2.0 JSON in the #Media shape.
// Consecutive entries with the same metadata and algorithms in the order
// MD5, SHA1, SHA256, PDQ become one media record, so what the reader
// yields comes back entry for entry. VICS carries the algorithm, value,
// Category (written when its scheme is vics or empty; as a number when it
// is one), Series and VictimIdentified; profile and source are not
// written.
func NewVICSWriter(w io.Writer) Writer { return &vicsWriter{w: bufio.NewWriter(w)} }

func (v *vicsWriter) Write(e Entry) error {
	if err := Validate(&e); err != nil {
		return err
	}
	if e.CategoryScheme != "" && e.CategoryScheme != SchemeVICS {
		e.Category, e.CategoryScheme = "", ""
	}
	if n := len(v.cur); n > 0 && (!sameMeta(v.cur[n-1], e) || algRank[e.Algorithm] <= algRank[v.cur[n-1].Algorithm]) {
		if err := v.flush(); err != nil {
			return err
		}
	}
	v.cur = append(v.cur, e)
	return nil
}

func (v *vicsWriter) flush() error {
	if len(v.cur) == 0 {
		return nil
	}
	if !v.started {
		v.start()
	} else {
		v.w.WriteString(",\n")
	}
	v.id++
	e := v.cur[0]
	fmt.Fprintf(v.w, `{"MediaID":%d`, v.id)
	if e.Category != "" {
		v.w.WriteString(`,"Category":`)
		if n, err := strconv.Atoi(e.Category); err == nil && strconv.Itoa(n) == e.Category {
			v.w.WriteString(e.Category)
		} else {
			writeJSONString(v.w, e.Category)
		}
	}
	for _, h := range v.cur {
		key := vicsHashKeys[algRank[h.Algorithm]]
		val := h.Value
		if h.Algorithm != PDQ {
			val = strings.ToUpper(val)
		}
		fmt.Fprintf(v.w, `,"%s":"%s"`, key, val)
	}
	if e.Series != "" {
		v.w.WriteString(`,"Series":`)
		writeJSONString(v.w, e.Series)
	}
	if e.VictimIdentified != nil {
		fmt.Fprintf(v.w, `,"VictimIdentified":%v`, *e.VictimIdentified)
	}
	v.w.WriteString("}")
	v.cur = v.cur[:0]
	return nil
}

func (v *vicsWriter) start() {
	v.started = true
	v.w.WriteString(`{"@odata.context":"` + vicsContext + `","value":[` + "\n")
}

func (v *vicsWriter) Close() error {
	if err := v.flush(); err != nil {
		return err
	}
	if !v.started {
		v.start()
	}
	v.w.WriteString("\n]}\n")
	return v.w.Flush()
}

func writeJSONString(w *bufio.Writer, s string) {
	b, _ := json.Marshal(s)
	w.Write(b)
}
