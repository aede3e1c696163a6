package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
)

func TestPasswordReset(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		ann := e.signupUnverified("Ann")
		// A Basic credential verified before the reset is cached; the reset must forget it.
		e.do("GET", "/users", nil, ann.basic()).want(t, 200)

		// The same answer whether or not the address has an account; a mail only for the account.
		known := e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": strings.ToUpper(ann.email)}).want(t, 200)
		unknown := e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": "nobody@example.com"}).want(t, 200)
		if string(known.body) != string(unknown.body) {
			t.Fatalf("answers differ: %s / %s", known.body, unknown.body)
		}
		if len(e.mails.to("nobody@example.com")) != 0 {
			t.Fatal("mailed an address without an account")
		}
		e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": "not an address"}).want(t, 422)
		mail := e.mails.last(t, ann.email, "/#/resetpassword/")
		tok := token(t, mail.Link, "resetpassword/")

		check := e.do("GET", "/auth/checkpswresetkey/"+tok, nil).want(t, 200).json(t)
		if check["message"] != "Valid password reset key" || check["user"].(map[string]any)["_id"] != ann.id {
			t.Fatalf("checkpswresetkey = %v", check)
		}
		if _, ok := check["user"].(map[string]any)["password"]; ok {
			t.Fatal("the user shown carries its password hash")
		}
		const invalid = `{"success":false,"msg":"Invalid password reset key"}`
		expired := e.srv.links.Sign(auth.LinkResetPassword, ann.id, e.clock.Now().Add(-time.Second), ann.email, "whatever")
		for _, bad := range []string{"garbage", tampered(tok), expired,
			token(t, e.mails.last(t, ann.email, "/verify/email/").Link, "/verify/email/"+ann.id+"/")} {
			e.do("GET", "/auth/checkpswresetkey/"+bad, nil).wantBody(t, 404, invalid)
			e.do("PUT", "/auth/resetpsw/"+bad, map[string]string{"password": "n3w-password"}).wantBody(t, 404, invalid)
		}
		e.do("PUT", "/auth/resetpsw/"+tok, map[string]string{}).want(t, 422)
		e.do("PUT", "/auth/resetpsw/"+tok, map[string]string{"password": strings.Repeat("x", 73)}).want(t, 422)

		r := e.do("PUT", "/auth/resetpsw/"+tok, map[string]string{"password": "n3w-password"}).want(t, 200).json(t)
		if r["message"] != "Password change successful" || r["user"].(map[string]any)["emailverified"] != true {
			t.Fatalf("reset = %v", r)
		}
		if changed := e.mails.to(ann.email); !strings.Contains(changed[len(changed)-1].Subject, "password has been changed") {
			t.Fatalf("no notice of the change: %+v", changed[len(changed)-1])
		}
		// Used once: the link is dead, the old password and its cached Basic pair too.
		e.do("GET", "/auth/checkpswresetkey/"+tok, nil).wantBody(t, 404, invalid)
		e.do("PUT", "/auth/resetpsw/"+tok, map[string]string{"password": "attacker"}).wantBody(t, 404, invalid)
		e.do("GET", "/users", nil, ann.basic()).want(t, 401)
		e.do("POST", "/auth/signin", map[string]string{"email": ann.email, "password": ann.password}).want(t, 401)
		e.do("POST", "/auth/signin", map[string]string{"email": ann.email, "password": "n3w-password"}).want(t, 200)
	})
}

// TestPasswordResetLinkWorksOnceUnderRace: resets sent at the same moment with one link all pass
// the link's check before any of them writes (a barrier in front of the store's write makes sure
// of it); exactly one sets its password, the others are told the link is used.
func TestPasswordResetLinkWorksOnceUnderRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e, gate := newRaceEnv(t, engine)
		ann := e.signupUnverified("Ann")
		e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": ann.email}).want(t, 200)
		tok := token(t, e.mails.last(t, ann.email, "/#/resetpassword/").Link, "resetpassword/")
		winner := race(t, e, gate, "/auth/resetpsw/"+tok, "", `{"password":"racer-%d"}`, 404, "Invalid password reset key")
		e.do("POST", "/auth/signin", map[string]string{"email": ann.email, "password": fmt.Sprint("racer-", winner)}).want(t, 200)
		for i := range gate.n {
			if i != winner {
				e.do("POST", "/auth/signin", map[string]string{"email": ann.email, "password": fmt.Sprint("racer-", i)}).want(t, 401)
			}
		}
	})
}

// TestPasswordChangesFromOnePasswordRace: changes checked against the same old password at the
// same moment: one wins, the others are told the old password is no longer the current one.
func TestPasswordChangesFromOnePasswordRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e, gate := newRaceEnv(t, engine)
		ann := e.signup("Ann")
		winner := race(t, e, gate, "/users/changepsw", ann.token,
			`{"oldpsw":"`+ann.password+`","newpsw":"racer-%d"}`, 401, "Current password is invalid.")
		e.do("POST", "/auth/signin", map[string]string{"email": ann.email, "password": fmt.Sprint("racer-", winner)}).want(t, 200)
	})
}

func newRaceEnv(t *testing.T, engine string) (*testEnv, *writeBarrier) {
	var gate *writeBarrier
	e := newEnvOn(t, engine, func(c *Config) {
		gate = &writeBarrier{Store: c.Store, n: 6, arrived: make(chan struct{}, 6)}
		c.Store = gate
	})
	return e, gate
}

// race sends gate.n PUTs to path at once (body holds a %d for the request's number), all held at
// the store's write until every one has reached it, and returns the number of the one that
// succeeded, after checking that every other was refused with status and a body containing msg.
func race(t *testing.T, e *testEnv, gate *writeBarrier, path, authorization, body string, status int, msg string) int {
	t.Helper()
	statuses, bodies := make([]int, gate.n), make([]string, gate.n)
	var wg sync.WaitGroup
	for i := range gate.n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("PUT", e.http.URL+path, strings.NewReader(fmt.Sprintf(body, i)))
			req.Header.Set("Content-Type", "application/json")
			if authorization != "" {
				req.Header.Set("Authorization", authorization)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				bodies[i] = err.Error()
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			statuses[i], bodies[i] = res.StatusCode, string(b)
		}()
	}
	wg.Wait()
	if got := len(gate.arrived); got != gate.n {
		t.Fatalf("%d of %d requests reached the write (%v %v); the barrier proves nothing", got, gate.n, statuses, bodies)
	}
	winner := -1
	for i := range gate.n {
		switch {
		case statuses[i] == 200 && winner >= 0:
			t.Fatalf("requests %d and %d both succeeded", winner, i)
		case statuses[i] == 200:
			winner = i
		case statuses[i] != status || !strings.Contains(bodies[i], msg):
			t.Fatalf("request %d: %d %s; want %d %s", i, statuses[i], bodies[i], status, msg)
		}
	}
	if winner < 0 {
		t.Fatalf("none succeeded: %v %v", statuses, bodies)
	}
	return winner
}

// writeBarrier holds every SetUserPassword until n have arrived (or a few seconds have passed), so
// that all of them were checked against the same password before any writes.
type writeBarrier struct {
	tiledesk.Store
	n       int
	arrived chan struct{}
}

func (b *writeBarrier) SetUserPassword(ctx context.Context, id, oldHash, newHash string) error {
	b.arrived <- struct{}{}
	for deadline := time.Now().Add(5 * time.Second); len(b.arrived) < b.n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	return b.Store.SetUserPassword(ctx, id, oldHash, newHash)
}

// Unwrap is the cache's: the reset's check reads past the cache, as in production.
func (b *writeBarrier) Unwrap() tiledesk.Store {
	return b.Store.(interface{ Unwrap() tiledesk.Store }).Unwrap()
}

// tampered changes one character of a signed token, well inside its signature: replacing its last
// two characters with "AA" left it unchanged when it ended so, and the last character's unused
// bits are ignored when decoding.
func tampered(tok string) string {
	b := []byte(tok)
	i := len(b) - 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
