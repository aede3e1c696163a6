package api

import (
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func TestRequestDeleteByID(t *testing.T) {
	e := newEnv(t)
	owner, agent := e.signup("Owner"), e.signup("Alex")
	pid := e.createProject(owner, "Shop")
	e.join(owner, agent, pid, tiledesk.RoleAgent)
	rid := "support-group-" + pid + "-bye"
	m := e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]string{"text": "delete me"}, owner.jwt()).want(t, 200).json(t)
	id := m["request"].(map[string]any)["_id"].(string)

	e.do("DELETE", "/"+pid+"/requests/id/"+id, nil, agent.jwt()).want(t, 403)
	e.do("DELETE", "/"+pid+"/requests/id/not-an-id", nil, owner.jwt()).want(t, 404)
	e.do("DELETE", "/"+pid+"/requests/id/6650a1e9c2b7e2a1d4f00001", nil, owner.jwt()).want(t, 404)
	golden(t, "request-delete-by-id", e.do("DELETE", "/"+pid+"/requests/id/"+id, nil, owner.jwt()).want(t, 200))
	e.do("GET", "/"+pid+"/requests/"+rid, nil, owner.jwt()).want(t, 404)
	e.do("GET", "/"+pid+"/requests/"+rid+"/messages", nil, owner.jwt()).want(t, 404)
	if evs := e.events(pid); evs[len(evs)-1] != tiledesk.EventRequestDelete {
		t.Fatalf("the last event is %s, not request.delete", evs[len(evs)-1])
	}
	e.do("DELETE", "/"+pid+"/requests/id/"+id, nil, owner.jwt()).want(t, 404)
}
