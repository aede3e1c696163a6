package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/tiledesk-go/tiledesk/internal/pgtest"
)

// mqttInbox connects to a server's chat21 endpoint with a chat21 token and returns the texts its
// inbox receives.
func mqttInbox(t *testing.T, base, uid, token string) (paho.Client, <-chan string) {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker("ws" + strings.TrimPrefix(base, "http") + "/mqws/ws").SetUsername("JWT").
		SetPassword(token).SetClientID(uid + "-" + time.Now().Format("150405.000000000")).SetAutoReconnect(false)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect to %s: %v", base, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	texts := make(chan string, 16)
	tok := c.Subscribe("apps/tilechat/users/"+uid+"/#", 0, func(_ paho.Client, m paho.Message) {
		var v struct{ Text string }
		if strings.HasSuffix(m.Topic(), "/clientadded") && json.Unmarshal(m.Payload(), &v) == nil {
			texts <- v.Text
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	return c, texts
}

func waitText(t *testing.T, texts <-chan string, want string) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case got := <-texts:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("%q did not arrive", want)
		}
	}
}

// A visitor connected to process A and an agent connected to process B chat: what the visitor
// sends over MQTT on A reaches the agent's inbox on B, and the agent's answer over B's REST API
// reaches the visitor on A, as does the agent's direct message; the agent's presence follows its
// connections to both processes.
func TestChat21AcrossProcesses(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	a := startChild(t, "--db", dsn)
	b := startChild(t, "--db", dsn)
	js := map[string]string{"Content-Type": "application/json"}
	call(t, "POST", b.url+"/auth/signup", `{"email":"agent@example.com","password":"Passw0rd!","firstname":"A","lastname":"G"}`, js)
	_, m, _ := call(t, "POST", b.url+"/auth/signin", `{"email":"agent@example.com","password":"Passw0rd!"}`, js)
	agentToken, _ := m["token"].(string)
	_, m, _ = call(t, "POST", b.url+"/projects", `{"name":"Chat"}`, map[string]string{"Content-Type": "application/json", "Authorization": agentToken})
	pid, _ := m["_id"].(string)
	_, m, _ = call(t, "POST", a.url+"/auth/signinAnonymously", `{"id_project":"`+pid+`"}`, js)
	guestToken, _ := m["token"].(string)

	chatToken := func(base, token string) (string, string) {
		_, m, _ := call(t, "POST", base+"/chat21/native/auth/createCustomToken", "", map[string]string{"Authorization": token})
		uid, _ := m["userid"].(string)
		tok, _ := m["token"].(string)
		if uid == "" || tok == "" {
			t.Fatalf("createCustomToken on %s: %v", base, m)
		}
		return uid, tok
	}
	vuid, vtok := chatToken(a.url, guestToken)
	auid, atok := chatToken(b.url, agentToken)
	visitor, visitorTexts := mqttInbox(t, a.url, vuid, vtok)
	agentOnB, agentTexts := mqttInbox(t, b.url, auid, atok)

	rid := "support-group-" + pid + "-across"
	msg := `{"text":"hello from A","type":"text","channel_type":"group","attributes":{"tempUID":"t1"}}`
	visitor.Publish("apps/tilechat/outgoing/users/"+vuid+"/messages/"+rid+"/outgoing", 0, false, msg).Wait()
	waitText(t, visitorTexts, "hello from A")
	waitText(t, agentTexts, "hello from A")
	postText(t, b.url, agentToken, pid, rid, "answer from B")
	waitText(t, visitorTexts, "answer from B")
	// A direct message from the agent on B reaches the visitor on A.
	direct := `{"text":"a word in private","type":"text","channel_type":"direct","recipient_fullname":"V"}`
	agentOnB.Publish("apps/tilechat/outgoing/users/"+auid+"/messages/"+vuid+"/outgoing", 0, false, direct).Wait()
	waitText(t, visitorTexts, "a word in private")

	// The agent connected to both processes is online until it has left both.
	agentOnA, _ := mqttInbox(t, a.url, auid, atok)
	presence := func() string {
		_, _, list := call(t, "GET", b.url+"/"+pid+"/project_users/me", "", map[string]string{"Authorization": agentToken})
		if len(list) != 1 {
			t.Fatalf("project_users/me: %v", list)
		}
		p, _ := list[0].(map[string]any)["presence"].(map[string]any)
		status, _ := p["status"].(string)
		return status
	}
	agentOnB.Disconnect(0)
	time.Sleep(300 * time.Millisecond) // what B does on the disconnection is done
	if got := presence(); got != "online" {
		t.Fatalf("the agent, still connected to A, left B: presence %q", got)
	}
	agentOnA.Disconnect(0)
	for deadline := time.Now().Add(10 * time.Second); presence() != "offline"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent left both processes: presence %q", presence())
		}
	}
}
