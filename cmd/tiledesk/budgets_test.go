package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBudgetConfig(t *testing.T) {
	defaults, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l := defaults.limits
	if l.AnonymousSignIns.String() != "60/10m0s" || l.AnonymousSignInsProject.String() != "600/1m0s" ||
		l.GuestWrites.String() != "300/1m0s" || l.LoginFailuresKnown.String() != "10/10m0s" || l.KnownFor != 720*time.Hour {
		t.Fatalf("default budgets = %+v", l)
	}
	env := map[string]string{"TILEDESK_GUEST_WRITE_LIMIT": "5/1m", "TILEDESK_LOGIN_KNOWN_FOR": "24h",
		"TILEDESK_ANONYMOUS_SIGNIN_PROJECT_LIMIT": "0"}
	cfg, err := parseConfig([]string{"--guest-write-limit", "7/1h", "--anonymous-signin-limit", "3/1m,burst=2"},
		func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l = cfg.limits
	if l.GuestWrites.String() != "7/1h0m0s" || l.KnownFor != 24*time.Hour || l.AnonymousSignInsProject.Enabled() ||
		l.AnonymousSignIns.Burst != 2 {
		t.Fatalf("budgets from flags and environment = %+v", l)
	}
	for _, args := range [][]string{{"--login-known-for", "forever"}, {"--login-known-for", "-1h"},
		{"--anonymous-signin-limit", "lots"}, {"--anonymous-signin-project-limit", "-1"}, {"--guest-write-limit", "1/0s"},
		{"--login-known-failure-limit", "x"}} {
		if _, err := parseConfig(args, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// TestBudgetsServed: the server enforces the budgets its flags set: anonymous sign-ins per address,
// with the 429 saying when to retry, and a sign-in sets the device cookie that makes the device known.
func TestBudgetsServed(t *testing.T) {
	url, _, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "b.db"),
		"--anonymous-signin-limit", "2/1h"}, nil)
	defer stop()
	json := map[string]string{"Content-Type": "application/json"}
	if status, _, _ := call(t, "POST", url+"/auth/signup", `{"email":"o@example.com","password":"secret12","firstname":"O","lastname":"W"}`, json); status != 200 {
		t.Fatalf("signup = %d", status)
	}
	req, _ := http.NewRequest("POST", url+"/auth/signin", strings.NewReader(`{"email":"o@example.com","password":"secret12"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if c := res.Cookies(); res.StatusCode != 200 || len(c) != 1 || c[0].Name != "tiledesk_device" || c[0].MaxAge != 720*3600 {
		t.Fatalf("signin = %d, cookies %v", res.StatusCode, c)
	}
	_, signin, _ := call(t, "POST", url+"/auth/signin", `{"email":"o@example.com","password":"secret12"}`, json)
	_, project, _ := call(t, "POST", url+"/projects", `{"name":"P"}`, map[string]string{"Content-Type": "application/json",
		"Authorization": signin["token"].(string)})
	body := `{"id_project":"` + project["_id"].(string) + `"}`
	for i := range 3 {
		req, _ := http.NewRequest("POST", url+"/auth/signinAnonymously", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if want := map[bool]int{true: 200, false: 429}[i < 2]; res.StatusCode != want || i == 2 && res.Header.Get("Retry-After") == "" {
			t.Fatalf("anonymous sign-in %d = %d, Retry-After %q", i+1, res.StatusCode, res.Header.Get("Retry-After"))
		}
	}
}
