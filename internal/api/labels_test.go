package api

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func TestLabels(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner, agent := e.signup("Owner"), e.signup("Alex")
		pid := e.createProject(owner, "Shop")
		e.join(owner, agent, pid, tiledesk.RoleAgent)
		base := "/" + pid + "/labels"
		title := func(r *resp) any { return r.json(t)["data"].(map[string]any)["WELCOME_TITLE"] }

		// Without texts of its own the project shows the server's, in English.
		e.do("GET", base, nil).wantBody(t, 200, `{}`)
		golden(t, "labels-default-en", e.do("GET", base+"/default/EN", nil).want(t, 200))
		if got := e.do("GET", base+"/default", nil).want(t, 200).list(t); len(got) != 1 {
			t.Fatalf("defaults: %d languages", len(got))
		}
		e.do("GET", base+"/default/FR", nil).want(t, 404)
		if r := e.do("GET", base+"/FR", nil).want(t, 200); r.json(t)["lang"] != "EN" {
			t.Fatalf("FR without texts: %s", r.body)
		}
		e.do("GET", base+"/e!", nil).want(t, 422)

		// The admins write them; anyone reads them.
		e.do("POST", base+"/default/clone", map[string]string{"lang": "IT"}, agent.jwt()).want(t, 403)
		golden(t, "labels-clone", e.do("POST", base+"/default/clone", map[string]string{"lang": "IT"}, owner.jwt()).want(t, 200))
		r := e.do("POST", base, map[string]any{"lang": "FR", "data": map[string]string{"WELCOME_TITLE": "Bonjour"}}, owner.jwt()).want(t, 200)
		if r.json(t)["lang"] != "FR" || title(r) != "Bonjour" || r.json(t)["default"] != false {
			t.Fatalf("FR saved as %s", r.body)
		}
		if r := e.do("GET", base+"/DE", nil).want(t, 200); r.json(t)["lang"] != "IT" {
			t.Fatalf("a language without texts shows the default (IT, the first): %s", r.body)
		}
		e.do("PATCH", base+"/FR/default", nil, owner.jwt()).want(t, 200)
		if r := e.do("GET", base+"/DE", nil).want(t, 200); r.json(t)["lang"] != "FR" {
			t.Fatalf("after PATCH FR/default: %s", r.body)
		}
		e.do("DELETE", base+"/FR", nil, owner.jwt()).wantBody(t, 400, `{"msg":"You can't delete the default language.","success":false}`)
		e.do("DELETE", base+"/IT", nil, owner.jwt()).want(t, 200)
		e.do("DELETE", base+"/IT", nil, owner.jwt()).want(t, 404)
		e.do("PATCH", base+"/IT/default", nil, owner.jwt()).want(t, 404)
		if langs := e.do("GET", base, nil).want(t, 200).json(t)["data"].([]any); len(langs) != 1 {
			t.Fatalf("languages left: %v", langs)
		}

		// Bounds: an entry's size, the number of languages, a body without data.
		e.do("POST", base, map[string]any{"lang": "FR", "data": map[string]string{"X": strings.Repeat("x", tiledesk.MaxLabelEntryBytes)}}, owner.jwt()).want(t, 413)
		e.do("POST", base, map[string]any{"lang": "FR"}, owner.jwt()).want(t, 422)
		for i := 1; i < tiledesk.MaxLabelLanguages; i++ {
			e.do("POST", base, map[string]any{"lang": fmt.Sprintf("x%c%c", 'a'+i/26, 'a'+i%26), "data": map[string]string{}}, owner.jwt()).want(t, 200)
		}
		if r := e.do("POST", base, map[string]any{"lang": "zz", "data": map[string]string{}}, owner.jwt()).want(t, 422); !strings.Contains(string(r.body), `"param":"lang"`) {
			t.Fatalf("one language too many: %s", r.body)
		}

		e.do("DELETE", base, nil, owner.jwt()).want(t, 200)
		e.do("GET", base, nil).wantBody(t, 200, `{}`)
		e.do("DELETE", base, nil, owner.jwt()).want(t, 404)
		if evs := e.events(pid); !slices.Contains(evs, tiledesk.EventLabelsUpdate) || evs[len(evs)-1] != tiledesk.EventLabelsDelete {
			t.Fatalf("events %v", evs)
		}
	})
}
