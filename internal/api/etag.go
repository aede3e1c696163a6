package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// encodeJSON encodes v exactly as writeJSON sends it, so that a representation's ETag can be computed
// without sending it.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// etagOf is the strong ETag of a representation.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// ifMatch returns a check that refuses a change (412) when the request's If-Match names none of the
// current representation's ETags; nil when the request has no If-Match. render gives the
// representation the client would have read.
func ifMatch[T any](r *http.Request, render func(T) any) func(T) error {
	header := r.Header.Get("If-Match")
	if header == "" {
		return nil
	}
	return func(current T) error {
		if strings.TrimSpace(header) == "*" {
			return nil
		}
		body, err := encodeJSON(render(current))
		if err != nil {
			return err
		}
		tag := etagOf(body)
		for _, t := range strings.Split(header, ",") {
			if strings.TrimSpace(t) == tag {
				return nil
			}
		}
		return &apiError{status: http.StatusPreconditionFailed, body: msgBody{Success: false,
			Msg: "The object changed since you read it (If-Match " + header + " does not match " + tag + ")."}}
	}
}
