package api

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// Public transcripts: GET /public/requests/:rid/messages[.html|.csv|.txt], without credentials, as
// the original links them from its transcript mails. The request_id is the only key, so a
// transcript is served only where that id cannot be guessed: the widget's
// support-group-<project>-<32 hex digits> and the like. What is shown is what the conversation's
// visitor sees: no agents' notes, no internal attributes.

// unguessable is the part of a request_id after its project: at least 32 hex digits (a uuid, with
// or without its dashes).
var unguessable = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// transcriptFiles is the route of the transcripts that are not JSON, which a browser asks for.
const transcriptFiles = "GET /public/requests/{rid}/{file}"

// maxTranscriptMessages bounds a transcript other than the CSV, which streams.
const maxTranscriptMessages = 5000

// transcriptCall resolves the conversation of a public transcript; 404 for anything that is not one.
func (s *Server) transcriptCall(r *http.Request) (*call, string, error) {
	rid := r.PathValue("rid")
	rest, ok := strings.CutPrefix(rid, "support-group-")
	pid, suffix, ok2 := strings.Cut(rest, "-")
	if !ok || !ok2 || !tiledesk.IsID(pid) || !unguessable.MatchString(suffix) {
		return nil, "", errNotFound
	}
	p, err := s.store.FindProjectByID(r.Context(), strings.ToLower(pid))
	if err != nil {
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
			return nil, "", errNotFound
		}
		return nil, "", err
	}
	if _, err := s.store.FindRequest(r.Context(), p.ID, rid, nil); err != nil {
		return nil, "", err
	}
	info(r).project = p.ID
	return &call{project: p}, rid, nil
}

// transcriptMessages reads what the visitor sees of the conversation, oldest first.
func (s *Server) transcriptMessages(r *http.Request, pid, rid string) ([]*messageJSON, error) {
	msgs, _, err := s.store.FindMessages(r.Context(), pid, rid, tiledesk.MessageFilter{Limit: maxTranscriptMessages})
	if err != nil {
		return nil, err
	}
	out := make([]*messageJSON, 0, len(msgs))
	for _, m := range msgs {
		if v := toVisitorMessage(m); v != nil {
			out = append(out, v)
		}
	}
	return out, nil
}

func (s *Server) handleTranscriptJSON(w http.ResponseWriter, r *http.Request, _ *call) error {
	c, rid, err := s.transcriptCall(r)
	if err != nil {
		return err
	}
	msgs, err := s.transcriptMessages(r, c.project.ID, rid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, msgs)
	return nil
}

// handleTranscriptFile answers messages.csv, messages.txt and messages.html.
func (s *Server) handleTranscriptFile(w http.ResponseWriter, r *http.Request, _ *call) error {
	format, ok := strings.CutPrefix(r.PathValue("file"), "messages.")
	if !ok || (format != "csv" && format != "txt" && format != "html") {
		return errNotFound
	}
	c, rid, err := s.transcriptCall(r)
	if err != nil {
		return err
	}
	if format == "csv" {
		return s.streamCSV(w, r, c, "transcript.csv", messageCSVHeader, s.messageCSVBatch(c.project.ID, rid, true))
	}
	msgs, err := s.transcriptMessages(r, c.project.ID, rid)
	if err != nil {
		return err
	}
	if format == "txt" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="transcript.txt"`)
		return writeTranscriptText(w, msgs)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	return transcriptPage.Execute(w, transcriptLines(msgs))
}

// transcriptLine is one message as the text and HTML transcripts show it.
type transcriptLine struct{ At, Sender, Text string }

func transcriptLines(msgs []*messageJSON) []transcriptLine {
	out := make([]transcriptLine, len(msgs))
	for i, m := range msgs {
		out[i] = transcriptLine{At: transcriptTime(time.Time(m.CreatedAt)), Sender: m.SenderFullname, Text: m.Text}
	}
	return out
}

// transcriptTime writes a time as the original does (toLocaleString('en', {timeZone: 'UTC'})).
func transcriptTime(t time.Time) string { return t.UTC().Format("1/2/2006, 3:04:05 PM") }

func writeTranscriptText(w io.Writer, msgs []*messageJSON) error {
	if _, err := io.WriteString(w, "Chat transcript:\n"); err != nil {
		return nil // the client went away
	}
	for _, l := range transcriptLines(msgs) {
		if _, err := fmt.Fprintf(w, "[ %s] %s: %s\n", l.At, l.Sender, l.Text); err != nil {
			return nil
		}
	}
	return nil
}

// transcriptPage escapes everything a message holds: a visitor's text is never markup.
var transcriptPage = template.Must(template.New("transcript").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Chat Transcript</title>
<style>body{font-family:sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}.at{color:#777}.who{font-weight:bold}</style>
</head><body><h1>Chat Transcript</h1>
{{range .}}<p><span class="at">[{{.At}}]</span> <span class="who">{{.Sender}}:</span> <span class="text">{{.Text}}</span></p>
{{end}}</body></html>
`))
