package api

import (
	"encoding/json"
	"testing"
	"time"
)

// sendDirect publishes a direct message to another user as the agent app does.
func (cl *chat21Client) sendDirect(to, text, tempUID string) {
	msg, _ := json.Marshal(map[string]any{"text": text, "type": "text", "channel_type": "direct",
		"sender_fullname": cl.uid, "recipient_fullname": "Teammate", "attributes": map[string]any{"tempUID": tempUID}})
	cl.c.Publish("apps/tilechat/outgoing/users/"+cl.uid+"/messages/"+to+"/outgoing", 0, false, msg).Wait()
}

// publish publishes a payload on a topic of the client's own inbox.
func (cl *chat21Client) publish(suffix string, payload string) {
	cl.c.Publish("apps/tilechat/users/"+cl.uid+"/"+suffix, 0, false, []byte(payload)).Wait()
}

// flush returns once what the client published before was handled: a connection's publishes
// are handled in order, and a read mark is answered.
func (cl *chat21Client) flush() {
	cl.t.Helper()
	cl.publish("conversations/flush/update", `{"is_new":false}`)
	cl.topic("apps/tilechat/users/" + cl.uid + "/conversations/flush/clientupdated")
}

// TestChat21Direct: two teammates chat directly: the sender gets its copy (100, tempUID
// untouched), the recipient its own (150); what an agent sends with POST /:pid/messages reaches
// the same chat; lists, messages, read marks and archiving work on direct chats as on groups.
func TestChat21Direct(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newChatEnvOn(t, engine, nil)
		ouid, otoken := e.chat21Token(e.owner.basic())
		auid, atoken := e.chat21Token(e.agent.basic())
		owner, agent := e.chat21Connect(ouid, otoken), e.chat21Connect(auid, atoken)

		owner.sendDirect(auid, "hi teammate", "temp-d1")
		echo := owner.next("hi teammate")
		attrs, _ := echo["attributes"].(map[string]any)
		if echo["status"] != float64(100) || echo["conversWith"] != auid || echo["channel_type"] != "direct" ||
			attrs["tempUID"] != "temp-d1" || echo["_topic"] != "apps/tilechat/users/"+ouid+"/messages/"+auid+"/clientadded" {
			t.Fatalf("the sender's copy: %v", echo)
		}
		got := agent.next("hi teammate")
		if got["status"] != float64(150) || got["sender"] != ouid || got["recipient"] != auid || got["conversWith"] != ouid ||
			got["_topic"] != "apps/tilechat/users/"+auid+"/messages/"+ouid+"/clientadded" {
			t.Fatalf("the recipient's copy: %v", got)
		}
		// The agent's app acknowledges it: the owner is told, and the copies say so.
		mid := got["message_id"].(string)
		agent.publish("messages/"+ouid+"/"+mid+"/update", `{"status":200}`)
		owner.topic("apps/tilechat/users/" + ouid + "/messages/" + auid + "/" + mid + "/clientupdated")
		// It is one of the project's direct messages, and an agent's REST message joins the chat.
		listed := e.do("GET", "/"+e.pid+"/messages", nil, e.owner.jwt()).want(t, 200).list(t)
		if len(listed) != 1 || listed[0].(map[string]any)["text"] != "hi teammate" {
			t.Fatalf("the project's direct messages: %v", listed)
		}
		e.do("POST", "/"+e.pid+"/messages", map[string]string{"recipient": ouid, "recipientFullname": "Owner", "text": "answer over REST"},
			e.agent.jwt()).want(t, 200)
		if got := owner.next("answer over REST"); got["status"] != float64(150) || got["conversWith"] != auid {
			t.Fatalf("the REST message in the owner's inbox: %v", got)
		}
		agent.next("answer over REST")

		api := "/chatapi/api/tilechat/"
		raw := func(token string) cred { return header("Authorization", token) }
		result := func(r *resp) []any { return r.json(t)["result"].([]any) }
		conversation := func(uid, token, list string) map[string]any {
			t.Helper()
			for _, c := range result(e.do("GET", api+uid+"/"+list, nil, raw(token)).want(t, 200)) {
				if c := c.(map[string]any); c["channel_type"] == "direct" {
					return c
				}
			}
			return nil
		}
		if c := conversation(ouid, otoken, "conversations"); c == nil || c["conversWith"] != auid || c["text"] != "answer over REST" || c["is_new"] != true {
			t.Fatalf("the owner's direct conversation: %v", c)
		}
		if c := conversation(auid, atoken, "conversations"); c == nil || c["conversWith"] != ouid || c["is_new"] != false || c["status"] != float64(100) {
			t.Fatalf("the agent's direct conversation: %v", c)
		}
		msgs := result(e.do("GET", api+ouid+"/conversations/"+auid+"/messages", nil, raw(otoken)).want(t, 200))
		if len(msgs) != 2 || msgs[0].(map[string]any)["text"] != "answer over REST" || msgs[1].(map[string]any)["status"] != float64(250) {
			t.Fatalf("the owner's messages with the agent, newest first: %v", msgs)
		}
		msgs = result(e.do("GET", api+auid+"/conversations/"+ouid+"/messages", nil, raw(atoken)).want(t, 200))
		if len(msgs) != 2 || msgs[1].(map[string]any)["status"] != float64(200) || msgs[0].(map[string]any)["status"] != float64(100) {
			t.Fatalf("the agent's messages with the owner, newest first: %v", msgs)
		}
		if one := result(e.do("GET", api+ouid+"/conversations/"+auid, nil, raw(otoken)).want(t, 200)); len(one) != 1 {
			t.Fatalf("the owner's conversation with the agent: %v", one)
		}

		// Read, it is no longer new; archived, it moves to the archived list until the next message.
		owner.publish("conversations/"+auid+"/update", `{"is_new":false}`)
		owner.topic("apps/tilechat/users/" + ouid + "/conversations/" + auid + "/clientupdated")
		if c := conversation(ouid, otoken, "conversations"); c == nil || c["is_new"] != false {
			t.Fatalf("the owner's conversation after reading: %v", c)
		}
		owner.publish("conversations/"+auid+"/archive", `{}`)
		owner.topic("apps/tilechat/users/" + ouid + "/archived_conversations/" + auid + "/clientadded")
		if c := conversation(ouid, otoken, "conversations"); c != nil {
			t.Fatalf("an archived direct conversation in the open list: %v", c)
		}
		if c := conversation(ouid, otoken, "archived_conversations"); c == nil || c["archived"] != true {
			t.Fatalf("the archived list: %v", c)
		}
		e.clock.Add(time.Second)
		agent.sendDirect(ouid, "are you there?", "temp-d2")
		owner.next("are you there?")
		if c := conversation(ouid, otoken, "conversations"); c == nil || c["text"] != "are you there?" {
			t.Fatalf("a new message brings the conversation back: %v", c)
		}
	})
}

// TestChat21DirectTenancy: nobody writes into the inbox of a user it shares no project with,
// over MQTT or over REST; a visitor has no direct chat; nobody reads another's.
func TestChat21DirectTenancy(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newChatEnvOn(t, engine, nil)
		ouid, otoken := e.chat21Token(e.owner.basic())
		owner := e.chat21Connect(ouid, otoken)
		stranger := e.signup("Stranger")
		e.createProject(stranger, "Elsewhere")
		suid, stoken := e.chat21Token(stranger.basic())
		strangerClient := e.chat21Connect(suid, stoken)

		strangerClient.sendDirect(ouid, "from a stranger", "t-s")
		owner.none("from a stranger")
		strangerClient.none("from a stranger")
		// The project's agent may store a message to anyone, as the original; only members get it.
		e.do("POST", "/"+e.pid+"/messages", map[string]string{"recipient": suid, "recipientFullname": "S", "text": "to a non-member"},
			e.owner.jwt()).want(t, 200)
		strangerClient.none("to a non-member")
		mid := owner.next("to a non-member")["message_id"].(string) // the sender's own copy

		guestToken, _ := e.guest(e.pid)
		vuid, vtoken := e.chat21Token(jwtCred(guestToken))
		visitor := e.chat21Connect(vuid, vtoken)
		visitor.sendDirect(ouid, "visitor direct", "t-v")
		owner.none("visitor direct")
		visitor.none("visitor direct")
		// Only a message's recipient, a member, acknowledges it.
		strangerClient.publish("messages/"+ouid+"/"+mid+"/update", `{"status":200}`)
		visitor.publish("messages/"+ouid+"/"+mid+"/update", `{"status":200}`)
		owner.publish("messages/"+suid+"/"+mid+"/update", `{"status":200}`)
		for _, cl := range []*chat21Client{strangerClient, visitor, owner} {
			cl.flush()
		}
		listed := e.do("GET", "/"+e.pid+"/messages", nil, e.owner.jwt()).want(t, 200).list(t)
		if len(listed) != 1 || listed[0].(map[string]any)["status"] != float64(0) {
			t.Fatalf("a message acknowledged by others than its recipient: %v", listed)
		}

		api := "/chatapi/api/tilechat/"
		e.do("GET", api+ouid+"/conversations/"+suid+"/messages", nil, header("Authorization", stoken)).want(t, 404)
		if msgs := e.do("GET", api+suid+"/conversations/"+ouid+"/messages", nil, header("Authorization", stoken)).want(t, 200).json(t)["result"].([]any); len(msgs) != 0 {
			t.Fatalf("the stranger reads messages it was never sent: %v", msgs)
		}
	})
}

// TestChat21MessagesThatLeaveTheConversation: a message with "updateconversation": false is
// delivered, but does not become its conversation's last message, nor make it new or bring it
// back from the archive, in a support group as in a direct chat.
func TestChat21MessagesThatLeaveTheConversation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newChatEnvOn(t, engine, nil)
		visitor, vtoken, group := e.chatVisitor("uc")
		e.clock.Add(time.Second)
		e.post(group, `{"text":"a quiet notice","attributes":{"updateconversation":false}}`, e.owner.jwt()).want(t, 200)
		visitor.next("a quiet notice")
		list := e.do("GET", "/chatapi/api/tilechat/"+visitor.uid+"/conversations", nil, header("Authorization", vtoken)).want(t, 200).
			json(t)["result"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["text"] != "hello" || list[0].(map[string]any)["is_new"] != false {
			t.Fatalf("the visitor's conversation after a notice: %v", list)
		}

		ouid, _ := e.chat21Token(e.owner.basic())
		auid, atoken := e.chat21Token(e.agent.basic())
		agent := e.chat21Connect(auid, atoken)
		e.do("POST", "/"+e.pid+"/messages", map[string]string{"recipient": auid, "recipientFullname": "A", "text": "hi"}, e.owner.jwt()).want(t, 200)
		agent.next("hi")
		e.clock.Add(time.Second)
		e.do("POST", "/"+e.pid+"/messages", map[string]any{"recipient": auid, "recipientFullname": "A", "text": "typing...",
			"attributes": map[string]any{"updateconversation": false}}, e.owner.jwt()).want(t, 200)
		agent.next("typing...")
		one := e.do("GET", "/chatapi/api/tilechat/"+auid+"/conversations/"+ouid, nil, header("Authorization", atoken)).want(t, 200).
			json(t)["result"].([]any)
		if len(one) != 1 || one[0].(map[string]any)["text"] != "hi" {
			t.Fatalf("the direct chat after a notice: %v", one)
		}
	})
}
