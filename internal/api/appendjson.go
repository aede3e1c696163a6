package api

import (
	"strconv"
	"unicode/utf8"

	"github.com/tiledesk-go/tiledesk"
)

// appendJSONString appends s as encodeJSON writes a string (encoding/json without HTML escaping):
// quotes, backslashes and control characters escaped, invalid UTF-8 replaced by U+FFFD, and U+2028
// and U+2029 escaped. TestAppendJSONString holds it to encoding/json.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendLeadJSON appends the lead as encodeJSON(toLead(l)) writes it, field by field: a lead is the
// most read object, and reflection was most of the cost of rendering one. Attributes and properties,
// free-form, still go through encoding/json. TestAppendLeadJSON holds the two to the same bytes.
func appendLeadJSON(b []byte, l *tiledesk.Lead) ([]byte, error) {
	b = append(b, `{"tags":[`...)
	for i, t := range l.Tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, t)
	}
	b = append(b, `],"status":`...)
	b = strconv.AppendInt(b, int64(l.Status), 10)
	b = append(b, `,"_id":`...)
	b = appendJSONString(b, l.ID)
	b = append(b, `,"lead_id":`...)
	b = appendJSONString(b, l.LeadID)
	b = appendOptional(b, `,"fullname":`, l.Fullname)
	b = appendOptional(b, `,"email":`, l.Email)
	if l.Phone == "" {
		b = append(b, `,"phone":null`...)
	} else {
		b = append(b, `,"phone":`...)
		b = appendJSONString(b, l.Phone)
	}
	b = appendOptional(b, `,"company":`, l.Company)
	b = appendOptional(b, `,"note":`, l.Note)
	b = appendOptional(b, `,"streetAddress":`, l.StreetAddress)
	b = appendOptional(b, `,"city":`, l.City)
	b = appendOptional(b, `,"region":`, l.Region)
	b = appendOptional(b, `,"zipcode":`, l.Zipcode)
	b = appendOptional(b, `,"country":`, l.Country)
	for _, m := range []struct {
		name string
		v    map[string]any
	}{{`,"attributes":`, l.Attributes}, {`,"properties":`, l.Properties}} {
		if len(m.v) == 0 {
			continue
		}
		raw, err := encodeJSON(m.v)
		if err != nil {
			return nil, err
		}
		b = append(b, m.name...)
		b = append(b, raw...)
	}
	b = append(b, `,"id_project":`...)
	b = appendJSONString(b, l.ProjectID)
	b = append(b, `,"createdBy":`...)
	b = appendJSONString(b, l.CreatedBy)
	b = append(b, `,"createdAt":"`...)
	b = l.CreatedAt.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, `","updatedAt":"`...)
	b = l.UpdatedAt.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, `","__v":0}`...), nil
}

// appendOptional appends an omitempty string field.
func appendOptional(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendJSONString(append(b, name...), v)
}
