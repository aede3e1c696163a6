package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// etag is the strong entity tag of a response body: the first 128 bits of its SHA-256, quoted. Equal
// bytes give equal tags on every node, so a tag read from one process is valid on another.
func etag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// etagOf is the tag of v as writeJSON would send it: handlers of PUT/PATCH compute the current tag of
// the stored object this way and pass it to checkIfMatch.
func etagOf(v any) (string, error) {
	b, err := encodeJSON(v)
	if err != nil {
		return "", err
	}
	return etag(b), nil
}

// errPrecondition answers an If-Match that no longer matches: someone changed the object meanwhile.
var errPrecondition = &apiError{status: http.StatusPreconditionFailed, body: codedBody{Success: false,
	Code: "precondition_failed", Msg: "The object changed since you read it (If-Match does not match its ETag); read it again and retry."}}

// checkIfMatch enforces If-Match on a write: nil when the request has none, when it is "*" (the
// object exists, which the caller has established), or when one of its tags equals currentETag under
// strong comparison (weak W/ tags never match, RFC 9110 13.1.1); otherwise a 412 apiError.
func checkIfMatch(r *http.Request, currentETag string) error {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return nil
	}
	for _, tag := range splitTags(values) {
		if tag == "*" || tag == currentETag && !strings.HasPrefix(tag, "W/") {
			return nil
		}
	}
	return errPrecondition
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

// etagWriter holds back a GET's 200 body to tag it, and answers 304 instead when the client already
// has that version. Other statuses pass straight through.
type etagWriter struct {
	http.ResponseWriter
	r      *http.Request
	status int
	buf    bytes.Buffer
}

func (w *etagWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	if code != http.StatusOK {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *etagWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.status != http.StatusOK {
		return w.ResponseWriter.Write(p)
	}
	return w.buf.Write(p)
}

// flush sends the held-back 200 with its ETag, or 304 when If-None-Match has it.
func (w *etagWriter) flush() {
	if w.status != http.StatusOK {
		return
	}
	tag := etag(w.buf.Bytes())
	h := w.ResponseWriter.Header()
	h.Set("ETag", tag)
	if noneMatch(w.r, tag) {
		h.Del("Content-Type")
		h.Del("Content-Length")
		w.ResponseWriter.WriteHeader(http.StatusNotModified)
		return
	}
	w.ResponseWriter.WriteHeader(http.StatusOK)
	_, _ = w.ResponseWriter.Write(w.buf.Bytes())
}
