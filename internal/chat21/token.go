// Package chat21 speaks the chat21 messaging protocol that the official Tiledesk widget and agent
// app use: their tokens, MQTT 3.1.1 over a websocket served by the API's own HTTP server, the
// topics of each user's inbox and of what a user sends, and the REST routes those clients read
// their conversations with. A chat21 group support-group-<project>-<uuid> is the API's
// conversation of that request_id: a message sent here is posted as POST .../messages posts it,
// and every new message of a conversation, whoever wrote it, reaches its members' inboxes from
// the event log.
package chat21

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// AppID is the chat21 application the official clients name in every topic and path.
const AppID = "tilechat"

// audience is the audience the original's broker requires of every chat21 token.
const audience = "rabbitmq"

// Identity is who a chat21 token was issued to, as the API identified the caller that asked for
// it: enough to act as that caller again without its API token.
type Identity struct {
	UserID     string `json:"uid"`             // a registered user's id, or a visitor's uuid
	Subject    string `json:"sub"`             // the API token's subject: user, guest, userexternal
	Scope      string `json:"scope,omitempty"` // the one project the caller may act in
	Generation int64  `json:"gen,omitempty"`   // a registered user's token generation
	FullName   string `json:"name,omitempty"`
	Email      string `json:"email,omitempty"`
	// Expires is when the token the identity was read from expires (set by Verify).
	Expires time.Time `json:"-"`
}

// Tokens issues and verifies chat21 tokens. They are signed with a key of their own (the server
// derives it from its secret), so that a chat21 token is never an API credential nor an API
// token a chat21 one.
type Tokens struct {
	key      []byte
	lifetime time.Duration
	now      func() time.Time
}

// NewTokens signs with key; tokens last lifetime.
func NewTokens(key []byte, lifetime time.Duration, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{key: key, lifetime: lifetime, now: now}
}

// tokenClaims are the original's claims (createCustomToken), and the identity they were issued
// for under "tiledesk".
type tokenClaims struct {
	jwt.RegisteredClaims
	ClientID string    `json:"client_id"`
	CID      string    `json:"cid"`
	AZP      string    `json:"azp"`
	UserID   string    `json:"user_id"`
	AppID    string    `json:"app_id"`
	KID      string    `json:"kid"`
	Roles    string    `json:"tiledesk_api_roles"`
	Scope    []string  `json:"scope"`
	Tiledesk *Identity `json:"tiledesk"`
}

// Scopes are the original's: a user reads and writes its own inbox, and writes its outgoing
// messages. The broker here enforces them whatever the token says (see acl.go).
func Scopes(uid string) []string {
	return []string{
		"rabbitmq.read:*/*/apps." + AppID + ".users." + uid + ".*",
		"rabbitmq.write:*/*/apps." + AppID + ".users." + uid + ".*",
		"rabbitmq.write:*/*/apps." + AppID + ".outgoing.users." + uid + ".*",
		"rabbitmq.configure:*/*/*",
	}
}

// Issue signs a token for id, valid for the server's token lifetime.
func (t *Tokens) Issue(id Identity) (string, error) {
	if !ValidUserID(id.UserID) {
		return "", fmt.Errorf("chat21: %q cannot name an inbox", id.UserID)
	}
	now := t.now()
	uid := id.UserID
	c := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{ID: uuid.NewString(), Subject: uid, Audience: jwt.ClaimStrings{audience, uid},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(t.lifetime))},
		ClientID: uid, CID: uid, AZP: uid, UserID: uid, AppID: AppID, KID: "tiledesk-key", Roles: "user",
		Scope: Scopes(uid), Tiledesk: &id,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
}

// ErrInvalidToken is every token that does not verify.
var ErrInvalidToken = errors.New("chat21: invalid token")

// Verify checks a token's signature, expiry and audience, and answers whom it was issued to.
func (t *Tokens) Verify(token string) (*Identity, error) {
	var c tokenClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(t.now),
		jwt.WithLeeway(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if c.Tiledesk == nil || c.Subject == "" || c.Tiledesk.UserID != c.Subject || !slices.Contains(c.Audience, audience) {
		return nil, fmt.Errorf("%w: claims", ErrInvalidToken)
	}
	id := c.Tiledesk
	if c.ExpiresAt != nil {
		id.Expires = c.ExpiresAt.Time
	}
	return id, nil
}

// ValidUserID says whether an id can name an inbox: one topic level, without the characters MQTT
// and the original's broker give a meaning (wildcards, separators).
func ValidUserID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		switch {
		case r == '/' || r == '+' || r == '#' || r == '.' || r == '*' || r <= ' ' || r == 0x7f:
			return false
		}
	}
	return true
}
