package api

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
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

// encodeJSONWith is encodeJSON of v with raw, JSON the server rendered itself, added as v's last
// member under key: given to encoding/json, raw would be validated and compacted again byte by
// byte. v must encode as an object that does not hold key; with raw empty, key is left out.
func encodeJSONWith(v any, key string, raw []byte) ([]byte, error) {
	body, err := encodeJSON(v)
	if err != nil || len(raw) == 0 {
		return body, err
	}
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return nil, fmt.Errorf("encode %T with %q: not an object", v, key)
	}
	out := make([]byte, 0, len(body)+len(key)+len(raw)+4)
	out = append(out, body[:len(body)-1]...)
	if len(body) > 2 {
		out = append(out, ',')
	}
	out = append(out, '"')
	out = append(out, key...)
	out = append(out, `":`...)
	out = append(out, raw...)
	return append(out, '}'), nil
}

// etagOf is the strong ETag of a representation: its 64-bit xxHash, quoted. Equal bytes give equal
// tags on every node, so a tag read from one process is valid on another. handle() sets it on every
// 200 answer to a GET, which If-None-Match turns into a 304. The tag detects change, it does not
// authenticate: a non-cryptographic hash suffices, and SHA-256 cost a tenth of the CPU of a page of
// conversations (120 KB).
func etagOf(body []byte) string {
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], xxhash.Sum64(body))
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// ifMatch returns a check that refuses a change (412) when the request's If-Match names none of the
// current representation's ETags; nil when the request has no If-Match. render gives the
// representation the client would have read.
func ifMatch[T any](r *http.Request, render func(T) any) func(T) error {
	header := r.Header.Get("If-Match")
	tags := splitTags(r.Header.Values("If-Match"))
	if len(tags) == 0 {
		return nil
	}
	return func(current T) error {
		if slices.Contains(tags, "*") { // the object exists: the caller found it
			return nil
		}
		body, err := encodeJSON(render(current))
		if err != nil {
			return err
		}
		tag := etagOf(body)
		// Strong comparison (RFC 9110 13.1.1): a weak W/ tag never matches; every If-Match line counts.
		if slices.Contains(tags, tag) {
			return nil
		}
		return &apiError{status: http.StatusPreconditionFailed, body: msgBody{Success: false,
			Msg: "The object changed since you read it (If-Match " + header + " does not match " + tag + ")."}}
	}
}

// noneMatch reports whether If-None-Match names tag under weak comparison (RFC 9110 13.1.2), which
// makes a GET answer 304.
func noneMatch(r *http.Request, tag string) bool {
	for _, t := range splitTags(r.Header.Values("If-None-Match")) {
		if t == "*" || strings.TrimPrefix(t, "W/") == tag {
			return true
		}
	}
	return false
}

func splitTags(values []string) []string {
	var tags []string
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return tags
}

// etagWriter holds back a GET's 200 JSON body to tag it, and answers 304 instead when the client
// already has that version. Other answers, and streamed ones (CSV exports), pass straight through.
type etagWriter struct {
	http.ResponseWriter
	r         *http.Request
	status    int
	buffering bool
	buf       bytes.Buffer
	whole     []byte // a complete body handed over by writeWhole, held without a copy
	tag       string // whole's ETag when the caller knew it (a kept page), or ""
	sent      func() // called once the held-back body is sent or dropped
}

// writeWhole takes body as the complete answer without copying it (a page of conversations is
// 100 KB and more); body must not change afterwards. It reports false when the answer is not held
// back or already has bytes, and the caller writes as usual. sent, when not nil, is called once the
// body is sent or dropped, after which its bytes may be reused. tag, when not "", is etagOf(body),
// kept with it, which saves hashing the body again.
func (w *etagWriter) writeWhole(body []byte, sent func(), tag string) bool {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.buffering || w.buf.Len() > 0 || w.whole != nil {
		return false
	}
	w.whole, w.sent, w.tag = body, sent, tag
	return true
}

// held is the held-back body.
func (w *etagWriter) held() []byte {
	if w.whole != nil {
		return w.whole
	}
	return w.buf.Bytes()
}

func (w *etagWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	w.buffering = code == http.StatusOK && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json")
	if !w.buffering {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *etagWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.buffering {
		return w.ResponseWriter.Write(p)
	}
	if w.whole != nil { // more after a whole body: hold both, copied
		w.buf.Write(w.whole)
		w.whole, w.tag = nil, ""
	}
	return w.buf.Write(p)
}

// Flush passes through for streamed answers; a held-back body is sent whole by flush.
func (w *etagWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && !w.buffering {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *etagWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// flush sends the held-back 200 with its ETag, or 304 when If-None-Match has it.
func (w *etagWriter) flush() {
	if w.sent != nil {
		defer w.sent()
	}
	if !w.buffering {
		return
	}
	body := w.held()
	tag := w.tag
	if tag == "" {
		tag = etagOf(body)
	}
	h := w.ResponseWriter.Header()
	h.Set("ETag", tag)
	if noneMatch(w.r, tag) {
		h.Del("Content-Type")
		h.Del("Content-Length")
		w.ResponseWriter.WriteHeader(http.StatusNotModified)
		return
	}
	w.ResponseWriter.WriteHeader(http.StatusOK)
	_, _ = w.ResponseWriter.Write(body)
}
