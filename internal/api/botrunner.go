package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/webhook"
)

// Bots in conversations. Each message of a conversation reaches the conversation's bots through
// the project's internal subscription to message.create (tiledesk.InternalBotsTarget), which the
// webhook dispatcher delivers from the event log like any other: in order, retried with backoff,
// shared between processes, never lost by a restart. An internal bot answers from its intents; an
// external one gets the message at its url, signed with its secret, with a token to answer with.

// botDeliveryTimeout bounds one delivery to an external bot.
const botDeliveryTimeout = 10 * time.Second

// BotSink is the sink of the internal bots subscription, for the webhook dispatcher.
func (s *Server) BotSink() webhook.Sink { return s.deliverToBots }

// deliverToBots hands one message.create event to the bots of its conversation. Messages the bots
// need not see (their own, system and agents' messages, internal notes, conversations closed or
// gone) are done with at once; a failure is an error, and the event is tried again.
func (s *Server) deliverToBots(ctx context.Context, sub *tiledesk.Subscription, ev *tiledesk.Event) error {
	var m tiledesk.Message
	if err := json.Unmarshal(ev.Payload, &m); err != nil {
		return nil // not a message: nothing for the bots
	}
	if strings.HasPrefix(m.Sender, tiledesk.BotPrefix) || m.Sender == "system" || tiledesk.IsInternal(m.Attributes) {
		return nil
	}
	req, err := s.store.FindRequest(ctx, ev.ProjectID, m.Recipient, nil)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if req.Status == tiledesk.RequestClosed || len(req.ParticipantsBots) == 0 || slices.Contains(req.ParticipantsAgents, m.Sender) {
		return nil
	}
	if agent, err := s.isAgent(ctx, ev.ProjectID, m.Sender); err != nil || agent {
		return err // a teammate writing, participant or not: the bots answer visitors only
	}
	for _, id := range req.ParticipantsBots {
		bot, err := s.store.FindBot(ctx, ev.ProjectID, id)
		if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND || err == nil && bot.Trashed {
			continue
		} else if err != nil {
			return err
		}
		switch {
		case bot.Type == tiledesk.BotExternal && bot.URL != "":
			err = s.sendToBot(ctx, sub, ev, bot, &m, req)
		case bot.Type == tiledesk.BotInternal || bot.Type == tiledesk.BotTilebot:
			err = s.answerAsBot(ctx, ev, bot, &m)
		}
		if err != nil {
			return fmt.Errorf("bot %s: %w", bot.ID, err)
		}
	}
	return nil
}

// isAgent reports whether sender is one of the project's teammates (by user id).
func (s *Server) isAgent(ctx context.Context, projectID, sender string) (bool, error) {
	if !tiledesk.IsID(sender) {
		return false, nil // a visitor's uuid
	}
	pu, err := s.store.FindProjectUserByUserID(ctx, projectID, strings.ToLower(sender))
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return false, nil
	}
	return err == nil && pu.RoleType == tiledesk.RoleTypeAgent, err
}

// answerAsBot answers m from the bot's intents (tiledesk.MatchIntents, else its defaultFallback
// intent), once: the answer's idempotency key is the event's and the bot's, so a retried
// delivery replays it rather than answering twice.
func (s *Server) answerAsBot(ctx context.Context, ev *tiledesk.Event, bot *tiledesk.Bot, m *tiledesk.Message) error {
	intents, err := s.store.FindIntents(ctx, ev.ProjectID, tiledesk.IntentFilter{BotID: bot.ID})
	if err != nil {
		return err
	}
	var answer *tiledesk.Intent
	if hits := tiledesk.MatchIntents(m.Text, intents); len(hits) > 0 {
		answer = hits[0]
	} else {
		for _, in := range intents {
			if in.DisplayName == "defaultFallback" && in.Enabled {
				answer = in
			}
		}
	}
	if answer == nil || strings.TrimSpace(answer.Answer) == "" {
		return nil
	}
	now := tiledesk.Millis(s.now())
	reply := &tiledesk.Message{ID: tiledesk.NewIDAt(now), ProjectID: ev.ProjectID, Sender: bot.ParticipantID(),
		SenderFullname: bot.Name, Recipient: m.Recipient, Type: "text", Text: answer.Answer, ChannelType: "group",
		Channel: m.Channel, Language: bot.Language, CreatedBy: bot.ParticipantID(), CreatedAt: now, UpdatedAt: now,
		Attributes: map[string]any{"intent_display_name": answer.DisplayName, "intent_id": answer.IntentID}}
	key := "bot-answer:" + ev.ID + ":" + bot.ID
	sum := sha256.Sum256([]byte(key))
	_, _, _, _, err = s.store.PostMessage(ctx, &tiledesk.MessagePost{Message: reply, LastMessage: lastMessage(reply),
		Idempotency: &tiledesk.Idempotency{Key: key, Hash: hex.EncodeToString(sum[:])}})
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil // the conversation went meanwhile
	}
	return err
}

// botDelivery is what an external bot receives: the message with its conversation, and a token
// the bot answers through the API with.
type botDelivery struct {
	Timestamp int64           `json:"timestamp"`
	Payload   json.RawMessage `json:"payload"`
	Token     string          `json:"token"`
}

// sendToBot posts m to an external bot's url, signed with the bot's secret (X-Tiledesk-Signature,
// as webhooks are), its delivery id stable across attempts.
func (s *Server) sendToBot(ctx context.Context, sub *tiledesk.Subscription, ev *tiledesk.Event, bot *tiledesk.Bot,
	m *tiledesk.Message, req *tiledesk.Request) error {
	payload, err := encodeJSONWith(toMessage(m), "request", mustEncode(toRequest(req)))
	if err != nil {
		return err
	}
	tok, err := s.botToken(bot)
	if err != nil {
		return err
	}
	now := s.now()
	body, err := json.Marshal(botDelivery{Timestamp: now.UnixMilli(), Payload: payload, Token: tok})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, botDeliveryTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, bot.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("User-Agent", "tiledesk-bots")
	hr.Header.Set("X-Tiledesk-Signature", webhook.Sign(bot.Secret, now, body))
	hr.Header.Set("X-Tiledesk-Delivery", tiledesk.DeliveryID(sub.ID, ev.Seq)+"-"+bot.ID)
	hr.Header.Set("X-Tiledesk-Event", ev.Name)
	resp, err := s.botClient.Do(hr)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the bot's url answered %s", resp.Status)
	}
	return nil
}

// mustEncode is v's JSON, for values that always encode (the wire types).
func mustEncode(v any) []byte {
	raw, err := encodeJSON(v)
	if err != nil {
		panic(fmt.Sprintf("api: encode %T: %v", v, err))
	}
	return raw
}
