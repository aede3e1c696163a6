package api

import (
	"sync"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

const lastOwnerBody = `{"success":false,"msg":"The project must keep an active owner: make another member owner first."}`

// activeOwnerCount counts the project's active owners through the API.
func (e *testEnv) activeOwnerCount(pid string, owner account) int {
	return len(e.do("GET", "/"+pid+"/project_users?role=owner", nil, owner.jwt()).want(e.t, 200).list(e.t))
}

// TestOwnersCannotVanish: no change through the API leaves a project without an active owner, and
// of two owners demoting each other at the same moment one stays, on both engines.
func TestOwnersCannotVanish(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		a, b := e.signup("OwnerA"), e.signup("OwnerB")
		pid := e.createProject(a, "Owned")
		aPU := e.do("GET", "/"+pid+"/project_users/me", nil, a.jwt()).want(t, 200).list(t)[0].(map[string]any)["_id"].(string)
		for _, body := range []string{`{"role":"agent"}`, `{"status":"disabled"}`} {
			e.do("PUT", "/"+pid+"/project_users/"+aPU, body, a.jwt()).wantBody(t, 409, lastOwnerBody)
		}
		for _, q := range []string{"", "?soft=true", "?hard=true"} {
			e.do("DELETE", "/"+pid+"/project_users/"+aPU+q, nil, a.jwt()).wantBody(t, 409, lastOwnerBody)
		}
		e.do("DELETE", "/"+pid+"/project_users/me", nil, a.jwt()).wantBody(t, 409, lastOwnerBody)
		if n := e.activeOwnerCount(pid, a); n != 1 {
			t.Fatalf("%d active owners after refused changes", n)
		}

		// Two owners demote each other at once, many times over (a project each): one always stays.
		for round := 0; round < 8; round++ {
			pid := e.createProject(a, "Race")
			aPU := e.do("GET", "/"+pid+"/project_users/me", nil, a.jwt()).want(t, 200).list(t)[0].(map[string]any)["_id"].(string)
			bPU := e.join(a, b, pid, tiledesk.RoleAdmin)
			e.do("PUT", "/"+pid+"/project_users/"+bPU, `{"role":"owner"}`, a.jwt()).want(t, 200)
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i, call := range []struct {
				by     account
				target string
			}{{a, bPU}, {b, aPU}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = e.do("PUT", "/"+pid+"/project_users/"+call.target, `{"role":"agent"}`, call.by.jwt()).status
				}()
			}
			wg.Wait()
			survivor := a
			if statuses[0] != 200 {
				survivor = b
			}
			if n := e.activeOwnerCount(pid, survivor); n != 1 {
				t.Fatalf("round %d: answers %v left %d active owners, want 1", round, statuses, n)
			}
		}
	})
}

// TestLeaveProject: any teammate may remove its own membership with DELETE /:pid/project_users/me,
// after which it is no longer a member; the last active owner may not; visitors may not use it.
func TestLeaveProject(t *testing.T) {
	e := newEnv(t)
	owner, agent, second := e.signup("Owner"), e.signup("Agent"), e.signup("Second")
	pid := e.createProject(owner, "Team")
	agentPU := e.join(owner, agent, pid, tiledesk.RoleAgent)
	r := e.do("DELETE", "/"+pid+"/project_users/me", nil, agent.jwt()).want(t, 200)
	if pu := r.json(t); pu["_id"] != agentPU || pu["id_user"].(map[string]any)["_id"] != agent.id {
		t.Fatalf("leave answered %s, want the agent's membership", r.body)
	}
	e.do("GET", "/"+pid+"/project_users", nil, agent.jwt()).want(t, 403)
	e.do("GET", "/"+pid+"/project_users/"+agentPU, nil, owner.jwt()).want(t, 404)
	e.do("DELETE", "/"+pid+"/project_users/me", nil, agent.jwt()).want(t, 403)
	if ev := e.events(pid); !containsName(ev, tiledesk.EventProjectUserDelete) {
		t.Fatalf("events = %v", ev)
	}
	e.join(owner, agent, pid, tiledesk.RoleAgent) // whoever left can be invited again

	guest, _ := e.guest(pid)
	e.do("DELETE", "/"+pid+"/project_users/me", nil, header("Authorization", guest)).want(t, 403)

	e.do("DELETE", "/"+pid+"/project_users/me", nil, owner.jwt()).wantBody(t, 409, lastOwnerBody)
	secondPU := e.join(owner, second, pid, tiledesk.RoleAdmin)
	e.do("PUT", "/"+pid+"/project_users/"+secondPU, `{"role":"owner"}`, owner.jwt()).want(t, 200)
	e.do("DELETE", "/"+pid+"/project_users/me", nil, owner.jwt()).want(t, 200)
	e.do("GET", "/"+pid+"/project_users", nil, owner.jwt()).want(t, 403)
	if n := e.activeOwnerCount(pid, second); n != 1 {
		t.Fatalf("%d active owners after the first owner left", n)
	}
}
