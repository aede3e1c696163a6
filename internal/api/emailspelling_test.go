package api

import (
	"net/url"
	"testing"
)

// TestOneAddressOneSpelling: no character outside ASCII folds into another account's address, on
// either engine: sign-up refuses such addresses, and sign-in, Basic auth, invitations, resets, guests
// and lead filters never take one for another.
func TestOneAddressOneSpelling(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		signup := func(email string) *resp {
			return e.do("POST", "/auth/signup", map[string]string{"email": email, "password": "pw", "firstname": "K", "lastname": "K"})
		}
		signup("kate@example.com").want(t, 200)
		owner := e.signup("Owner")
		pid := e.createProject(owner, "Team")
		spellings := []string{
			"\u212Aate@example.com",       // Kelvin sign: strings.ToLower makes it 'k'
			"\uff4bate@example.com",       // fullwidth k
			"kate@example.\u212Aom",       // in the domain
			"kate@\uff45xample.com",       // fullwidth e in the domain
			"kat\u0435@example.com",       // Cyrillic e
			"kate@EXAMPLE.C\u039fM",       // Greek capital omicron
			"stra\u00dfe@example.com",     // ß in the local part
			"\u0131nci@example.com",       // dotless i
			"kate@B\u00dcCHER.de",         // an IDN domain not in the form IDNA registers
			"\u212Aate@EXAMPLE.COM",       // and in capitals
			"k\u0041\u030Ate@example.com", // combining ring
		}
		for _, s := range spellings {
			r := signup(s)
			if r.status != 422 || r.json(t)["errors"].([]any)[0].(map[string]any)["param"] != "email" {
				t.Errorf("sign-up as %q: %d %s, want 422 naming email", s, r.status, r.body)
			}
			e.do("POST", "/auth/signin", map[string]string{"email": s, "password": "pw"}).want(t, 401)
			e.do("GET", "/users", nil, basicCred(s, "pw")).want(t, 401)
			e.do("POST", "/"+pid+"/project_users/invite", map[string]string{"email": s}, owner.jwt()).want(t, 422)
			e.do("PUT", "/auth/requestresetpsw", map[string]string{"email": s}).want(t, 200)
		}
		if n := len(e.mails.to("kate@example.com")); n != 1 { // its own verification mail, no reset
			t.Fatalf("kate got %d mails from other spellings' requests", n)
		}
		// ASCII capitals are the same address.
		e.do("POST", "/auth/signin", map[string]string{"email": "KATE@Example.COM", "password": "pw"}).want(t, 200)
		signup("Kate@EXAMPLE.com").want(t, 403)

		// An internationalised domain is kept in its IDNA form: one spelling, both ways of writing it.
		r := signup("ann@b\u00fccher.de").want(t, 200)
		if got := r.json(t)["user"].(map[string]any)["email"]; got != "ann@xn--bcher-kva.de" {
			t.Fatalf("stored %v, want the IDNA form", got)
		}
		e.do("POST", "/auth/signin", map[string]string{"email": "ANN@XN--BCHER-KVA.DE", "password": "pw"}).want(t, 200)
		e.do("POST", "/auth/signin", map[string]string{"email": "ann@b\u00fccher.de", "password": "pw"}).want(t, 200)
		signup("ann@xn--bcher-kva.de").want(t, 403)

		// Visitors' addresses are data, not accounts: kept as typed, ASCII letters folded.
		g := e.do("POST", "/auth/signinAnonymously", map[string]string{"id_project": pid, "email": "\u212AATE@Example.com"}).want(t, 200)
		if got := g.json(t)["user"].(map[string]any)["email"]; got != "\u212Aate@example.com" {
			t.Fatalf("guest email = %q", got)
		}
		e.do("POST", "/"+pid+"/leads", map[string]string{"fullname": "Kelvin", "email": "\u212Aate@example.com"}, owner.jwt()).want(t, 200)
		e.do("POST", "/"+pid+"/leads", map[string]string{"fullname": "Kate", "email": "KATE@example.com"}, owner.jwt()).want(t, 200)
		for email, want := range map[string]string{"kate@example.com": "Kate", "\u212Aate@EXAMPLE.com": "Kelvin"} {
			list := e.do("GET", "/"+pid+"/leads?email="+url.QueryEscape(email), nil, owner.jwt()).want(t, 200).json(t)
			leads := list["leads"].([]any)
			if len(leads) != 1 || leads[0].(map[string]any)["fullname"] != want {
				t.Errorf("leads with email %q = %v, want only %s", email, leads, want)
			}
		}
	})
}
