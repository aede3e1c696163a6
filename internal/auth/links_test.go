package auth

import (
	"strings"
	"testing"
	"time"
)

func TestLinks(t *testing.T) {
	links, err := NewLinks([]byte("a link key of sufficient length"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	tok := links.Sign(LinkResetPassword, "6650a1e5c2b7e2a1d4f00000", now.Add(time.Hour), "ann@example.com", "$2a$10$hash")
	if strings.ContainsAny(tok, "/+=?#%& ") || len(tok) > 120 {
		t.Fatalf("token %q is not short and URL-safe", tok)
	}
	l, err := links.Parse(tok, LinkResetPassword)
	if err != nil || l.Subject != "6650a1e5c2b7e2a1d4f00000" || !l.Expires.Equal(now.Add(time.Hour)) {
		t.Fatalf("Parse = %+v, %v", l, err)
	}
	if err := links.Check(l, now, "ann@example.com", "$2a$10$hash"); err != nil {
		t.Fatalf("a fresh link: %v", err)
	}
	// A new password hash (the link was used), another email, expiry: refused.
	for name, check := range map[string]func() error{
		"new password hash": func() error { return links.Check(l, now, "ann@example.com", "$2a$10$other") },
		"other email":       func() error { return links.Check(l, now, "bob@example.com", "$2a$10$hash") },
		"bound values moved": func() error {
			return links.Check(l, now, "ann@example.com$2a", "$10$hash") // lengths are signed too
		},
		"expired": func() error { return links.Check(l, now.Add(time.Hour), "ann@example.com", "$2a$10$hash") },
	} {
		if err := check(); err != ErrBadLink {
			t.Errorf("%s: %v, want ErrBadLink", name, err)
		}
	}
	if _, err := links.Parse(tok, LinkVerifyEmail); err != ErrBadLink {
		t.Fatalf("a reset token read as a verification token: %v", err)
	}
	other, _ := NewLinks([]byte("another key of sufficient length"))
	if l2, err := other.Parse(tok, LinkResetPassword); err != nil || other.Check(l2, now, "ann@example.com", "$2a$10$hash") != ErrBadLink {
		t.Fatal("a token signed with another key was accepted")
	}
	// Forged subjects: the signature covers the payload.
	payload, mac, _ := strings.Cut(tok, ".")
	forged := links.Sign(LinkResetPassword, "6650a1e5c2b7e2a1d4f00001", now.Add(time.Hour), "ann@example.com", "$2a$10$hash")
	fp, _, _ := strings.Cut(forged, ".")
	if l3, err := links.Parse(fp+"."+mac, LinkResetPassword); err != nil || links.Check(l3, now, "ann@example.com", "$2a$10$hash") != ErrBadLink {
		t.Fatal("a subject swapped under another token's signature was accepted")
	}
	for _, bad := range []string{"", ".", payload, payload + ".", "!!." + mac, payload + ".AAAA", strings.Repeat("A", 600) + "." + mac} {
		if _, err := links.Parse(bad, LinkResetPassword); err != ErrBadLink {
			t.Errorf("Parse(%q) = %v, want ErrBadLink", bad, err)
		}
	}
	if _, err := NewLinks([]byte("short")); err == nil {
		t.Fatal("a short key was accepted")
	}
}
