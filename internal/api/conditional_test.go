package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestETag(t *testing.T) {
	a, b := etagOf([]byte(`{"a":1}`)), etagOf([]byte(`{"a":2}`))
	if !regexp.MustCompile(`^"[0-9a-f]{16}"$`).MatchString(a) || a == b || a != etagOf([]byte(`{"a":1}`)) {
		t.Fatalf("etagOf: %s %s", a, b)
	}
}

func TestIfMatch(t *testing.T) {
	render := func(s string) any { return map[string]string{"v": s} }
	body, _ := encodeJSON(render("current"))
	cur := etagOf(body)
	for _, tc := range []struct {
		ifMatch []string
		ok      bool
	}{
		{nil, true},
		{[]string{"*"}, true},
		{[]string{cur}, true},
		{[]string{`"other", ` + cur}, true},
		{[]string{`"other"`, cur}, true}, // every If-Match line counts
		{[]string{`"other"`}, false},
		{[]string{"W/" + cur}, false}, // If-Match compares strongly
	} {
		r := httptest.NewRequest("PUT", "/x", nil)
		for _, v := range tc.ifMatch {
			r.Header.Add("If-Match", v)
		}
		check := ifMatch(r, render)
		if tc.ifMatch == nil {
			if check != nil {
				t.Error("a request without If-Match got a check")
			}
			continue
		}
		err := check("current")
		if (err == nil) != tc.ok {
			t.Errorf("If-Match %q: %v, want ok=%v", tc.ifMatch, err, tc.ok)
		}
		var ae *apiError
		if err != nil && (!errors.As(err, &ae) || ae.status != 412) {
			t.Errorf("If-Match %q: %v, want a 412", tc.ifMatch, err)
		}
	}
}

func TestConditionalGet(t *testing.T) {
	e := newEnv(t)
	a := e.signup("Ann")
	pid := e.createProject(a, "P")
	list := "/" + pid + "/departments"

	first := e.do("GET", list, nil).want(t, 200)
	tag := first.header.Get("ETag")
	if tag != etagOf(first.body) {
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
	if b, _ := encodeJSON(toDepartment(d)); one.header.Get("ETag") != etagOf(b) {
		t.Fatalf("GET ETag %q, the object's tag %q", one.header.Get("ETag"), etagOf(b))
	}
	if r := e.do("GET", list+"/"+id, nil, header("If-None-Match", one.header.Get("ETag"))); r.status != 304 {
		t.Fatalf("If-None-Match on an object = %d", r.status)
	}
	// Errors carry no tag.
	if r := e.do("GET", list+"/000000000000000000000000", nil); r.status != 404 || r.header.Get("ETag") != "" {
		t.Fatalf("404 = %d ETag %q", r.status, r.header.Get("ETag"))
	}
}

// TestEtagWriterWholeThenMore checks that a body handed over whole and then extended is sent and
// tagged as the concatenation, and that the whole body is not copied before that.
func TestEtagWriterWholeThenMore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parts []string
		whole bool
		tag   string // handed over with the whole body
	}{
		{"whole", []string{`{"a":1}`}, true, ""},
		{"whole with its tag", []string{`{"a":1}`}, true, `"kept"`},  // a kept tag is sent as kept, not hashed again
		{"whole then more", []string{`{"a":`, `1}`}, true, `"kept"`}, // no longer the whole body's tag
		{"written", []string{`{"a":`, `1}`}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			w := &etagWriter{ResponseWriter: rec, r: httptest.NewRequest("GET", "/", nil)}
			w.Header().Set("Content-Type", "application/json")
			for i, p := range tc.parts {
				if i == 0 && tc.whole {
					if !w.writeWhole([]byte(p), nil, tc.tag) {
						t.Fatal("writeWhole refused the first body")
					}
					continue
				}
				_, _ = w.Write([]byte(p))
			}
			w.flush()
			want := strings.Join(tc.parts, "")
			wantTag := etagOf([]byte(want))
			if tc.tag != "" && len(tc.parts) == 1 {
				wantTag = tc.tag
			}
			if rec.Body.String() != want || rec.Header().Get("ETag") != wantTag {
				t.Fatalf("sent %q with ETag %s, want %q with %s", rec.Body.String(), rec.Header().Get("ETag"), want, wantTag)
			}
		})
	}
}

// TestReusedBodyGivenBackAfterSending checks that a reused buffer is given back only once its bytes
// are sent (or dropped for a 304), whichever way the answer goes out: held back and tagged, written
// straight through (an error status, a write), or not sent at all. Given back earlier, the next
// answer assembled in it would overwrite this one before it left.
func TestReusedBodyGivenBackAfterSending(t *testing.T) {
	body := `{"leads":[1,2,3]}`
	for _, tc := range []struct {
		name        string
		method      string
		status      int
		ifNoneMatch bool
		wantStatus  int
		wantBody    string
	}{
		{"held back and sent", "GET", 200, false, 200, body},
		{"held back, client has it", "GET", 200, true, 304, ""},
		{"held back, error status written through", "GET", 404, false, 404, body},
		{"not held back", "POST", 200, false, 200, body},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(tc.method, "/", nil)
			if tc.ifNoneMatch {
				r.Header.Set("If-None-Match", etagOf([]byte(body)))
			}
			var w http.ResponseWriter = rec
			var ew *etagWriter
			if tc.method == "GET" {
				ew = &etagWriter{ResponseWriter: rec, r: r}
				w = ew
			}
			rb := takeBody()
			rb.b = append(rb.b, body...)
			given := 0
			sentBefore := ""
			writeRawThen(w, tc.status, rb.b, func() {
				given++
				sentBefore = rec.Body.String()
				rb.give()
			}, "")
			if ew != nil {
				ew.flush()
			}
			if given != 1 {
				t.Fatalf("given back %d times, want once", given)
			}
			if rec.Code != tc.wantStatus || rec.Body.String() != tc.wantBody || sentBefore != tc.wantBody {
				t.Fatalf("status %d body %q (%q when given back), want %d %q", rec.Code, rec.Body.String(), sentBefore, tc.wantStatus, tc.wantBody)
			}
		})
	}
}
