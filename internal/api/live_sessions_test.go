package api

import (
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/live"
)

// closedWith waits for the server to close the socket and returns the close code.
func (c *wsClient) closedWith() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.closed:
	case <-time.After(20 * time.Second):
		c.t.Fatal("the socket stayed open")
	}
	var ce websocket.CloseError
	if !errors.As(c.err, &ce) {
		c.t.Fatalf("the socket ended with %v, not a close frame", c.err)
	}
	return ce.Code
}

// A socket ends when a REST call with its credential would be refused: at the token's expiry, and
// when the user's password changes (which revokes every token issued before).
func TestLiveSocketEndsWithItsCredential(t *testing.T) {
	e := newLiveEnv(t, live.Options{})
	rid := e.rid("sessions")
	e.post(rid, `{"text":"Hello"}`, e.owner.jwt()).want(t, 200)

	revoked := e.dial(e.agent.token)
	other := e.dial(e.owner.token) // another user's socket stays
	revoked.subscribe("/" + e.pid + "/requests/" + rid)
	revoked.publish("/"+e.pid+"/requests/"+rid, "CREATE")
	e.do("PUT", "/users/changepsw", `{"oldpsw":"`+e.agent.password+`","newpsw":"An0ther-secret"}`, e.agent.jwt()).want(t, 200)
	if code := revoked.closedWith(); code != websocket.StatusPolicyViolation {
		t.Fatalf("a socket of a revoked token closed with %v, want policy violation", code)
	}
	other.send("me", nil)
	if f := other.next(); f["action"] != "me" {
		t.Fatalf("another user's socket answered %v", f)
	}

	short, err := auth.NewTokens([]byte("test secret of sufficient length"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.store.FindUserByEmail(t.Context(), e.owner.email)
	if err != nil {
		t.Fatal(err)
	}
	token, err := short.Issue(auth.Claims{ID: u.ID, Subject: auth.SubjectUser, Generation: u.TokenGeneration})
	if err != nil {
		t.Fatal(err)
	}
	expiring := e.dial(token)
	if code := expiring.closedWith(); code != websocket.StatusPolicyViolation {
		t.Fatalf("a socket whose token expired closed with %v, want policy violation", code)
	}
}
