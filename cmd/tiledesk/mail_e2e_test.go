package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk/internal/mail/mailtest"
)

// linkFromLog finds the last mailed link to addr written to the log (no mail server configured) and
// returns its two last path segments (a user id and a code, or a path word and a token).
func linkFromLog(t *testing.T, logs *syncBuffer, addr, marker string) (string, string) {
	t.Helper()
	re := regexp.MustCompile(`to=` + regexp.QuoteMeta(addr) + ` .*link=(\S+)`)
	var link string
	for _, line := range strings.Split(logs.String(), "\n") {
		if m := re.FindStringSubmatch(line); m != nil && strings.Contains(m[1], marker) {
			link = m[1]
		}
	}
	if link == "" {
		t.Fatalf("no %s link to %s in the log:\n%s", marker, addr, logs)
	}
	segs := strings.Split(link, "/")
	return segs[len(segs)-2], segs[len(segs)-1]
}

var linkRE = regexp.MustCompile(`https://desk\.example\.com/#/[^\s]+`)

// TestMailThroughSMTP runs the real server against a real SMTP server on the loopback interface: the
// verification mail of a sign-up and a password reset arrive there, and their links work.
func TestMailThroughSMTP(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	db := filepath.Join(t.TempDir(), "mail.db")
	base, logs, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", db, "--smtp-url", "smtp://" + smtp.Addr,
		"--mail-from", "Tiledesk <no-reply@example.com>", "--public-url", "https://desk.example.com/"}, nil)
	defer stop()
	js := map[string]string{"Content-Type": "application/json"}
	st, m, _ := call(t, "POST", base+"/auth/signup", `{"email":"Ann@Example.com","password":"pw","firstname":"Ann","lastname":"Lee"}`, js)
	if st != 200 {
		t.Fatalf("signup = %d", st)
	}
	uid := m["user"].(map[string]any)["_id"].(string)
	msg := smtp.Next(t, 10*time.Second)
	if msg.From != "no-reply@example.com" || len(msg.To) != 1 || msg.To[0] != "ann@example.com" ||
		!strings.Contains(msg.Header.Get("Subject"), "Verify your email address") {
		t.Fatalf("verification mail from %q to %v: %q", msg.From, msg.To, msg.Header.Get("Subject"))
	}
	link := linkRE.FindString(msg.Body)
	prefix := "https://desk.example.com/#/verify/email/" + uid + "/"
	if !strings.HasPrefix(link, prefix) {
		t.Fatalf("link %q in %q", link, msg.Body)
	}
	if st, u, _ := call(t, "PUT", base+"/auth/verifyemail/"+uid+"/"+strings.TrimPrefix(link, prefix), "", js); st != 200 || u["emailverified"] != true {
		t.Fatalf("verify = %d %v", st, u)
	}

	if st, _, _ := call(t, "PUT", base+"/auth/requestresetpsw", `{"email":"ann@example.com"}`, js); st != 200 {
		t.Fatalf("requestresetpsw = %d", st)
	}
	msg = smtp.Next(t, 10*time.Second)
	link = linkRE.FindString(msg.Body)
	tok := strings.TrimPrefix(link, "https://desk.example.com/#/resetpassword/")
	if tok == link || tok == "" {
		t.Fatalf("reset link %q in %q", link, msg.Body)
	}
	if st, _, _ := call(t, "PUT", base+"/auth/resetpsw/"+tok, `{"password":"n3w"}`, js); st != 200 {
		t.Fatalf("resetpsw = %d", st)
	}
	if st, _, _ := call(t, "POST", base+"/auth/signin", `{"email":"ann@example.com","password":"n3w"}`, js); st != 200 {
		t.Fatalf("signin with the new password = %d", st)
	}
	if notice := smtp.Next(t, 10*time.Second); !strings.Contains(notice.Header.Get("Subject"), "password has been changed") {
		t.Fatalf("no change notice: %q", notice.Header.Get("Subject"))
	}
	if strings.Contains(logs.String(), tok) {
		t.Fatal("with a mail server, the reset link must not be written to the log")
	}
}

func TestMailFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--smtp-url", "smtp://127.0.0.1:2525"}, "--mail-from"},
		{[]string{"--public-url", "desk.example.com"}, "--public-url"},
		{[]string{"--public-url", "ftp://desk.example.com"}, "--public-url"},
		{[]string{"--mail-rate-limit", "lots"}, "--mail-rate-limit"},
	} {
		if _, err := parseConfig(tc.args, func(string) string { return "" }, &syncBuffer{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
	cfg, err := parseConfig(nil, func(k string) string {
		return map[string]string{"TILEDESK_SMTP_URL": "smtps://u:p@mail.example.com", "TILEDESK_MAIL_FROM": "a@example.com",
			"TILEDESK_PUBLIC_URL": "https://desk.example.com/", "TILEDESK_MAIL_RATE_LIMIT": "3/1h"}[k]
	}, &syncBuffer{})
	if err != nil || cfg.smtpURL != "smtps://u:p@mail.example.com" || cfg.mailFrom != "a@example.com" ||
		cfg.publicURL != "https://desk.example.com" || cfg.limits.Mail.Count != 3 {
		t.Fatalf("environment twins: %+v, %v", cfg, err)
	}
	// A mail server URL that cannot work is an error at start, not at the first mail.
	db := filepath.Join(t.TempDir(), "x.db")
	err = run(t.Context(), []string{"--addr", "127.0.0.1:0", "--db", db, "--smtp-url", "mysql://host", "--mail-from", "a@example.com"},
		func(string) string { return "" }, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "--smtp-url") {
		t.Fatalf("run with a mysql:// mail server = %v", err)
	}
}
