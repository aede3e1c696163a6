package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestPassword(t *testing.T) {
	h, err := HashPassword("Passw0rd!", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$2a$10$") {
		t.Fatalf("hash %q is not bcrypt cost 10", h)
	}
	if !CheckPassword(h, "Passw0rd!") || CheckPassword(h, "passw0rd!") {
		t.Fatal("CheckPassword does not tell right from wrong")
	}
	if _, err := HashPassword(strings.Repeat("x", 73), 0); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("73-byte password: %v", err)
	}
}

func TestCheckPasswordAcceptsOriginalHashes(t *testing.T) {
	// bcrypt-nodejs writes $2a$ hashes; this one is of "secret".
	h, _ := HashPassword("secret", 0)
	if !CheckPassword(h, "secret") {
		t.Fatal("own hash rejected")
	}
}

func newTokens(t *testing.T) *Tokens {
	t.Helper()
	tk, err := NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTokenClaimsMatchTheOriginal(t *testing.T) {
	tk := newTokens(t)
	now := time.Unix(1716559521, 0)
	tk.SetClock(func() time.Time { return now })
	no := false
	s, err := tk.Issue(Claims{ID: "6650a1e5c2b7e2a1d4f00000", Email: "ann@example.com", Firstname: "Ann",
		Lastname: "Agent", EmailVerified: &no, Subject: SubjectUser})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(s, ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if string(header) != `{"alg":"HS256","typ":"JWT"}` {
		t.Fatalf("header = %s", header)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"_id": "6650a1e5c2b7e2a1d4f00000", "email": "ann@example.com",
		"firstname": "Ann", "lastname": "Agent", "emailverified": false, "iat": 1716559521.0,
		"exp": 1716559521.0 + 3600, "aud": "https://tiledesk.com", "iss": "https://tiledesk.com", "sub": "user"} {
		if m[k] != want {
			t.Errorf("claim %s = %v, want %v", k, m[k], want)
		}
	}
	if jti, _ := m["jti"].(string); len(jti) != 36 {
		t.Errorf("jti = %v, want a uuid", m["jti"])
	}
	c, err := tk.Verify(s)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "6650a1e5c2b7e2a1d4f00000" || c.Subject != SubjectUser || c.Email != "ann@example.com" {
		t.Fatalf("Verify = %+v", c)
	}
}

func TestTokenRejections(t *testing.T) {
	tk := newTokens(t)
	good, _ := tk.Issue(Claims{ID: "u1", Subject: SubjectUser})

	other, _ := NewTokens([]byte("another secret, just as long!!!!"), time.Hour)
	forged, _ := other.Issue(Claims{ID: "u1", Subject: SubjectUser})

	past := newTokens(t)
	past.SetClock(func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired, _ := past.Issue(Claims{ID: "u1", Subject: SubjectUser})

	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"_id": "u1", "sub": "user", "iat": time.Now().Unix()}).
		SignedString([]byte("0123456789abcdef0123456789abcdef"))
	noID, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "user", "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString([]byte("0123456789abcdef0123456789abcdef"))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"_id": "u1", "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"_id": "u1", "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString([]byte("0123456789abcdef0123456789abcdef"))

	if _, err := tk.Verify(good); err != nil {
		t.Fatalf("good token rejected: %v", err)
	}
	for name, tok := range map[string]string{"forged": forged, "expired": expired, "no exp": noExp, "no _id": noID,
		"alg none": none, "HS512": hs512, "garbage": "abc.def.ghi", "empty": "", "truncated": good[:len(good)-5]} {
		if _, err := tk.Verify(tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s token: err = %v, want ErrInvalidToken", name, err)
		}
	}
}

func TestNewTokensRefusesShortSecrets(t *testing.T) {
	if _, err := NewTokens([]byte("short"), time.Hour); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
	if s := NewSecret(); len(s) != 64 || s == NewSecret() {
		t.Fatalf("NewSecret = %q", s)
	}
}

func TestBasicCache(t *testing.T) {
	c := NewBasicCache(time.Minute, 3)
	now := time.Now()
	c.now = func() time.Time { return now }
	if c.Verified("a@x", "pw", "u1", "h1") {
		t.Fatal("empty cache verified something")
	}
	c.Remember("a@x", "pw", "u1", "h1")
	if !c.Verified("a@x", "pw", "u1", "h1") {
		t.Fatal("remembered credentials not verified")
	}
	if c.Verified("a@x", "other", "u1", "h1") {
		t.Fatal("a different password was verified")
	}
	if c.Verified("a@x", "pw", "u1", "h2") {
		t.Fatal("verified against a changed password hash")
	}
	c.Remember("a@x", "pw", "u1", "h1")
	now = now.Add(2 * time.Minute)
	if c.Verified("a@x", "pw", "u1", "h1") {
		t.Fatal("expired entry verified")
	}
	now = time.Now()
	c.Remember("b@x", "pw", "u2", "h")
	c.Forget("u2")
	if c.Verified("b@x", "pw", "u2", "h") {
		t.Fatal("forgotten user verified")
	}
	for i := 0; i < 10; i++ {
		c.Remember(string(rune('a'+i))+"@x", "pw", "u", "h")
	}
	if c.Len() > 3 {
		t.Fatalf("cache grew to %d entries, max 3", c.Len())
	}
}

func TestVerifiedTokensAreRememberedUntilTheyExpire(t *testing.T) {
	tk := newTokens(t)
	now := time.Now()
	tk.SetClock(func() time.Time { return now })
	tok, _ := tk.Issue(Claims{ID: "u1", Subject: SubjectUser})
	first, err := tk.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	second, err := tk.Verify(tok)
	if err != nil || second != first {
		t.Fatalf("a verified token was parsed again (%v)", err)
	}
	// A token differing in one signature character is not the remembered one.
	forged := tok[:len(tok)-2] + string('A'+(tok[len(tok)-2]-'A'+1)%26) + tok[len(tok)-1:]
	if _, err := tk.Verify(forged); err == nil {
		t.Fatal("a token with another signature passed")
	}
	now = now.Add(time.Hour + time.Minute)
	if _, err := tk.Verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("an expired remembered token passed: %v", err)
	}
}

// TestVerifiedTokensHoldBoundedBytes: thousands of tokens with large claims (a visitor signs in
// with whatever attributes it likes) leave the verified-token memory within its bytes, and a token
// in use meanwhile stays remembered.
func TestVerifiedTokensHoldBoundedBytes(t *testing.T) {
	tk := newTokens(t)
	const limit = 4 << 20
	tk.verified = newVerifiedCache(limit)
	inUse, _ := tk.Issue(Claims{ID: "agent", Subject: SubjectUser})
	first, err := tk.Verify(inUse)
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]any{"notes": strings.Repeat("x", 20<<10)}
	for i := range 2000 {
		tok, _ := tk.Issue(Claims{ID: fmt.Sprint("guest-", i), Subject: SubjectGuest, Attributes: attrs})
		if _, err := tk.Verify(tok); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			if again, err := tk.Verify(inUse); err != nil || again != first {
				t.Fatalf("after %d other tokens the token in use was parsed again (%v)", i+1, err)
			}
		}
	}
	held := 0
	for _, gen := range []map[string]*Claims{tk.verified.cur, tk.verified.prev} {
		for token := range gen {
			held += verifiedEntryBytes(token)
		}
	}
	if held > limit || tk.verified.bytes() != held {
		t.Fatalf("the verified tokens hold %d bytes (counted %d), more than %d", held, tk.verified.bytes(), limit)
	}
	// A token larger than half the memory is verified every time, never kept.
	huge, _ := tk.Issue(Claims{ID: "huge", Subject: SubjectGuest, Attributes: map[string]any{"x": strings.Repeat("y", limit)}})
	if _, err := tk.Verify(huge); err != nil {
		t.Fatal(err)
	}
	if _, kept := tk.verified.get(huge, time.Now()); kept {
		t.Fatal("a token larger than the memory was kept")
	}
}

func TestAudienceProject(t *testing.T) {
	for aud, want := range map[string]string{
		ProjectAudience("6650a1e9c2b7e2a1d4f00001"):              "6650a1e9c2b7e2a1d4f00001",
		"https://example.com/projects/6650a1e9c2b7e2a1d4f00001/": "6650a1e9c2b7e2a1d4f00001",
		"https://tiledesk.com":                                   "",
		"https://tiledesk.com/projects/":                         "",
		"https://tiledesk.com/projects/a/b":                      "",
		"https://tiledesk.com/subscriptions/abc":                 "",
		"projects/6650a1e9c2b7e2a1d4f00001":                      "",
		"":                                                       "",
	} {
		if got := AudienceProject(aud); got != want {
			t.Errorf("AudienceProject(%q) = %q, want %q", aud, got, want)
		}
	}
}
