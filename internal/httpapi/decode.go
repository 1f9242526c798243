package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"alliance"
)

// DefaultMaxBodyBytes is the body limit of DecodeJSON when none is given: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// DecodeJSON reads the JSON body of r into v, for POST, PUT and PATCH
// handlers. The body must be labelled application/json, hold exactly one JSON
// value of at most maxBytes bytes (DefaultMaxBodyBytes when maxBytes <= 0) and
// use no field that v does not have. Problems with the input are returned as
// *alliance.Error: ETOOLARGE for an oversized body, EINVALID otherwise, naming
// the offending field where there is one; the caller returns them as they are.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodyBytes
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" { // the common case, without parsing
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return alliance.Errorf(alliance.EINVALID, "Content-Type must be application/json.")
		}
	}
	tooLarge := alliance.Errorf(alliance.ETOOLARGE, "Request body is larger than %s.", byteSize(maxBytes))
	if r.ContentLength > maxBytes {
		return tooLarge
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, tooLarge)
	}
	// Anything but white space after the value is an error: a second value
	// could be read differently by another parser.
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return tooLarge
		}
		return alliance.Errorf(alliance.EINVALID, "Request body must hold a single JSON value.")
	}
	return nil
}

// decodeError turns an error of encoding/json into a user-safe error.
func decodeError(err error, tooLarge error) error {
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		invalid   *json.InvalidUnmarshalError
	)
	var appErr *alliance.Error
	switch {
	case errors.As(err, &appErr):
		return appErr // from a field's UnmarshalJSON, user-safe already
	case errors.As(err, &maxErr):
		return tooLarge
	case errors.Is(err, io.EOF):
		return alliance.Errorf(alliance.EINVALID, "Request body is empty.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return alliance.Errorf(alliance.EINVALID, "Request body ends in the middle of a JSON value.")
	case errors.As(err, &syntaxErr):
		return alliance.Errorf(alliance.EINVALID, "Request body is not valid JSON (at byte %d).", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return alliance.Errorf(alliance.EINVALID, "Request body must be %s.", describeType(typeErr.Type))
		}
		return alliance.FieldErrorf(typeErr.Field, "Field %q must be %s.", typeErr.Field, describeType(typeErr.Type))
	case errors.As(err, &invalid):
		return fmt.Errorf("httpapi: decode: %w", err) // a bug: v is not a pointer
	}
	// encoding/json has no type for unknown fields; its message is stable.
	if rest, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field, uerr := strconv.Unquote(rest)
		if uerr != nil {
			field = rest
		}
		return alliance.FieldErrorf(field, "Unknown field %q.", field)
	}
	return alliance.Errorf(alliance.EINVALID, "Request body is not valid JSON.")
}

// nestedError turns an error decoding the object in field into a user-safe
// error naming the offending field by its path from the body's top.
func nestedError(field string, err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field == "" {
		return alliance.FieldErrorf(field, "Field %q must be %s.", field, describeType(typeErr.Type))
	}
	e := decodeError(err, nil)
	var appErr *alliance.Error
	if !errors.As(e, &appErr) {
		return e
	}
	out := *appErr
	if out.Field == "" {
		out.Field = field
	} else {
		path := field + "." + out.Field
		out.Message = strings.Replace(out.Message, strconv.Quote(out.Field), strconv.Quote(path), 1)
		out.Field = path
	}
	return &out
}

// describeType names a Go type the way a JSON client thinks of it.
func describeType(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return "another type"
	}
}

// byteSize formats a limit for messages: "1 MiB", "64 KiB", "100 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
