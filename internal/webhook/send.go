package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tiledesk-go/tiledesk"
)

// HookJSON is a subscription in the original's shape, without its secret: the API's answers and
// the "hook" of every delivery.
type HookJSON struct {
	ID        string `json:"_id"`
	Event     string `json:"event"`
	Target    string `json:"target"`
	IDProject string `json:"id_project"`
	CreatedBy string `json:"createdBy,omitempty"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	V         int    `json:"__v"`
}

// Hook renders sub as HookJSON.
func Hook(sub *tiledesk.Subscription) HookJSON {
	return HookJSON{ID: sub.ID, Event: sub.Event, Target: sub.Target, IDProject: sub.ProjectID, CreatedBy: sub.CreatedBy,
		CreatedAt: jsDate(sub.CreatedAt), UpdatedAt: jsDate(sub.UpdatedAt)}
}

func jsDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Token is the original's "token" of a delivery: an HS256 JWT of the hook, signed with the
// subscription's secret, subject "subscription", audience https://tiledesk.com/subscriptions/<id>.
func Token(sub *tiledesk.Subscription, now time.Time) (string, error) {
	h := Hook(sub)
	claims := jwt.MapClaims{"_id": h.ID, "event": h.Event, "target": h.Target, "id_project": h.IDProject,
		"createdAt": h.CreatedAt, "updatedAt": h.UpdatedAt, "__v": 0, "iat": now.Unix(), "sub": "subscription",
		"aud": "https://tiledesk.com/subscriptions/" + sub.ID}
	if h.CreatedBy != "" {
		claims["createdBy"] = h.CreatedBy
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(sub.Secret))
}

// Sign is the X-Tiledesk-Signature of body sent at t: "t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// body is a delivery's JSON, as the original sends it.
type body struct {
	Timestamp int64           `json:"timestamp"`
	Payload   json.RawMessage `json:"payload"`
	Hook      HookJSON        `json:"hook"`
	Token     string          `json:"token"`
}

// result is what one attempt came to.
type result struct {
	code    int
	latency time.Duration
	err     error
}

// ok: delivered, by a sink (no code) or a target's 2xx.
func (r result) ok() bool { return r.err == nil && (r.code == 0 || r.code >= 200 && r.code < 300) }

// maxResponseBytes bounds what is read of a target's answer (read only to reuse the connection).
const maxResponseBytes = 64 << 10

// NewClient is the client deliveries use, for those the server makes outside the dispatcher's
// HTTP path (a bot's messages): guarded by g, each attempt bounded by timeout.
func NewClient(g *Guard, timeout time.Duration) *http.Client { return newClient(g, timeout) }

// newClient returns the HTTP client of deliveries: no proxy from the environment (it would connect
// for us, past the guard), no redirects (a 3xx is the target's answer, and a failure), every
// connection checked by the guard.
func newClient(g *Guard, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           g.dialContext(dialer),
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{Transport: transport, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// send posts one event to the subscription's target.
func (d *Dispatcher) send(ctx context.Context, sub *tiledesk.Subscription, token string, ev *tiledesk.Event, payload json.RawMessage) result {
	now := d.now()
	raw, err := json.Marshal(body{Timestamp: now.UnixMilli(), Payload: payload, Hook: Hook(sub), Token: token})
	if err != nil {
		return result{err: fmt.Errorf("encode: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Target, bytes.NewReader(raw))
	if err != nil {
		return result{err: fmt.Errorf("target: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tiledesk-webhooks")
	req.Header.Set("X-Hook-Secret", sub.Secret)
	req.Header.Set("X-Tiledesk-Signature", Sign(sub.Secret, now, raw))
	req.Header.Set("X-Tiledesk-Delivery", tiledesk.DeliveryID(sub.ID, ev.Seq))
	req.Header.Set("X-Tiledesk-Event-Seq", strconv.FormatInt(ev.Seq, 10))
	req.Header.Set("X-Tiledesk-Event", ev.Name)
	start := time.Now()
	resp, err := d.client.Do(req)
	latency := time.Since(start)
	if err != nil {
		if errors.Is(err, ErrRefusedAddress) {
			return result{latency: latency, err: ErrRefusedAddress}
		}
		return result{latency: latency, err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	resp.Body.Close()
	r := result{code: resp.StatusCode, latency: latency}
	if !r.ok() {
		r.err = fmt.Errorf("the target answered %s", resp.Status)
	}
	return r
}
