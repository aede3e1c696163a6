package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// Failed password checks are charged to one of two kinds of budget, so that failing on purpose
// cannot lock an account's owner out. A client known to the account (a device or an address that
// signed in to it within KnownFor) draws on a budget of its own for that account; every other
// client draws on the account's budget for strangers and on its address's. An attacker who spends
// the strangers' budget slows other strangers only: the owner signs in from a known device or
// address as usual.

// deviceCookie names the device a browser signed in from: a random id that a successful sign-in
// sets and the limiter remembers per account. Clients that keep no cookies (the SDK, curl) are
// known by their address instead.
const deviceCookie = "tiledesk_device"

// loginClient is who attempts a password on an account.
type loginClient struct {
	account string // the email, hashed: the limiter's store (Redis) need not hold addresses
	known   string // the known device ("dev:<id>") or address ("ip:..."); "" for a stranger
}

// accountKey is the account an email names, as sign-in looks it up: every spelling of one account's
// address (case, a domain in Unicode or punycode) shares its budgets and its known clients.
func accountKey(email string) string {
	sum := sha256.Sum256([]byte(lookupEmail(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:16])
}

// knownMark is the limiter's mark of a client that signed in to an account.
func knownMark(account, client string) string { return "known:" + account + ":" + client }

// deviceID is the request's device cookie, when it holds an id as the server makes them.
func deviceID(r *http.Request) string {
	c, err := r.Cookie(deviceCookie)
	if err != nil || len(c.Value) != 32 {
		return ""
	}
	if _, err := hex.DecodeString(c.Value); err != nil || strings.ToLower(c.Value) != c.Value {
		return ""
	}
	return c.Value
}

// loginClientOf says whether the request comes from a device or an address known to the account.
// A limiter that cannot answer makes the client a stranger.
func (s *Server) loginClientOf(r *http.Request, email string) loginClient {
	lc := loginClient{account: accountKey(email)}
	if s.limits.Limiter == nil || s.limits.KnownFor <= 0 {
		return lc
	}
	clients := []string{clientKey(r)}
	if dev := deviceID(r); dev != "" {
		clients = []string{"dev:" + dev, clientKey(r)}
	}
	for _, client := range clients {
		if ok, err := s.limits.Limiter.Remembers(r.Context(), knownMark(lc.account, client)); err == nil && ok {
			lc.known = client
			return lc
		}
	}
	return lc
}

// loginBudgets are the failure budgets a client's password checks draw on.
func (s *Server) loginBudgets(r *http.Request, lc loginClient) []budget {
	if lc.known != "" {
		return []budget{{s.limits.LoginFailuresKnown, "email:" + lc.account + ":" + lc.known, scopeKnown}}
	}
	return []budget{{s.limits.LoginFailures, "email:" + lc.account, scopeEmail},
		{s.limits.LoginFailuresIP, clientKey(r), scopeAddress}}
}

// checkLogin runs before a password comparison: 429 when the client's failure budgets for the
// email are spent. It takes nothing; only failures do (loginFailed).
func (s *Server) checkLogin(r *http.Request, email string) error {
	if s.limits.Limiter == nil {
		return nil
	}
	for _, b := range s.loginBudgets(r, s.loginClientOf(r, email)) {
		if !b.limit.Enabled() {
			continue
		}
		if d, err := s.limits.Limiter.Peek(r.Context(), b.key, b.limit); err == nil && !d.Allowed {
			return s.tooMany(d, b.scope)
		}
	}
	return nil
}

// loginFailed charges a failed password check to the client's budgets for the email.
func (s *Server) loginFailed(r *http.Request, email string) {
	if s.limits.Limiter == nil {
		return
	}
	for _, b := range s.loginBudgets(r, s.loginClientOf(r, email)) {
		if b.limit.Enabled() {
			_, _ = s.limits.Limiter.Allow(r.Context(), b.key, b.limit)
		}
	}
}

// signedIn makes the client known to the account for KnownFor: its address and, when w is given
// (sign-in and sign-up, not Basic authentication), its device, whose cookie it sets.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, email string) {
	if s.limits.Limiter == nil || s.limits.KnownFor <= 0 {
		return
	}
	account, ttl := accountKey(email), s.limits.KnownFor
	clients := []string{clientKey(r)}
	if w != nil {
		dev := deviceID(r)
		if dev == "" {
			dev = newDeviceID()
		}
		http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: dev, Path: "/", MaxAge: int(ttl.Seconds()),
			HttpOnly: true, Secure: info(r).https, SameSite: http.SameSiteLaxMode})
		clients = append(clients, "dev:"+dev)
	}
	for _, client := range clients {
		if err := s.limits.Limiter.Remember(r.Context(), knownMark(account, client), ttl); err != nil {
			s.log.Warn("rate limiter failed to remember a sign-in", "request_id", info(r).id, "err", err)
		}
	}
}

// newDeviceID is 128 random bits in hex: a device id cannot be guessed into being known.
func newDeviceID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
