package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// Purposes of mailed links. A token signed for one purpose is refused for every other.
const (
	LinkVerifyEmail   = "verify-email"
	LinkResetPassword = "reset-password"
	LinkInvitation    = "invitation"
)

// ErrBadLink is every reason a link token is refused (malformed, another purpose, a wrong signature,
// expired, or bound to a state that has changed): callers answer all of them alike.
var ErrBadLink = errors.New("auth: invalid or expired link")

// macBytes is the length of a link's signature: 128 bits cannot be guessed.
const macBytes = 16

// Links signs and checks the tokens of the links the server mails (verify an address, reset a
// password, join a project). A token names its purpose, a subject (a user or invitation id) and an
// expiry, and carries an HMAC-SHA256 of them under a key kept with the data. The signature also
// covers "bound" values that are not in the token, such as the user's email and password hash:
// when either changes, every link signed before stops working, so a reset link works once.
type Links struct{ key []byte }

// NewLinks returns Links signing with key (at least 16 bytes).
func NewLinks(key []byte) (*Links, error) {
	if len(key) < 16 {
		return nil, errors.New("auth: the link key must be at least 16 bytes")
	}
	return &Links{key: key}, nil
}

// Link is a parsed token whose signature is not checked yet (see Links.Check).
type Link struct {
	Purpose string
	Subject string
	Expires time.Time
	payload []byte
	mac     []byte
}

// Sign returns the token of a link: URL-safe, about 80 characters.
func (l *Links) Sign(purpose, subject string, expires time.Time, bound ...string) string {
	payload := make([]byte, 0, 1+len(purpose)+8+len(subject))
	payload = append(payload, byte(len(purpose)))
	payload = append(payload, purpose...)
	payload = binary.BigEndian.AppendUint64(payload, uint64(expires.Unix()))
	payload = append(payload, subject...)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(l.mac(payload, bound))
}

// Parse reads a token signed for purpose, without checking its signature: the caller loads what the
// subject names, then calls Check with the values the link was bound to.
func (l *Links) Parse(token, purpose string) (*Link, error) {
	p, m, ok := strings.Cut(token, ".")
	if !ok || len(token) > 512 {
		return nil, ErrBadLink
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(m)
	if err1 != nil || err2 != nil || len(mac) != macBytes || len(payload) < 1 {
		return nil, ErrBadLink
	}
	n := int(payload[0])
	if len(payload) < 1+n+8 || string(payload[1:1+n]) != purpose {
		return nil, ErrBadLink
	}
	exp := int64(binary.BigEndian.Uint64(payload[1+n : 1+n+8]))
	return &Link{Purpose: purpose, Subject: string(payload[1+n+8:]), Expires: time.Unix(exp, 0),
		payload: payload, mac: mac}, nil
}

// Check verifies a parsed link's signature over the values it was bound to, then its expiry.
func (l *Links) Check(link *Link, now time.Time, bound ...string) error {
	if !hmac.Equal(link.mac, l.mac(link.payload, bound)) || !now.Before(link.Expires) {
		return ErrBadLink
	}
	return nil
}

func (l *Links) mac(payload []byte, bound []string) []byte {
	h := hmac.New(sha256.New, l.key)
	h.Write(payload)
	for _, b := range bound {
		h.Write(binary.AppendUvarint(nil, uint64(len(b))))
		h.Write([]byte(b))
	}
	return h.Sum(nil)[:macBytes]
}
