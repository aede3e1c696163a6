package api

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// What of a refused body is read before the connection closes: enough for the bodies clients
// mistakenly send (a file a few MB over --max-body), bounded so that a refused client costs little.
const (
	drainBytes = 4 << 20
	drainTime  = 2 * time.Second
)

// writeFailure writes err. A 413 is sent at once and then what remains of the body, the server's
// own reader beneath the size limit, is read and discarded, up to drainBytes within drainTime. A
// client that sends its whole body before reading (curl, most SDKs) is still writing when the
// answer is ready; were the connection closed then, its unread bytes would make the kernel answer
// with a reset, and the client would see "connection reset" instead of the 413.
func (s *Server) writeFailure(w http.ResponseWriter, r *http.Request, body io.Reader, err error) {
	var ae *apiError
	if !errors.As(err, &ae) || ae.status != http.StatusRequestEntityTooLarge {
		s.writeError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	// Full duplex: the body stays readable after the answer, which HTTP/1 otherwise discards (up to
	// 256 KB) or abandons when the header is written.
	_ = rc.EnableFullDuplex()
	s.writeError(w, r, err)
	_ = rc.Flush()
	_ = rc.SetReadDeadline(time.Now().Add(drainTime))
	_, _ = io.CopyN(io.Discard, body, drainBytes)
}
