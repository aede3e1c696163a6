package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// body is a decoded request body: a JSON object, or a form (the original accepts form-encoded bodies
// everywhere, and the public document signs in with one). Typed getters read fields and record a
// 422 entry naming the field when a value has the wrong type; err() returns them all at once.
type body struct {
	m    map[string]any
	form bool
	raw  []byte // the bytes as received, for idempotency fingerprints
	errs []fieldError
}

// maxStringBytes bounds any single string field; free-form objects are bounded by bounds.go.
const maxStringBytes = 64 << 10

// readBody reads the request body within the server's size limit.
func readBody(r *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, bodyTooLarge(tooBig.Limit)
	} else if err != nil {
		return nil, errMsg(http.StatusBadRequest, "Could not read the request body.")
	}
	return raw, nil
}

// bodyTooLarge is the original's 413 for a body over the limit, with success:false added.
func bodyTooLarge(limit int64) *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge,
		body: map[string]any{"success": false, "err": "Request entity too large", "limit": limit}}
}

// mediaType returns the request's media type: "json", "form", "" (no body or no type), or an error
// for types the API does not speak.
func mediaType(r *http.Request) (string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
		return "", errMsg(http.StatusUnsupportedMediaType, "Malformed Content-Type header.")
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return "json", nil
	case mt == "application/x-www-form-urlencoded":
		return "form", nil
	}
	return "", errMsg(http.StatusUnsupportedMediaType,
		fmt.Sprintf("Unsupported Content-Type %q: send application/json or application/x-www-form-urlencoded.", mt))
}

// readTypedBody reads a body of an accepted media type ("json" or "form"); raw is nil when the body
// is empty or only white space.
func readTypedBody(r *http.Request) (kind string, raw []byte, err error) {
	if kind, err = mediaType(r); err != nil {
		return "", nil, err
	}
	if raw, err = readBody(r); err != nil {
		return "", nil, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return kind, nil, nil
	}
	return kind, raw, nil
}

// decodeObject decodes a JSON object or form body. An empty body is an empty object.
func decodeObject(r *http.Request) (*body, error) {
	kind, raw, err := readTypedBody(r)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return &body{m: map[string]any{}}, nil
	}
	if kind == "form" {
		b, err := decodeForm(raw)
		if b != nil {
			b.raw = raw
		}
		return b, err
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidField("body", "body", "the body must be a JSON object")
	}
	return &body{m: m, raw: raw}, nil
}

// decodeValue decodes a JSON body of any type (routes that take an array); nil for an empty body.
func decodeValue(r *http.Request) (any, error) {
	kind, raw, err := readTypedBody(r)
	if err != nil || raw == nil {
		return nil, err
	}
	if kind == "form" {
		return nil, errMsg(http.StatusUnsupportedMediaType, "This route takes a JSON body.")
	}
	return decodeJSON(raw)
}

// invalidQuery answers 400 naming a query parameter with a bad value.
func invalidQuery(param, msg string, value string) error {
	if len(value) > 200 {
		value = value[:200] + "..."
	}
	var v any
	if value != "" {
		v = value
	}
	return &apiError{status: http.StatusBadRequest, body: map[string]any{"errors": []fieldError{{Value: v, Msg: msg,
		Param: param, Location: "query"}}}}
}

// queryBool reads a true/false query parameter.
func queryBool(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalidQuery(name, "must be true or false", v)
	}
	return b, nil
}

// decodeJSON parses one JSON value, rejecting trailing data, NUL characters (PostgreSQL cannot store
// them and no client needs them) and invalid UTF-8.
func decodeJSON(raw []byte) (any, error) {
	if !utf8.Valid(raw) {
		return nil, errMsg(http.StatusBadRequest, "Malformed JSON body: invalid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errMsg(http.StatusBadRequest, "Malformed JSON body: unexpected data after the JSON value.")
	}
	if bytes.Contains(bytes.ToLower(raw), []byte(`\u0000`)) {
		return nil, invalidField("body", "body", "strings must not contain NUL characters")
	}
	if depth(v, 0) > maxDepth {
		return nil, invalidField("body", "body", fmt.Sprintf("JSON nested deeper than %d levels", maxDepth))
	}
	return v, nil
}

const maxDepth = 32

func depth(v any, d int) int {
	if d > maxDepth {
		return d
	}
	best := d
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			best = max(best, depth(e, d+1))
		}
	case []any:
		for _, e := range x {
			best = max(best, depth(e, d+1))
		}
	}
	return best
}

func malformed(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return errMsg(http.StatusBadRequest, fmt.Sprintf("Malformed JSON body at byte %d: %v.", syn.Offset, err))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errMsg(http.StatusBadRequest, "Malformed JSON body: unexpected end of input.")
	}
	return errMsg(http.StatusBadRequest, "Malformed JSON body: "+err.Error()+".")
}

func decodeForm(raw []byte) (*body, error) {
	// A form key never starts with { or [: such a body is JSON sent with the form type (curl -d
	// without -H sends one), and read as a form it would be one key named after the whole body,
	// leaving every field unset, so the call would act on an empty record.
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return nil, errMsg(http.StatusUnsupportedMediaType, "The body is JSON but its Content-Type is "+
			"application/x-www-form-urlencoded (what curl -d sends): send it with Content-Type: application/json.")
	}
	vals, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, errMsg(http.StatusBadRequest, "Malformed form body.")
	}
	m := make(map[string]any, len(vals))
	for k, vs := range vals {
		for _, v := range vs {
			if strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
				return nil, invalidField(k, "body", "must be valid UTF-8 without NUL characters")
			}
		}
		if len(vs) == 1 {
			m[k] = vs[0]
		} else {
			arr := make([]any, len(vs))
			for i, v := range vs {
				arr[i] = v
			}
			m[k] = arr
		}
	}
	return &body{m: m, form: true}, nil
}

func (b *body) fail(field, msg string, value any) {
	if s, ok := value.(string); ok && len(s) > 200 {
		value = s[:200] + "..."
	}
	if strings.Contains(strings.ToLower(field), "psw") || strings.Contains(strings.ToLower(field), "password") {
		value = nil // never echo secrets
	}
	switch value.(type) {
	case string, json.Number, bool, nil:
	default:
		value = nil
	}
	for _, e := range b.errs {
		if e.Param == field && e.Msg == msg {
			return // two checks of one field found the same fault: name it once
		}
	}
	b.errs = append(b.errs, fieldError{Value: value, Msg: msg, Param: field, Location: "body"})
}

// err returns the 422 for every field that failed, or nil.
func (b *body) err() error {
	if len(b.errs) == 0 {
		return nil
	}
	return &validationError{errs: b.errs}
}

// has reports whether the field is present and not null.
func (b *body) has(field string) bool { return b.m[field] != nil }

// str returns a string field, nil when absent or null.
func (b *body) str(field string) *string {
	v, ok := b.m[field]
	if !ok || v == nil {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		if n, isNum := v.(json.Number); isNum && !b.form {
			b.fail(field, "must be a string", n)
			return nil
		}
		b.fail(field, "must be a string", v)
		return nil
	}
	if len(s) > maxStringBytes {
		b.fail(field, fmt.Sprintf("must be at most %d bytes", maxStringBytes), nil)
		return nil
	}
	return &s
}

// requiredStr returns a non-blank string field or records it as missing.
func (b *body) requiredStr(field string) string {
	if !b.has(field) {
		b.fail(field, "is required", nil)
		return ""
	}
	s := b.str(field)
	if s == nil {
		return ""
	}
	if strings.TrimSpace(*s) == "" {
		b.fail(field, "must not be empty", *s)
		return ""
	}
	return *s
}

// email returns a required, syntactically valid email address field.
func (b *body) email(field string) string {
	s := b.requiredStr(field)
	if s == "" {
		return ""
	}
	if !validEmail(s) {
		b.fail(field, "must be a valid email address", s)
		return ""
	}
	return s
}

func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	_, domain, ok := strings.Cut(s, "@")
	return ok && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}

// boolean returns a boolean field; forms may send "true"/"false".
func (b *body) boolean(field string) *bool {
	v, ok := b.m[field]
	if !ok || v == nil {
		return nil
	}
	switch x := v.(type) {
	case bool:
		return &x
	case string:
		if b.form {
			if p, err := strconv.ParseBool(x); err == nil {
				return &p
			}
		}
	}
	b.fail(field, "must be a boolean", v)
	return nil
}

// integer returns an integer field within [min, max]; forms may send digits.
func (b *body) integer(field string, min, max int64) *int {
	v, ok := b.m[field]
	if !ok || v == nil {
		return nil
	}
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		if b.form {
			text = x
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(text, 64); ferr == nil && f == float64(int64(f)) && text != "" {
			n, err = int64(f), nil
		}
	}
	if err != nil {
		b.fail(field, "must be an integer", v)
		return nil
	}
	if n < min || n > max {
		b.fail(field, fmt.Sprintf("must be between %d and %d", min, max), v)
		return nil
	}
	i := int(n)
	return &i
}

// object returns a JSON object field (never available from forms).
func (b *body) object(field string) map[string]any {
	v, ok := b.m[field]
	if !ok || v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		b.fail(field, "must be a JSON object", v)
		return nil
	}
	return m
}

// strs returns an array-of-strings field; a form's single value is an array of one.
func (b *body) strs(field string) []string {
	v, ok := b.m[field]
	if !ok || v == nil {
		return nil
	}
	if s, ok := v.(string); ok && b.form {
		return []string{s}
	}
	arr, ok := v.([]any)
	if !ok {
		b.fail(field, "must be an array of strings", v)
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			b.fail(field, "must be an array of strings", nil)
			return nil
		}
		out = append(out, s)
	}
	return out
}

// array returns an array field.
func (b *body) array(field string) []any {
	v, ok := b.m[field]
	if !ok || v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		b.fail(field, "must be an array", v)
		return nil
	}
	return arr
}

// oneOf returns a string field that must be one of the allowed values.
func (b *body) oneOf(field string, allowed ...string) *string {
	s := b.str(field)
	if s == nil {
		return nil
	}
	for _, a := range allowed {
		if *s == a {
			return s
		}
	}
	b.fail(field, "must be one of "+strings.Join(allowed, ", "), *s)
	return nil
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
