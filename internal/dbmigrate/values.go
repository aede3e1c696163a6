package dbmigrate

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
)

// kind is what a column holds, as the target declares it. SQLite keeps booleans as integers and
// JSON as text; the target's declaration says what the value means, and both the copy and the
// checksums read the source's values through it.
type kind int

const (
	kindText kind = iota
	kindInt
	kindBool
	kindJSON
)

// kindOf maps a PostgreSQL data type (information_schema's spelling) to its kind.
func kindOf(dataType string) (kind, bool) {
	switch dataType {
	case "text", "character varying":
		return kindText, true
	case "integer", "bigint", "smallint":
		return kindInt, true
	case "boolean":
		return kindBool, true
	case "jsonb", "json":
		return kindJSON, true
	}
	return 0, false
}

// normalize turns a value read from either engine into the one Go type of its kind: string for
// text and JSON (the JSON text itself), int64, bool, or nil. It is what the copy writes and what
// the checksums encode.
func normalize(k kind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch k {
	case kindText:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case kindInt:
		switch n := v.(type) {
		case int64:
			return n, nil
		case int32:
			return int64(n), nil
		case int:
			return int64(n), nil
		}
	case kindBool:
		switch b := v.(type) {
		case bool:
			return b, nil
		case int64:
			if b == 0 || b == 1 {
				return b == 1, nil
			}
		}
	case kindJSON:
		if s, ok := v.(string); ok {
			if !json.Valid([]byte(s)) {
				return nil, fmt.Errorf("not valid JSON: %.60q", s)
			}
			return s, nil
		}
	}
	return nil, fmt.Errorf("unexpected value %T %.60v", v, v)
}

// appendCanonical appends a self-delimiting encoding of a normalized value: a tag, then the value,
// with texts length-prefixed. JSON is re-encoded canonically (keys sorted, numbers as exact
// fractions, strings re-escaped), since PostgreSQL's JSONB keeps neither the key order, the
// spacing nor the spelling of numbers of the text SQLite kept.
func appendCanonical(buf []byte, k kind, v any) ([]byte, error) {
	if v == nil {
		return append(buf, 'N'), nil
	}
	switch k {
	case kindText:
		s := v.(string)
		buf = append(buf, 'S')
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		return append(buf, s...), nil
	case kindInt:
		buf = append(buf, 'I')
		return append(strconv.AppendInt(buf, v.(int64), 10), ';'), nil
	case kindBool:
		if v.(bool) {
			return append(buf, 'T'), nil
		}
		return append(buf, 'F'), nil
	default:
		canon, err := canonicalJSON(v.(string))
		if err != nil {
			return nil, err
		}
		buf = append(buf, 'J')
		buf = binary.AppendUvarint(buf, uint64(len(canon)))
		return append(buf, canon...), nil
	}
}

// canonicalJSON re-encodes a JSON text so that equal JSON values, however written, give equal
// bytes. Of duplicate keys the last one counts, as in JSONB.
func canonicalJSON(text string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return appendJSON(nil, v)
}

func appendJSON(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case json.Number:
		r, ok := new(big.Rat).SetString(string(x))
		if !ok {
			return nil, fmt.Errorf("unreadable JSON number %q", x)
		}
		return append(buf, r.RatString()...), nil
	case string:
		b, err := json.Marshal(x)
		return append(buf, b...), err
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendJSON(buf, e); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for key := range x {
			keys = append(keys, key)
		}
		slices.Sort(keys)
		buf = append(buf, '{')
		for i, key := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			b, err := json.Marshal(key)
			if err != nil {
				return nil, err
			}
			buf = append(append(buf, b...), ':')
			if buf, err = appendJSON(buf, x[key]); err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	}
	return nil, fmt.Errorf("unexpected JSON value %T", v)
}
