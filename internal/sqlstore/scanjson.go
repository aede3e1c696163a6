package sqlstore

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"reflect"
)

// scanJSON decodes a JSON column into dst; NULL, null and empty containers leave dst untouched
// (most rows have no tags, notes or properties, and decoding is the cost of a list page).
//
// A row must answer whatever an older version (or a hand-made change) stored in it, so a column
// encoding/json refuses is read again more leniently: numbers that do not fit a float64 (PostgreSQL
// keeps 1e400 exactly) are kept as written, and a free-form object (attributes, settings) that still
// cannot be read is shown as absent rather than failing every list that holds its row.
func scanJSON(src sql.NullString, dst any) error {
	switch src.String {
	case "", "null", "[]", "{}":
		return nil
	}
	if !src.Valid {
		return nil
	}
	err := json.Unmarshal([]byte(src.String), dst)
	if err == nil {
		return nil
	}
	reflect.ValueOf(dst).Elem().SetZero() // the failed decoding may have filled part of it
	dec := json.NewDecoder(bytes.NewReader([]byte(src.String)))
	dec.UseNumber()
	if dec.Decode(dst) == nil {
		return nil
	}
	reflect.ValueOf(dst).Elem().SetZero()
	if _, freeForm := dst.(*map[string]any); freeForm {
		return nil
	}
	return err
}
