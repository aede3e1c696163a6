package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// cursorJSON is the opaque cursor's content.
type cursorJSON struct {
	Sort  string          `json:"s"`
	Desc  bool            `json:"d,omitempty"`
	Value json.RawMessage `json:"v,omitempty"`
	ID    string          `json:"i"`
}

func encodeCursor(c *tiledesk.Cursor) *string {
	if c == nil {
		return nil
	}
	s := string(base64.RawURLEncoding.AppendEncode(nil, appendCursorJSON(make([]byte, 0, 96), c)))
	return &s
}

// appendCursor appends the opaque cursor after c as a JSON string, or null on the last page.
func appendCursor(buf []byte, c *tiledesk.Cursor) []byte {
	if c == nil {
		return append(buf, "null"...)
	}
	// base64url needs no escaping inside a JSON string.
	buf = append(buf, '"')
	buf = base64.RawURLEncoding.AppendEncode(buf, appendCursorJSON(make([]byte, 0, 96), c))
	return append(buf, '"')
}

// appendCursorJSON appends c as cursorJSON encodes it, without reflection: every page of every list
// ends with a cursor.
func appendCursorJSON(b []byte, c *tiledesk.Cursor) []byte {
	b = append(b, `{"s":`...)
	b = appendString(b, c.Sort)
	if c.Desc {
		b = append(b, `,"d":true`...)
	}
	b = append(b, `,"v":`...)
	switch v := c.Value.(type) {
	case int64:
		b = strconv.AppendInt(b, v, 10)
	case string:
		b = appendString(b, v)
	default:
		raw, _ := json.Marshal(v) // nil gives null, as cursorJSON has always written it
		b = append(b, raw...)
	}
	b = append(b, `,"i":`...)
	b = appendString(b, c.ID)
	return append(b, '}')
}

func decodeCursor(s string) (*tiledesk.Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	c, ok := parseTimeCursor(raw)
	if !ok {
		if c, err = cursorFromJSON(raw); err != nil {
			return nil, err
		}
	}
	if !tiledesk.IsID(c.ID) {
		return nil, fmt.Errorf("cursor id %q", c.ID)
	}
	c.ID = strings.ToLower(c.ID)
	return &c, nil
}

// cursorFromJSON reads any cursor with encoding/json.
func cursorFromJSON(raw []byte) (tiledesk.Cursor, error) {
	var cj cursorJSON
	if err := json.Unmarshal(raw, &cj); err != nil {
		return tiledesk.Cursor{}, err
	}
	c := tiledesk.Cursor{Sort: cj.Sort, Desc: cj.Desc, ID: cj.ID}
	switch cj.Sort {
	case tiledesk.LeadSortCreatedAt, tiledesk.LeadSortUpdatedAt:
		var n int64
		if err := json.Unmarshal(cj.Value, &n); err != nil {
			return tiledesk.Cursor{}, err
		}
		c.Value = n
	case tiledesk.LeadSortID:
	default:
		var str string
		if err := json.Unmarshal(cj.Value, &str); err != nil {
			return tiledesk.Cursor{}, err
		}
		c.Value = str
	}
	return c, nil
}

// parseTimeCursor reads a cursor of a time sort exactly as appendCursorJSON writes it,
// {"s":"createdAt","d":true,"v":1716559344512,"i":"..."} ("d" only when true), without
// reflection: every deep page decodes one, and encoding/json costs a dozen allocations for it.
// Whatever it does not recognise (ok false) goes to cursorFromJSON, which reads it the same way
// (FuzzTimeCursor holds them to that).
func parseTimeCursor(raw []byte) (c tiledesk.Cursor, ok bool) {
	rest, ok := bytes.CutPrefix(raw, []byte(`{"s":"`))
	if !ok {
		return c, false
	}
	for _, sortKey := range []string{tiledesk.LeadSortCreatedAt, tiledesk.LeadSortUpdatedAt} {
		if len(rest) > len(sortKey) && string(rest[:len(sortKey)]) == sortKey && rest[len(sortKey)] == '"' {
			c.Sort, rest = sortKey, rest[len(sortKey)+1:]
			break
		}
	}
	if c.Sort == "" {
		return c, false
	}
	rest, c.Desc = bytes.CutPrefix(rest, []byte(`,"d":true`))
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"v":`)); !ok {
		return c, false
	}
	digits, rest, found := bytes.Cut(rest, []byte(`,"i":"`))
	if !found {
		return c, false
	}
	n, ok := parseJSONInt(digits)
	id, tail, found := bytes.Cut(rest, []byte(`"`))
	if !ok || !found || string(tail) != "}" || !alphanumeric(id) { // as JSON reads them: no escapes, no controls
		return tiledesk.Cursor{}, false
	}
	c.Value, c.ID = n, string(id)
	return c, true
}

func alphanumeric(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// parseJSONInt reads an integer written as JSON writes it (no sign but "-", no leading zero) of at
// most 18 digits, which cannot overflow.
func parseJSONInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 || b[0] == '0' && len(b) > 1 {
		return 0, false
	}
	var n int64
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
