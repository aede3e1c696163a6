package api

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func TestGroups(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner, agent, outsider := e.signup("Owner"), e.signup("Alex"), e.signup("Out")
		pid := e.createProject(owner, "Shop")
		e.join(owner, agent, pid, tiledesk.RoleAgent)
		visitor, visitorID := e.guest(pid)
		base := "/" + pid + "/groups"

		r := e.do("POST", base, map[string]any{"name": "VIP desk", "members": []string{agent.id, strings.ToUpper(agent.id)},
			"attributes": map[string]any{"floor": 2}}, owner.jwt()).want(t, 200)
		golden(t, "group-create", r)
		g := r.json(t)
		id := g["_id"].(string)
		if len(g["members"].([]any)) != 1 || g["enabled"] != true {
			t.Fatalf("new group %v", g)
		}
		for why, members := range map[string][]string{"not a member": {outsider.id}, "a visitor": {visitorID}, "not an id": {"bob"}} {
			if r := e.do("POST", base, map[string]any{"name": "X", "members": members}, owner.jwt()).want(t, 422); !strings.Contains(string(r.body), `"param":"members"`) {
				t.Errorf("members %s: %s", why, r.body)
			}
		}
		e.do("POST", base, map[string]any{"members": []string{}}, owner.jwt()).want(t, 422)
		// Agents read groups; only admins change them (a group opens restricted conversations).
		e.do("POST", base, map[string]any{"name": "Mine"}, agent.jwt()).want(t, 403)
		e.do("PUT", base+"/"+id, map[string]any{"members": []string{agent.id, owner.id}}, agent.jwt()).want(t, 403)
		e.do("GET", base, nil, jwtCred(visitor)).want(t, 403)
		if l := e.do("GET", base+"?member="+agent.id, nil, agent.jwt()).want(t, 200).list(t); len(l) != 1 {
			t.Fatalf("groups of the agent: %v", l)
		}
		if l := e.do("GET", base+"?member="+owner.id, nil, agent.jwt()).want(t, 200).list(t); len(l) != 0 {
			t.Fatalf("groups of the owner: %v", l)
		}
		m := e.do("PUT", base+"/"+id, map[string]any{"name": "VIP", "members": []string{agent.id, owner.id}}, owner.jwt()).want(t, 200).json(t)
		if m["name"] != "VIP" || len(m["members"].([]any)) != 2 {
			t.Fatalf("updated group %v", m)
		}
		if m := e.do("PUT", base+"/disable/"+id, nil, owner.jwt()).want(t, 200).json(t); m["enabled"] != false {
			t.Fatalf("disabled group %v", m)
		}
		if m := e.do("PUT", base+"/enable/"+id, nil, owner.jwt()).want(t, 200).json(t); m["enabled"] != true {
			t.Fatalf("enabled group %v", m)
		}
		golden(t, "group-get", e.do("GET", base+"/"+id, nil, agent.jwt()).want(t, 200))

		// A group a department routes to cannot be deleted; otherwise it is trashed, or with
		// force=true removed.
		dept := e.do("POST", "/"+pid+"/departments", map[string]string{"name": "VIP", "id_group": id}, owner.jwt()).want(t, 200).json(t)
		r = e.do("DELETE", base+"/"+id, nil, owner.jwt()).want(t, 403)
		if !strings.Contains(string(r.body), "VIP") {
			t.Fatalf("delete of a used group: %s", r.body)
		}
		e.do("PUT", "/"+pid+"/departments/"+dept["_id"].(string), map[string]any{"name": "VIP", "id_group": nil}, owner.jwt()).want(t, 200)
		r = e.do("DELETE", base+"/"+id, nil, owner.jwt()).want(t, 200)
		if m := r.json(t); m["success"] != true || m["message"] != "Group successfully deleted" {
			t.Fatalf("delete answered %v", m)
		}
		if l := e.do("GET", base, nil, owner.jwt()).want(t, 200).list(t); len(l) != 0 {
			t.Fatalf("a trashed group is listed: %v", l)
		}
		if m := e.do("GET", base+"/"+id, nil, owner.jwt()).want(t, 200).json(t); m["trashed"] != true {
			t.Fatalf("the trashed group %v", m)
		}
		e.do("DELETE", base+"/"+id+"?force=true", nil, owner.jwt()).want(t, 200)
		e.do("GET", base+"/"+id, nil, owner.jwt()).want(t, 404)
		if evs := e.events(pid); evs[len(evs)-1] != tiledesk.EventGroupDelete || !slices.Contains(evs, tiledesk.EventGroupCreate) {
			t.Fatalf("groups log %v", evs)
		}
	})
}

func TestTagLibrary(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner, agent := e.signup("Owner"), e.signup("Alex")
		pid := e.createProject(owner, "Shop")
		e.join(owner, agent, pid, tiledesk.RoleAgent)
		visitor, _ := e.guest(pid)
		base := "/" + pid + "/tags"

		r := e.do("POST", base+"/", map[string]any{"tag": "refund", "color": "#43B1F2"}, agent.jwt()).want(t, 200)
		golden(t, "tag-create", r)
		id := r.json(t)["_id"].(string)
		// A name the library has answers the existing tag.
		if again := e.do("POST", base, map[string]any{"tag": "refund", "color": "#000000"}, owner.jwt()).want(t, 200).json(t); again["_id"] != id || again["color"] != "#43B1F2" {
			t.Fatalf("a duplicate answered %v", again)
		}
		e.do("POST", base, map[string]any{"tag": "x", "color": "red; background: url(x)"}, agent.jwt()).want(t, 422)
		// An empty name is named once, though two checks read it.
		if errs := e.do("POST", base, map[string]any{"tag": " ", "color": "#fff"}, agent.jwt()).want(t, 422).json(t)["errors"].([]any); len(errs) != 1 {
			t.Fatalf("an empty tag's errors: %v", errs)
		}
		e.do("POST", base, map[string]any{"tag": "x"}, jwtCred(visitor)).want(t, 403)
		e.clock.Add(1e9)
		e.do("POST", base, map[string]any{"tag": "billing"}, agent.jwt()).want(t, 200)
		names := func(query string) (out []string) {
			for _, v := range e.do("GET", base+query, nil, agent.jwt()).want(t, 200).list(t) {
				out = append(out, v.(map[string]any)["tag"].(string))
			}
			return out
		}
		if got := strings.Join(names(""), ","); got != "billing,refund" {
			t.Fatalf("newest first: %s", got)
		}
		if got := strings.Join(names("?sort=tag&direction=1"), ","); got != "billing,refund" {
			t.Fatalf("by name: %s", got)
		}
		if got := names("?page=1"); len(got) != 0 {
			t.Fatalf("the second page of two tags: %v", got)
		}
		e.do("GET", base+"?sort=color", nil, agent.jwt()).want(t, 400)
		e.do("PUT", base+"/"+id, map[string]any{"tag": "billing"}, agent.jwt()).want(t, 409)
		if m := e.do("PUT", base+"/"+id, map[string]any{"tag": "refunds", "color": "#fff"}, agent.jwt()).want(t, 200).json(t); m["tag"] != "refunds" || m["color"] != "#fff" {
			t.Fatalf("renamed tag %v", m)
		}
		e.do("DELETE", base+"/"+id, nil, agent.jwt()).want(t, 200)
		e.do("GET", base+"/"+id, nil, agent.jwt()).want(t, 404)
		if evs := e.events(pid); evs[len(evs)-1] != tiledesk.EventTagDelete {
			t.Fatalf("the tag library logs %v", evs)
		}
	})
}

// TestGroupRoutingAndVisibility: a department restricted to a group routes to the group's members
// only, and its conversations are open to them (not to other agents) while the group is enabled.
func TestGroupRoutingAndVisibility(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner, ann, bob := e.signup("Owner"), e.signup("Ann"), e.signup("Bob")
		pid := e.createProject(owner, "Shop")
		e.join(owner, ann, pid, tiledesk.RoleAgent)
		e.join(owner, bob, pid, tiledesk.RoleAgent)
		e.do("PUT", "/"+pid+"/project_users", map[string]any{"user_available": false}, owner.jwt()).want(t, 200)
		group := e.do("POST", "/"+pid+"/groups", map[string]any{"name": "VIP", "members": []string{ann.id}}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
		dept := e.do("POST", "/"+pid+"/departments", map[string]any{"name": "VIP desk", "routing": "assigned", "id_group": group},
			owner.jwt()).want(t, 200).json(t)["_id"].(string)

		start := func(name string) map[string]any {
			visitor, _ := e.guest(pid)
			return e.do("POST", "/"+pid+"/requests/support-group-"+pid+"-"+name+"/messages", map[string]any{"text": "Hi", "departmentid": dept},
				jwtCred(visitor)).want(t, 200).json(t)["request"].(map[string]any)
		}
		for _, name := range []string{"a", "b", "c"} {
			if r := start(name); len(r["participants"].([]any)) != 1 || r["participants"].([]any)[0] != ann.id {
				t.Fatalf("a conversation of the group's department went to %v, not its only member", r["participants"])
			}
		}
		// Ann away: nobody of the group is available, the conversation waits; Ann sees it as a
		// member of the group, Bob does not.
		e.do("PUT", "/"+pid+"/project_users", map[string]any{"user_available": false}, ann.jwt()).want(t, 200)
		waiting := start("waiting")
		if len(waiting["participants"].([]any)) != 0 {
			t.Fatalf("with its member away the conversation went to %v", waiting["participants"])
		}
		rid := waiting["request_id"].(string)
		e.do("GET", "/"+pid+"/requests/"+rid, nil, ann.jwt()).want(t, 200)
		e.do("GET", "/"+pid+"/requests/"+rid, nil, bob.jwt()).want(t, 404)
		listed := func(who account) bool {
			for _, r := range e.do("GET", "/"+pid+"/requests?status=all", nil, who.jwt()).want(t, 200).json(t)["requests"].([]any) {
				if r.(map[string]any)["request_id"] == rid {
					return true
				}
			}
			return false
		}
		if !listed(ann) || listed(bob) {
			t.Fatalf("listed by the member %v, by another agent %v", listed(ann), listed(bob))
		}
		// A disabled group opens nothing and routes to nobody.
		e.do("PUT", "/"+pid+"/groups/disable/"+group, nil, owner.jwt()).want(t, 200)
		e.do("GET", "/"+pid+"/requests/"+rid, nil, ann.jwt()).want(t, 404)
		e.do("PUT", "/"+pid+"/project_users", map[string]any{"user_available": true}, ann.jwt()).want(t, 200)
		if r := start("disabled"); len(r["participants"].([]any)) != 0 {
			t.Fatalf("a disabled group's department routed to %v", r["participants"])
		}
		// Enabled again with Bob in it: Bob sees the waiting conversation.
		e.do("PUT", "/"+pid+"/groups/"+group, map[string]any{"members": []string{ann.id, bob.id}}, owner.jwt()).want(t, 200)
		e.do("PUT", "/"+pid+"/groups/enable/"+group, nil, owner.jwt()).want(t, 200)
		e.do("GET", "/"+pid+"/requests/"+rid, nil, bob.jwt()).want(t, 200)
	})
}

// TestTagRenameCarried: renaming a library tag renames it on the conversations and leads that
// carry it, in the background; a second rename waits until the first is carried.
func TestTagRenameCarried(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		defer e.srv.waitTagRenames()
		defer e.srv.stop()
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Shop")
		tag := e.do("POST", "/"+pid+"/tags", map[string]any{"tag": "refund", "color": "#ff0000"}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
		visitor, _ := e.guest(pid)
		var rids []string
		for _, name := range []string{"a", "b"} {
			rid := "support-group-" + pid + "-" + name
			e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "Hi"}, jwtCred(visitor)).want(t, 200)
			e.do("PUT", "/"+pid+"/requests/"+rid+"/tag", []map[string]string{{"tag": "refund"}, {"tag": "vip"}}, owner.jwt()).want(t, 200)
			rids = append(rids, rid)
		}
		e.do("PUT", "/"+pid+"/requests/"+rids[1]+"/tag", []map[string]string{{"tag": "refunds"}}, owner.jwt()).want(t, 200)
		lead := e.do("POST", "/"+pid+"/leads", map[string]any{"fullname": "Ann", "tags": []string{"refund", "new"}}, owner.jwt()).want(t, 200).json(t)["_id"].(string)

		e.do("PUT", "/"+pid+"/tags/"+tag, map[string]any{"tag": "refunds", "color": "#00ff00"}, owner.jwt()).want(t, 200)
		tagsOf := func(rid string) (out []string) {
			for _, v := range e.do("GET", "/"+pid+"/requests/"+rid, nil, owner.jwt()).want(t, 200).json(t)["tags"].([]any) {
				out = append(out, v.(map[string]any)["tag"].(string))
			}
			return out
		}
		waitUntil(t, "the rename on conversations and leads", func() bool {
			l := e.do("GET", "/"+pid+"/leads/"+lead, nil, owner.jwt()).want(t, 200).json(t)["tags"].([]any)
			return fmt.Sprint(tagsOf(rids[0])) == "[refunds vip]" && fmt.Sprint(l) == "[refunds new]"
		})
		if got := fmt.Sprint(tagsOf(rids[1])); got != "[vip refunds]" {
			t.Fatalf("a conversation with both names has %s", got)
		}
		if n := e.do("GET", "/"+pid+"/requests?tags=refund&status=all", nil, owner.jwt()).want(t, 200).json(t)["count"]; n != float64(0) {
			t.Fatalf("%v conversations still carry the former name", n)
		}
		// Once carried, the tag renames again.
		waitUntil(t, "the rename to finish", func() bool {
			return e.do("PUT", "/"+pid+"/tags/"+tag, map[string]any{"tag": "refunds"}, owner.jwt()).status == 200 &&
				e.do("PUT", "/"+pid+"/tags/"+tag, map[string]any{"tag": "money back"}, owner.jwt()).status == 200
		})
	})
}

// TestTagRenameResumed: a rename left pending by a process that stopped is carried once the next
// one starts its background work.
func TestTagRenameResumed(t *testing.T) {
	e := newEnv(t)
	defer e.srv.waitTagRenames()
	defer e.srv.stop()
	owner := e.signup("Owner")
	pid := e.createProject(owner, "Shop")
	tag := e.do("POST", "/"+pid+"/tags", map[string]any{"tag": "old"}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
	lead := e.do("POST", "/"+pid+"/leads", map[string]any{"fullname": "Ann", "tags": []string{"old"}}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
	// Renamed in the store alone, as a process stopped before carrying it would leave it.
	if _, err := e.engine.ChangeLibraryTag(context.Background(), pid, tag, func(t *tiledesk.LibraryTag) error { t.Tag = "new"; return nil }); err != nil {
		t.Fatal(err)
	}
	e.srv.StartBackground()
	waitUntil(t, "the resumed rename", func() bool {
		return fmt.Sprint(e.do("GET", "/"+pid+"/leads/"+lead, nil, owner.jwt()).want(t, 200).json(t)["tags"]) == "[new]"
	})
}
