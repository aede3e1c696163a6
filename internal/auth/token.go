package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Token subjects, as the original writes them in "sub".
const (
	SubjectUser         = "user"
	SubjectGuest        = "guest"
	SubjectUserExternal = "userexternal"
	SubjectBot          = "bot"
	SubjectSubscription = "subscription"
)

// Issuer and audience of the tokens the original signs with its global secret.
const (
	TokenIssuer   = "https://tiledesk.com"
	TokenAudience = "https://tiledesk.com"
)

// ProjectAudience is the audience of tokens that act in one project only: those a project's own
// back end signs with its secret, and those this server issues in exchange for them.
func ProjectAudience(projectID string) string { return TokenAudience + "/projects/" + projectID }

// AudienceProject returns the project an audience names (".../projects/<id>", any host, as the
// original reads it), or "".
func AudienceProject(aud string) string { return audienceOf(aud, "projects") }

// BotAudience is the audience of a bot's tokens, which its own secret signs.
func BotAudience(botID string) string { return TokenAudience + "/bots/" + botID }

// AudienceBot returns the bot an audience names (".../bots/<id>", any host), or "".
func AudienceBot(aud string) string { return audienceOf(aud, "bots") }

func audienceOf(aud, kind string) string {
	u, err := url.Parse(aud)
	if err != nil || u.Scheme == "" {
		return ""
	}
	k, id, ok := strings.Cut(strings.Trim(u.Path, "/"), "/")
	if !ok || k != kind || id == "" || strings.Contains(id, "/") {
		return ""
	}
	return id
}

// Claims are the original server's token claims. Audience is a single string there, not an array, so
// the registered claims are spelled out rather than embedded.
type Claims struct {
	ID            string         `json:"_id"`
	Email         string         `json:"email,omitempty"`
	Firstname     string         `json:"firstname,omitempty"`
	Lastname      string         `json:"lastname,omitempty"`
	EmailVerified *bool          `json:"emailverified,omitempty"`
	Attributes    map[string]any `json:"attributes,omitempty"`
	UID           string         `json:"id,omitempty"`         // guests: the same uuid as _id
	Project       string         `json:"id_project,omitempty"` // bots: the bot's project
	FullName      string         `json:"fullName,omitempty"`   // guests
	// Generation is the user's token generation when the token was issued (users; absent, 0, in
	// tokens issued before generations existed). A token whose generation is no longer the
	// user's is refused: changing the password or deleting the account ends older sessions.
	Generation int64  `json:"tgen,omitempty"`
	IssuedAt   int64  `json:"iat"`
	ExpiresAt  int64  `json:"exp,omitempty"`
	Audience   string `json:"aud"`
	Issuer     string `json:"iss"`
	Subject    string `json:"sub"`
	JTI        string `json:"jti"`
}

func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) {
	if c.ExpiresAt == 0 {
		return nil, nil
	}
	return jwt.NewNumericDate(time.Unix(c.ExpiresAt, 0)), nil
}
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.IssuedAt, 0)), nil
}
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (c *Claims) GetIssuer() (string, error)              { return c.Issuer, nil }
func (c *Claims) GetSubject() (string, error)             { return c.Subject, nil }
func (c *Claims) GetAudience() (jwt.ClaimStrings, error)  { return jwt.ClaimStrings{c.Audience}, nil }

// Tokens signs and verifies HS256 tokens with the server's secret.
type Tokens struct {
	secret   []byte
	lifetime time.Duration
	now      func() time.Time

	// verified remembers tokens that passed Verify (verifiedCache).
	verified *verifiedCache
}

// MinSecretBytes is the shortest secret accepted: HS256 is only as strong as its key.
const MinSecretBytes = 16

// NewTokens returns a signer/verifier. lifetime is how long issued tokens stay valid.
func NewTokens(secret []byte, lifetime time.Duration) (*Tokens, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("jwt secret must have at least %d bytes", MinSecretBytes)
	}
	if lifetime <= 0 {
		return nil, errors.New("token lifetime must be positive")
	}
	return &Tokens{secret: secret, lifetime: lifetime, now: time.Now, verified: newVerifiedCache(maxVerifiedBytes)}, nil
}

// DeriveKey is a key for another kind of token, derived from the server's secret and purpose: a
// token signed with it is never one of the server's, nor one of another purpose.
func (t *Tokens) DeriveKey(purpose string) []byte {
	mac := hmac.New(sha256.New, t.secret)
	mac.Write([]byte("tiledesk derived key: " + purpose))
	return mac.Sum(nil)
}

// SetClock replaces the clock, for tests.
func (t *Tokens) SetClock(now func() time.Time) { t.now = now }

// Lifetime is how long issued tokens stay valid.
func (t *Tokens) Lifetime() time.Duration { return t.lifetime }

// Issue fills iat, exp, iss, aud (unless set) and jti, and signs c.
func (t *Tokens) Issue(c Claims) (string, error) {
	now := t.now()
	c.IssuedAt = now.Unix()
	c.ExpiresAt = now.Add(t.lifetime).Unix()
	c.Issuer = TokenIssuer
	if c.Audience == "" {
		c.Audience = TokenAudience
	}
	c.JTI = uuid.NewString()
	return jwt.NewWithClaims(jwt.SigningMethodHS256, &c).SignedString(t.secret)
}

// ErrInvalidToken is returned for every token that does not verify; the cause is wrapped for logs.
var ErrInvalidToken = errors.New("invalid token")

// Verify checks the signature (HS256 only), expiry (required) and the presence of _id and sub. The
// claims returned are shared between callers: read them, do not change them.
func (t *Tokens) Verify(token string) (*Claims, error) {
	if c, ok := t.verified.get(token, t.now()); ok {
		return c, nil
	}
	c, err := t.parse(token)
	if err != nil {
		return nil, err
	}
	t.verified.put(token, c)
	return c, nil
}

func (t *Tokens) parse(token string) (*Claims, error) { return t.parseWith(token, t.secret) }

// VerifyWith checks a token signed with a secret other than the server's (a bot's), as Verify does.
func (t *Tokens) VerifyWith(token string, secret []byte) (*Claims, error) {
	return t.parseWith(token, secret)
}

// Unverified reads a token's claims without checking them: only to choose the secret to check the
// token with.
func Unverified(token string) (*Claims, error) {
	var c Claims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return &c, nil
}

// IssueWith signs payload (the token's own fields, such as a bot's) with secret, adding iat, exp, iss,
// aud, sub and jti as Issue does.
func (t *Tokens) IssueWith(secret []byte, payload map[string]any, subject, audience string) (string, error) {
	now := t.now()
	claims := jwt.MapClaims{}
	for k, v := range payload {
		claims[k] = v
	}
	claims["iat"], claims["exp"] = now.Unix(), now.Add(t.lifetime).Unix()
	claims["iss"], claims["aud"], claims["sub"], claims["jti"] = TokenIssuer, audience, subject, uuid.NewString()
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

func (t *Tokens) parseWith(token string, secret []byte) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(t.now),
		jwt.WithLeeway(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if c.ID == "" {
		return nil, fmt.Errorf("%w: no _id claim", ErrInvalidToken)
	}
	if c.Subject == "" {
		c.Subject = SubjectUser // the original treats a token without sub as a user's
	}
	return &c, nil
}

// NewSecret returns a random 32-byte secret, hex encoded, for a first start without one configured.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b)
}
