package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

// sendGroup publishes a message to a chat group.
func (cl *chat21Client) sendGroup(group, text, tempUID string) {
	msg, _ := json.Marshal(map[string]any{"text": text, "type": "text", "channel_type": "group",
		"sender_fullname": cl.uid, "recipient_fullname": "Team", "attributes": map[string]any{"tempUID": tempUID}})
	cl.c.Publish("apps/tilechat/outgoing/users/"+cl.uid+"/messages/"+group+"/outgoing", 0, false, msg).Wait()
}

// TestChat21Groups: teammates make a chat group over the chat routes; its members, and only they,
// write in it and get its messages; joining gives the history, leaving archives it; each change
// is told to the members with the original's group updates and info messages.
func TestChat21Groups(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newChatEnvOn(t, engine, nil)
		third := e.signup("Third")
		e.join(e.owner, third, e.pid, tiledesk.RoleAgent)
		ouid, otoken := e.chat21Token(e.owner.basic())
		auid, atoken := e.chat21Token(e.agent.basic())
		tuid, ttoken := e.chat21Token(third.basic())
		owner, agent, thirdClient := e.chat21Connect(ouid, otoken), e.chat21Connect(auid, atoken), e.chat21Connect(tuid, ttoken)
		api := "/chatapi/api/tilechat/"
		raw := func(token string) cred { return header("Authorization", token) }

		created := e.do("POST", api+"groups", map[string]any{"group_name": "Team", "group_members": map[string]int{auid: 1}}, raw(otoken)).
			want(t, 200).json(t)["group"].(map[string]any)
		gid, _ := created["uid"].(string)
		if members := created["members"].(map[string]any); !strings.HasPrefix(gid, "group-") || created["owner"] != ouid ||
			len(members) != 2 || members[ouid] == nil || members[auid] == nil {
			t.Fatalf("the group made: %v", created)
		}
		for _, cl := range []*chat21Client{owner, agent} {
			if info := cl.next("Group created"); info["sender"] != "system" || info["conversWith"] != gid ||
				info["attributes"].(map[string]any)["subtype"] != "info" {
				t.Fatalf("the creation's info message: %v", info)
			}
		}
		agent.sendGroup(gid, "hello team", "t-g1")
		if echo := agent.next("hello team"); echo["attributes"].(map[string]any)["tempUID"] != "t-g1" || echo["status"] != float64(150) {
			t.Fatalf("the sender's copy: %v", echo)
		}
		if got := owner.next("hello team"); got["_topic"] != "apps/tilechat/users/"+ouid+"/messages/"+gid+"/clientadded" || got["channel_type"] != "group" {
			t.Fatalf("a member's copy: %v", got)
		}
		e.do("POST", "/"+e.pid+"/messages", map[string]string{"recipient": gid, "recipientFullname": "Team", "text": "over REST"}, e.owner.jwt()).want(t, 200)
		agent.next("over REST")
		// A teammate who is no member neither writes nor reads.
		e.do("POST", "/"+e.pid+"/messages", map[string]string{"recipient": gid, "recipientFullname": "Team", "text": "intruder"}, third.jwt()).want(t, 403)
		thirdClient.sendGroup(gid, "intruder over MQTT", "t-x")
		owner.none("intruder over MQTT")
		thirdClient.none("hello team")
		e.do("GET", api+"groups/"+gid, nil, raw(ttoken)).want(t, 404)
		e.do("GET", api+tuid+"/conversations/"+gid+"/messages", nil, raw(ttoken)).want(t, 404)
		// Only the owner (or an admin) adds a member.
		e.do("POST", api+"groups/"+gid+"/members", map[string]string{"member_id": tuid}, raw(atoken)).want(t, 403)
		e.do("POST", api+"groups/"+gid+"/members", map[string]string{"member_id": tuid}, raw(otoken)).want(t, 200)
		thirdClient.topic("apps/tilechat/users/" + tuid + "/groups/" + gid + "/clientupdated")
		agent.topic("apps/tilechat/users/" + auid + "/groups/" + gid + "/clientupdated")
		if info := thirdClient.next("Third Test added to group"); info["__history"] != nil {
			t.Fatalf("the join's info message: %v", info)
		}
		if h := thirdClient.next("hello team"); h["__history"] != "true" {
			t.Fatalf("the history given on joining: %v", h)
		}
		e.do("POST", api+"groups/"+gid+"/members", map[string]string{"member_id": tuid}, raw(otoken)).want(t, 409)
		g := e.do("GET", api+"groups/"+gid, nil, raw(ttoken)).want(t, 200).json(t)["result"].(map[string]any)
		if len(g["members"].(map[string]any)) != 3 || g["name"] != "Team" {
			t.Fatalf("the group after a join: %v", g)
		}
		e.do("PUT", api+"groups/"+gid, map[string]string{"group_name": "Renamed"}, raw(atoken)).want(t, 403)
		e.do("PUT", api+"groups/"+gid, map[string]string{"group_name": "Renamed"}, raw(otoken)).want(t, 200)
		e.do("PUT", api+"groups/"+gid+"/attributes", map[string]any{"attributes": map[string]any{"topic": "release"}}, raw(otoken)).want(t, 200)
		if g := e.do("GET", api+"groups/"+gid, nil, raw(atoken)).want(t, 200).json(t)["result"].(map[string]any); g["name"] != "Renamed" ||
			g["attributes"].(map[string]any)["topic"] != "release" {
			t.Fatalf("the group renamed, its attributes set: %v", g)
		}

		// A member leaves: it is told, the group leaves its list, it gets no more.
		e.do("DELETE", api+"groups/"+gid+"/members/"+auid, nil, raw(atoken)).want(t, 200)
		agent.next("Agent Test removed from group")
		agent.topic("apps/tilechat/users/" + auid + "/archived_conversations/" + gid + "/clientadded")
		owner.sendGroup(gid, "after the agent left", "t-g2")
		thirdClient.next("after the agent left")
		agent.none("after the agent left")
		conversations := func(uid, token string) []any {
			return e.do("GET", api+uid+"/conversations", nil, raw(token)).want(t, 200).json(t)["result"].([]any)
		}
		if list := conversations(tuid, ttoken); len(list) != 1 || list[0].(map[string]any)["conversWith"] != gid ||
			list[0].(map[string]any)["text"] != "after the agent left" || list[0].(map[string]any)["channel_type"] != "group" {
			t.Fatalf("a member's conversations: %v", list)
		}
		if list := conversations(auid, atoken); len(list) != 0 {
			t.Fatalf("the conversations of one who left: %v", list)
		}
		msgs := e.do("GET", api+tuid+"/conversations/"+gid+"/messages", nil, raw(ttoken)).want(t, 200).json(t)["result"].([]any)
		if len(msgs) < 5 || msgs[0].(map[string]any)["text"] != "after the agent left" {
			t.Fatalf("the group's messages, newest first: %v", msgs)
		}
		// Setting the members: the agent is back with the history, the third is out.
		e.do("PUT", api+"groups/"+gid+"/members", map[string]any{"members": map[string]int{ouid: 1, auid: 1}}, raw(otoken)).want(t, 200)
		if h := agent.next("after the agent left"); h["__history"] != "true" {
			t.Fatalf("the history given on being set a member: %v", h)
		}
		thirdClient.topic("apps/tilechat/users/" + tuid + "/archived_conversations/" + gid + "/clientadded")
		e.do("PUT", api+"groups/"+gid+"/members", map[string]any{"members": map[string]int{ouid: 1, auid: 1}}, raw(otoken)).want(t, 200)
	})
}

// TestChat21GroupRules: a group is made among teammates of one project only, with an id of its
// own; visitors make none; bad input names its field.
func TestChat21GroupRules(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newChatEnvOn(t, engine, nil)
		ouid, otoken := e.chat21Token(e.owner.basic())
		api := "/chatapi/api/tilechat/"
		raw := func(token string) cred { return header("Authorization", token) }
		stranger := e.signup("Stranger")
		e.createProject(stranger, "Elsewhere")
		suid, stoken := e.chat21Token(stranger.basic())
		e.do("POST", api+"groups", map[string]any{"group_name": "Mixed", "group_members": map[string]int{suid: 1}}, raw(otoken)).want(t, 422)
		e.do("POST", api+"groups", map[string]any{"group_members": map[string]int{}}, raw(otoken)).want(t, 422)
		e.do("POST", api+"groups", map[string]any{"group_name": "No members"}, raw(otoken)).want(t, 422)
		e.do("POST", api+"groups", map[string]any{"group_name": "Bad id", "group_id": "team", "group_members": map[string]int{}}, raw(otoken)).want(t, 422)
		e.do("POST", api+"groups", map[string]any{"group_name": "Mine", "group_id": "group-mine", "group_members": map[string]int{}}, raw(otoken)).want(t, 200)
		e.do("POST", api+"groups", map[string]any{"group_name": "Taken", "group_id": "group-mine", "group_members": map[string]int{}}, raw(stoken)).want(t, 409)
		e.do("POST", "/chatapi/api/otherapp/groups", map[string]any{"group_name": "App", "group_members": map[string]int{}}, raw(otoken)).want(t, 404)
		guestToken, _ := e.guest(e.pid)
		_, vtoken := e.chat21Token(jwtCred(guestToken))
		e.do("POST", api+"groups", map[string]any{"group_name": "Visitors", "group_members": map[string]int{}}, raw(vtoken)).want(t, 403)
		// A stranger neither joins, nor reads, nor changes it.
		e.do("POST", api+"groups/group-mine/members", map[string]string{"member_id": suid}, raw(otoken)).want(t, 422)
		e.do("GET", api+"groups/group-mine", nil, raw(stoken)).want(t, 404)
		e.do("PUT", api+"groups/group-mine", map[string]string{"group_name": "Mine now"}, raw(stoken)).want(t, 404)
		e.do("DELETE", api+"groups/group-mine/members/"+ouid, nil, raw(stoken)).want(t, 404)
		e.do("PUT", api+"groups/group-mine/attributes", map[string]any{"attributes": "no"}, raw(otoken)).want(t, 422)

		// Setting the members a group has changes nothing, and logs nothing.
		auid, atoken := e.chat21Token(e.agent.basic())
		e.do("POST", api+"groups", map[string]any{"group_name": "Pair", "group_id": "group-pair", "group_members": map[string]int{auid: 1}}, raw(otoken)).want(t, 200)
		before := len(e.events(e.pid))
		e.do("PUT", api+"groups/group-pair/members", map[string]any{"members": map[string]int{ouid: 1, auid: 1}}, raw(otoken)).want(t, 200)
		if after := e.events(e.pid); len(after) != before {
			t.Fatalf("setting the same members logged %v", after[before:])
		}

		// A member who leaves the project has no part in its groups any more.
		agent := e.chat21Connect(auid, atoken)
		owner := e.chat21Connect(ouid, otoken)
		e.do("POST", api+"groups/group-mine/members", map[string]string{"member_id": auid}, raw(otoken)).want(t, 200)
		owner.sendGroup("group-mine", "before leaving the project", "t-1")
		agent.next("before leaving the project")
		for _, pu := range e.do("GET", "/"+e.pid+"/project_users", nil, e.owner.jwt()).want(t, 200).list(t) {
			if pu := pu.(map[string]any); pu["id_user"].(map[string]any)["_id"] == auid {
				e.do("DELETE", "/"+e.pid+"/project_users/"+pu["_id"].(string), nil, e.owner.jwt()).want(t, 200)
			}
		}
		owner.sendGroup("group-mine", "after leaving the project", "t-2")
		owner.next("after leaving the project")
		agent.none("after leaving the project")
		e.do("GET", api+"groups/group-mine", nil, raw(atoken)).want(t, 404)
		e.do("GET", api+auid+"/conversations/group-mine/messages", nil, raw(atoken)).want(t, 404)
	})
}
