package api

import (
	"context"
	"errors"
	"net/http/httptest"
	"regexp"
	"testing"
)

func TestETag(t *testing.T) {
	a, b := etag([]byte(`{"a":1}`)), etag([]byte(`{"a":2}`))
	if !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(a) || a == b || a != etag([]byte(`{"a":1}`)) {
		t.Fatalf("etag: %s %s", a, b)
	}
}

func TestCheckIfMatch(t *testing.T) {
	cur := etag([]byte("current"))
	for _, tc := range []struct {
		ifMatch []string
		ok      bool
	}{
		{nil, true},
		{[]string{"*"}, true},
		{[]string{cur}, true},
		{[]string{`"other", ` + cur}, true},
		{[]string{`"other"`, cur}, true},
		{[]string{`"other"`}, false},
		{[]string{"W/" + cur}, false}, // If-Match compares strongly
		{[]string{""}, false},
	} {
		r := httptest.NewRequest("PUT", "/x", nil)
		for _, v := range tc.ifMatch {
			r.Header.Add("If-Match", v)
		}
		err := checkIfMatch(r, cur)
		if (err == nil) != tc.ok {
			t.Errorf("If-Match %q: %v, want ok=%v", tc.ifMatch, err, tc.ok)
		}
		var ae *apiError
		if err != nil && (!errors.As(err, &ae) || ae.status != 412) {
			t.Errorf("If-Match %q: %v, want a 412", tc.ifMatch, err)
		}
	}
	// Through writeError, the 412 is JSON with a code.
	e := newEnv(t)
	w := httptest.NewRecorder()
	e.srv.writeError(w, httptest.NewRequest("PUT", "/", nil), errPrecondition)
	if w.Code != 412 || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("412 = %d %v", w.Code, w.Header())
	}
}

func TestConditionalGet(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	pid := e.createProject(a, "P")
	list := "/" + pid + "/departments"

	first := e.do("GET", list, nil).want(t, 200)
	tag := first.header.Get("ETag")
	if tag != etag(first.body) {
		t.Fatalf("ETag %q is not the tag of the body", tag)
	}
	for _, inm := range []string{tag, "W/" + tag, `"stale", ` + tag, "*"} {
		r := e.do("GET", list, nil, header("If-None-Match", inm))
		if r.status != 304 || len(r.body) != 0 || r.header.Get("ETag") != tag {
			t.Fatalf("If-None-Match %s = %d %q ETag %q, want an empty 304", inm, r.status, r.body, r.header.Get("ETag"))
		}
	}
	if r := e.do("GET", list, nil, header("If-None-Match", `"stale"`)); r.status != 200 || len(r.body) == 0 {
		t.Fatalf("stale If-None-Match = %d", r.status)
	}
	// A change gives a new tag, and the old one no longer matches.
	created := e.do("POST", list, `{"name":"Sales"}`, a.jwt()).want(t, 200)
	if created.header.Get("ETag") != "" {
		t.Fatal("a POST answer carries an ETag")
	}
	r := e.do("GET", list, nil, header("If-None-Match", tag)).want(t, 200)
	if r.header.Get("ETag") == tag {
		t.Fatal("the list changed but its ETag did not")
	}
	// Single objects too; and etagOf gives handlers the same tag as a GET, for If-Match.
	id := created.json(t)["_id"].(string)
	one := e.do("GET", list+"/"+id, nil).want(t, 200)
	d, err := e.store.FindDepartmentByID(context.Background(), pid, id)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := etagOf(toDepartment(d)); one.header.Get("ETag") != want {
		t.Fatalf("GET ETag %q, etagOf %q", one.header.Get("ETag"), want)
	}
	if r := e.do("GET", list+"/"+id, nil, header("If-None-Match", one.header.Get("ETag"))); r.status != 304 {
		t.Fatalf("If-None-Match on an object = %d", r.status)
	}
	// Errors carry no tag.
	if r := e.do("GET", list+"/000000000000000000000000", nil); r.status != 404 || r.header.Get("ETag") != "" {
		t.Fatalf("404 = %d ETag %q", r.status, r.header.Get("ETag"))
	}
}
