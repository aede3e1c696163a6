package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tiledesk-go/tiledesk"
)

// A bot's intents in and out: asked a question, exported and uploaded as CSV.

// handleBotAsk answers a question from an internal bot's intents ({"hits": [intents]}, the best
// first): an intent asked exactly, else those sharing the most words with the question.
func (s *Server) handleBotAsk(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	botID, question := b.requiredStr("id_faq_kb"), b.requiredStr("question")
	if botID != "" && !tiledesk.IsID(botID) {
		b.fail("id_faq_kb", "must be a bot id", botID)
	}
	if err := b.err(); err != nil {
		return err
	}
	bot, err := s.store.FindBot(r.Context(), c.project.ID, strings.ToLower(botID))
	if err != nil {
		return intentError(err, botID, c)
	}
	if bot.Type != tiledesk.BotInternal && bot.Type != tiledesk.BotTilebot {
		return errMsg(http.StatusBadRequest, "Only internal bots answer from their intents; this one is "+bot.Type+".")
	}
	intents, err := s.store.FindIntents(r.Context(), c.project.ID, tiledesk.IntentFilter{BotID: bot.ID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"hits": toIntents(tiledesk.MatchIntents(question, intents))})
	return nil
}

var intentCSVHeader = []string{"question", "answer", "intent_display_name"}

// handleIntentsCSV exports a bot's intents (or the project's, without id_faq_kb) as the original's
// question;answer CSV, with each intent's display name after them.
func (s *Server) handleIntentsCSV(w http.ResponseWriter, r *http.Request, c *call) error {
	f := tiledesk.IntentFilter{BotID: strings.ToLower(r.URL.Query().Get("id_faq_kb"))}
	return s.streamCSV(w, r, c, "intents.csv", intentCSVHeader, func(ctx context.Context, n int) ([][]string, bool, error) {
		f.Limit = n
		ins, err := s.store.FindIntents(ctx, c.project.ID, f)
		f.Page++
		if err != nil {
			return nil, false, err
		}
		rows := make([][]string, 0, len(ins))
		for _, in := range ins {
			rows = append(rows, []string{in.Question, in.Answer, in.DisplayName})
		}
		return rows, len(ins) == n, nil
	})
}

// handleIntentsUploadCSV adds the intents of a CSV file to a bot: each row a question, its answer
// and, optionally, the intent's display name (a row with a display name the bot has replaces that
// intent). The file is the multipart part uploadFile, as the dashboard sends it, with id_faq_kb and
// delimiter (";" by default) beside it; or the whole body, sent as text/csv, with them in the query.
// Every row is checked before any is written.
func (s *Server) handleIntentsUploadCSV(w http.ResponseWriter, r *http.Request, c *call) error {
	up, err := s.readUpload(r, "uploadFile")
	if err != nil {
		return err
	}
	botID := strings.ToLower(up.field("id_faq_kb"))
	if !tiledesk.IsID(botID) {
		return invalidField("id_faq_kb", up.location("id_faq_kb"), "must be a bot id")
	}
	delim := up.field("delimiter")
	if delim == "" {
		delim = ";"
	}
	comma, size := utf8.DecodeRuneInString(delim)
	if size != len(delim) || comma == '"' || comma == '\n' || comma == '\r' || comma == utf8.RuneError {
		return invalidField("delimiter", up.location("delimiter"), "must be one character other than a quote or a line break")
	}
	rows, err := parseIntentRows(up.data, comma)
	if err != nil {
		return err
	}
	now := tiledesk.Millis(s.now())
	intents := make([]*tiledesk.Intent, 0, len(rows))
	for _, row := range rows {
		in := newIntent(c.project.ID, botID, c.caller.id, now)
		in.Question, in.Answer = row[0], row[1]
		if len(row) > 2 && strings.TrimSpace(row[2]) != "" {
			in.DisplayName = strings.TrimSpace(row[2])
		}
		intents = append(intents, in)
	}
	if err := s.store.CreateIntents(r.Context(), c.project.ID, botID, intents, tiledesk.IntentsOverwrite); err != nil {
		return intentError(err, botID, c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "msg": "CSV Parsed", "count": len(intents)})
	return nil
}

// parseIntentRows reads question;answer[;display name] rows, skipping empty lines and a header row.
func parseIntentRows(data []byte, comma rune) ([][]string, error) {
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
	cr.Comma, cr.FieldsPerRecord, cr.LazyQuotes = comma, -1, true
	var rows [][]string
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, invalidField("uploadFile", "body", "is not CSV: "+err.Error())
		}
		if line == 1 && len(rec) >= 2 && strings.EqualFold(strings.TrimSpace(rec[0]), "question") &&
			strings.EqualFold(strings.TrimSpace(rec[1]), "answer") {
			continue
		}
		if len(rec) < 2 || len(rec) > 3 {
			return nil, invalidField("uploadFile", "body", "each row must be question, answer and an optional display name")
		}
		if len(rows) == tiledesk.MaxIntentsPerBot {
			return nil, invalidField("uploadFile", "body", "a file holds at most 3000 intents")
		}
		rows = append(rows, rec)
	}
	if len(rows) == 0 {
		return nil, invalidField("uploadFile", "body", "holds no intents")
	}
	return rows, nil
}
