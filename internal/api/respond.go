package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/views"
)

// jsTime marshals like JavaScript's Date.toJSON: UTC with exactly three fractional digits. It is a
// TextMarshaler rather than a json.Marshaler: encoding/json re-validates what a json.Marshaler
// returns, which on a page of conversations cost more than formatting the dates.
type jsTime time.Time

func (t jsTime) MarshalText() ([]byte, error) {
	return time.Time(t).UTC().AppendFormat(make([]byte, 0, 24), "2006-01-02T15:04:05.000Z"), nil
}

// writeJSON encodes v into a buffer first, so that an encoding failure still yields a clean 500, then
// writes it with the original's content type. HTML characters are not escaped, as Express does not.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		slog.Error("encode response", "err", err)
		status = http.StatusInternalServerError
		body = []byte(`{"success":false,"msg":"Internal error."}`)
	}
	writeRaw(w, status, body)
}

// writeJSONWith is writeJSON of v with raw added as its last member under key (encodeJSONWith).
func writeJSONWith(w http.ResponseWriter, status int, v any, key string, raw []byte) {
	body, err := encodeJSONWith(v, key, raw)
	if err != nil {
		writeJSON(w, status, v) // which answers the encoding's error
		return
	}
	writeRaw(w, status, body)
}

// writeRaw sends body as the JSON answer. body must not change afterwards: it may be held until the
// handler returns (etagWriter) or kept (the render cache).
func writeRaw(w http.ResponseWriter, status int, body []byte) { writeRawThen(w, status, body, nil, "") }

// writeKept is writeRaw of a kept body whose ETag (etagOf(body)) was kept with it.
func writeKept(w http.ResponseWriter, body []byte, tag string) {
	writeRawThen(w, http.StatusOK, body, nil, tag)
}

// writeAnswer sends a view's answer, or returns err.
func writeAnswer(w http.ResponseWriter, a views.Answer, err error) error {
	if err != nil {
		return err
	}
	writeRawThen(w, http.StatusOK, a.Body, nil, a.Tag)
	return nil
}

// writeRawThen is writeRaw calling sent (when not nil) once body is sent or dropped, after which the
// caller may reuse it; tag is body's ETag when known, or "".
func writeRawThen(w http.ResponseWriter, status int, body []byte, sent func(), tag string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if ww, ok := w.(interface {
		writeWhole([]byte, func(), string) bool
	}); ok && ww.writeWhole(body, sent, tag) {
		return
	}
	_, _ = w.Write(body)
	if sent != nil {
		sent()
	}
}

// A reusedBody is a buffer an answer is assembled in, given back once the answer is sent. A page of
// 40 leads is about 20 KB: allocating it afresh was almost half of what serving the page allocated,
// and so of the collector's work.
type reusedBody struct{ b []byte }

var reusedBodies = sync.Pool{New: func() any { return &reusedBody{b: make([]byte, 0, 32<<10)} }}

// maxReusedBody is the largest buffer kept for reuse: an outsized page is let go rather than held.
const maxReusedBody = 1 << 20

func takeBody() *reusedBody { return reusedBodies.Get().(*reusedBody) }

// give returns the buffer for reuse; nothing may refer to its bytes afterwards.
func (rb *reusedBody) give() {
	if cap(rb.b) > maxReusedBody {
		return
	}
	rb.b = rb.b[:0]
	reusedBodies.Put(rb)
}

// writeReused sends the buffer's bytes as the JSON answer and gives it back once they are sent.
func writeReused(w http.ResponseWriter, status int, rb *reusedBody) {
	writeRawThen(w, status, rb.b, rb.give, "")
}

// listHeadroom is what a list's envelope adds to its items: the counts and the next cursor (about
// 150 bytes of base64). Short of it, appending the cursor copies the whole page into a larger buffer.
const listHeadroom = 512

// listBytes is the length of items joined as a JSON array.
func listBytes(items [][]byte) int {
	n := 2 + len(items)
	for _, b := range items {
		n += len(b)
	}
	return n
}

// appendList appends items, each a JSON value, as a JSON array.
func appendList(buf []byte, items [][]byte) []byte {
	buf = append(buf, '[')
	for i, b := range items {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, b...)
	}
	return append(buf, ']')
}

// msgBody is the original's most common error body.
type msgBody struct {
	Success bool   `json:"success"`
	Msg     string `json:"msg"`
}

// apiError is an error with the exact status and body the original answers in that situation.
type apiError struct {
	status int
	body   any
	header http.Header
}

func (e *apiError) Error() string { return "api error " + strconv.Itoa(e.status) }

func errMsg(status int, msg string) *apiError {
	return &apiError{status: status, body: msgBody{Success: false, Msg: msg}}
}

// fieldError is one entry of the express-validator style 422 body.
type fieldError struct {
	Value    any    `json:"value,omitempty"`
	Msg      string `json:"msg"`
	Param    string `json:"param"`
	Location string `json:"location"`
}

// validationError answers 422 {"errors":[...]}, naming every offending field.
type validationError struct{ errs []fieldError }

func (e *validationError) Error() string { return "validation failed on " + e.errs[0].Param }

func invalidField(param, location, msg string) *validationError {
	return &validationError{errs: []fieldError{{Msg: msg, Param: param, Location: location}}}
}

// errUnauthorized is the answer to missing or wrong credentials.
var errUnauthorized = &apiError{status: http.StatusUnauthorized,
	body:   msgBody{Success: false, Msg: "Unauthorized"},
	header: http.Header{"Www-Authenticate": {`Basic realm="Users"`}}}

var (
	errNotMember    = errMsg(http.StatusForbidden, "you dont belong to the project.")
	errRoleRequired = errMsg(http.StatusForbidden, "you dont have the required role.")
	errNotFound     = errMsg(http.StatusNotFound, "Object not found.")
)

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[string]int{
	tiledesk.EINVALID:      http.StatusUnprocessableEntity,
	tiledesk.ENOTFOUND:     http.StatusNotFound,
	tiledesk.ECONFLICT:     http.StatusConflict,
	tiledesk.EFORBIDDEN:    http.StatusForbidden,
	tiledesk.EUNAUTHORIZED: http.StatusUnauthorized,
	tiledesk.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	tiledesk.ETOOMANY:      http.StatusTooManyRequests,
	tiledesk.EUNAVAILABLE:  http.StatusServiceUnavailable,
	tiledesk.EPRECONDITION: http.StatusPreconditionFailed,
	tiledesk.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	tiledesk.EINTERNAL:     http.StatusInternalServerError,
}

// ruleAnswer is how the original answers the refusal of one domain rule, where its status is not
// its code's: the status, and whether the body names the refusal's field as a 422 does
// ({"errors":[...]}) rather than {"success":false,"error":message}.
type ruleAnswer struct {
	status     int
	namesField bool
}

// ruleAnswers are the exceptions to statusOf, by the rule that refused (tiledesk.ErrorRule).
var ruleAnswers = map[string]ruleAnswer{
	tiledesk.RuleCloseByParticipant: {status: http.StatusForbidden},
	tiledesk.RuleParticipantPresent: {status: http.StatusBadRequest},
	tiledesk.RuleNoteText:           {status: http.StatusBadRequest},
	tiledesk.RuleDepartmentExists:   {status: http.StatusBadRequest, namesField: true},
}

// writeError answers err. Internal errors are logged with the request and shown generically.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var ve *validationError
	var te *textError
	switch {
	case errors.As(err, &te):
		writeText(w, te.status, te.msg)
		return
	case errors.As(err, &ae):
		for k, v := range ae.header {
			w.Header()[k] = v
		}
		writeJSON(w, ae.status, ae.body)
		return
	case errors.As(err, &ve):
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": ve.errs})
		return
	}
	code := tiledesk.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	rule, ruled := ruleAnswers[tiledesk.ErrorRule(err)]
	if ruled {
		status = rule.status
	}
	switch {
	case ruled && !rule.namesField:
		writeJSON(w, status, map[string]any{"success": false, "error": tiledesk.ErrorMessage(err)})
	case code == tiledesk.EINVALID:
		writeJSON(w, status, map[string]any{"errors": []fieldError{{Msg: tiledesk.ErrorMessage(err),
			Param: tiledesk.ErrorField(err), Location: "body"}}})
	case code == tiledesk.ENOTFOUND:
		writeJSON(w, status, errNotFound.body)
	case status >= 500:
		s.log.Error("request failed", "request_id", info(r).id, "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSON(w, status, msgBody{Success: false, Msg: "Internal error."})
	default:
		writeJSON(w, status, msgBody{Success: false, Msg: tiledesk.ErrorMessage(err)})
	}
}
