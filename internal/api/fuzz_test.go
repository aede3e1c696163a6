package api

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/auth"
	"github.com/tiledesk-go/tiledesk/internal/sqlite"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

// Fuzz targets for every decoder of client input. Their seed corpora (the f.Add calls and the files
// under testdata/fuzz/<target>) run in plain `go test`; `go test -fuzz FuzzX ./internal/api` explores.
// The property is the same everywhere: a decoder never panics, and whatever it refuses becomes a
// 4xx answer, never a 5xx.

var fuzzServer = &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}

// wantClientError fails unless err renders as a 4xx.
func wantClientError(t *testing.T, err error, input any) {
	t.Helper()
	rec := httptest.NewRecorder()
	fuzzServer.writeError(rec, httptest.NewRequest("GET", "/", nil), err)
	if rec.Code < 400 || rec.Code > 499 {
		t.Fatalf("input %q: error %v renders as %d %s, want a 4xx", input, err, rec.Code, rec.Body)
	}
}

// exercise calls every typed getter on a decoded body, as handlers do.
func exercise(b *body) {
	b.str("fullname")
	b.requiredStr("name")
	b.email("email")
	b.password("password")
	b.boolean("user_available")
	b.integer("status", 0, 1000)
	b.object("attributes")
	b.boundedObject("properties")
	b.strs("tags")
	b.tags("tags")
	b.array("participants")
	b.oneOf("routing", "pooled", "assigned")
	leadFields(b)
	memberUpdate(b)
}

func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"fullname":"Mario","tags":["a"],"attributes":{"k":[1,{"x":null}]}}`,
		`{"status":1e400}`, `{"email":{"$gt":""}}`, `[1,2]`, `{"a":"\u0000"}`, `{"a":1}{}`, `{"a":`, "\xff\xfe",
		`{"integer":9007199254740993}`, `{"tags":[1]}`, strings.Repeat("[", 40) + strings.Repeat("]", 40)} {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte("email=a%40b.c&password=x&tags=1&tags=2"), "application/x-www-form-urlencoded")
	f.Add([]byte("a=%zz"), "application/x-www-form-urlencoded")
	f.Add([]byte(` {"email":"a@b.c"}`), "application/x-www-form-urlencoded")
	f.Add([]byte("{}"), "text/plain")
	f.Add([]byte("{}"), "application/json; charset=\"")
	f.Fuzz(func(t *testing.T, data []byte, contentType string) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(data))
		r.Header.Set("Content-Type", contentType)
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 64<<10)
		b, err := decodeObject(r)
		if err != nil {
			wantClientError(t, err, data)
			return
		}
		exercise(b)
		if err := b.err(); err != nil {
			wantClientError(t, err, data)
		}
	})
}

func FuzzDecodeValue(f *testing.F) {
	for _, s := range []string{`["a","b"]`, `{"a":1}`, `"x"`, `null`, `[`, `{"a":{"b":{"c":[]}}}`, "[\"\xc3\x28\"]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := httptest.NewRequest("PUT", "/", bytes.NewReader(data))
		r.Header.Set("Content-Type", "application/json")
		v, err := decodeValue(r)
		if err != nil {
			wantClientError(t, err, data)
			return
		}
		if depth(v, 0) > maxDepth {
			t.Fatalf("accepted JSON deeper than %d levels: %q", maxDepth, data)
		}
	})
}

func FuzzLeadListQuery(f *testing.F) {
	for _, s := range []string{"", "page=2&limit=10", "limit=0", "limit=99999999999999999999", "page=-1",
		"sort=fullname&direction=asc", "sortField=email&direction=-1", "sort=;DROP TABLE leads", "direction=sideways",
		"full_text=mar%20ros", "email=%27%20OR%201%3D1%20--", "email[$gt]=", "tags=a&tags=b", "status=all",
		"status=1000", "status=7", "no_count=true", "no_count=maybe", "updated_since=2024-05-24T14:02:24.512Z",
		"updated_since=yesterday", "updated_since=2024-05-24T14:02:24Z&sort=fullname", "cursor=eyJzIjoiY3JlYXRlZEF0In0",
		"cursor=!!!", "page=1&cursor=eyJzIjoiX2lkIiwiaSI6IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMCJ9", "with_email=1&with_fullname=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = rawQuery
		filter, limit, err := leadListQuery(r)
		if err != nil {
			wantClientError(t, err, rawQuery)
			return
		}
		if limit < 1 || limit > leadsList.maxLimit || filter.Limit != limit || filter.Offset < 0 {
			t.Fatalf("query %q: limit %d, filter limit %d, offset %d", rawQuery, limit, filter.Limit, filter.Offset)
		}
		if !tiledesk.IsLeadSort(filter.Sort) || filter.After != nil && !tiledesk.IsLeadSort(filter.After.Sort) {
			t.Fatalf("query %q: sort %q reaches the store", rawQuery, filter.Sort)
		}
	})
}

func FuzzDecodeCursor(f *testing.F) {
	for _, c := range []*tiledesk.Cursor{
		{Sort: tiledesk.LeadSortCreatedAt, Desc: true, Value: int64(1716559344512), ID: "6650a1b2c3d4e5f601234567"},
		{Sort: tiledesk.LeadSortFullname, Value: "Mário", ID: "6650a1b2c3d4e5f601234567"},
		{Sort: tiledesk.LeadSortID, ID: "6650A1B2C3D4E5F601234567"},
	} {
		f.Add(*encodeCursor(c))
	}
	for _, s := range []string{"", "e30", "eyJzIjoiY3JlYXRlZEF0IiwidiI6IngiLCJpIjoiNjY1MGExYjJjM2Q0ZTVmNjAxMjM0NTY3In0", "%%%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			return
		}
		if !tiledesk.IsID(c.ID) {
			t.Fatalf("cursor %q decoded with id %q", s, c.ID)
		}
		again, err := decodeCursor(*encodeCursor(c))
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("cursor %q: %+v does not survive a round trip (%+v, %v)", s, c, again, err)
		}
	})
}

// FuzzTimeCursor: whatever the reflection-free reader of time cursors accepts, encoding/json reads
// as the same cursor.
func FuzzTimeCursor(f *testing.F) {
	for _, c := range []*tiledesk.Cursor{
		{Sort: tiledesk.LeadSortCreatedAt, Desc: true, Value: int64(1716559344512), ID: "6650a1b2c3d4e5f601234567"},
		{Sort: tiledesk.LeadSortUpdatedAt, Value: int64(-5), ID: "6650A1B2C3D4E5F601234567"},
		{Sort: tiledesk.LeadSortCreatedAt, Value: int64(0), ID: "x"},
	} {
		f.Add(appendCursorJSON(nil, c))
	}
	for _, s := range []string{`{"s":"createdAt","v":01,"i":"a"}`, `{"s":"createdAt","v":-0,"i":"a"}`,
		`{"s":"createdAt","v":1,"i":"a\"b"}`, `{"s":"createdAt","v":1,"i":"a"} `, `{"s":"createdAt","d":false,"v":1,"i":"a"}`,
		`{"s":"updatedAt","v":1e3,"i":"a"}`, `{"s":"createdAt","v":1,"i":"\u0041"}`, `{"s":"createdAt","v":1,"i":"a\x"}`,
		`{"s":"createdAt","v":123456789012345678,"i":"a"}`, `{"s":"createdAt","v":1,"i":"\xff"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fast, ok := parseTimeCursor(raw)
		if !ok {
			return
		}
		want, err := cursorFromJSON(raw)
		if err != nil || !reflect.DeepEqual(fast, want) {
			t.Fatalf("%q: read as %+v, encoding/json reads %+v (%v)", raw, fast, want, err)
		}
	})
}

var idPattern = regexp.MustCompile(`^[0-9a-fA-F]{24}$`)

func FuzzPathID(f *testing.F) {
	for _, s := range []string{"6650a1b2c3d4e5f601234567", "6650A1B2C3D4E5F601234567", "zzz", "", "../../etc/passwd",
		"6650a1b2c3d4e5f60123456", "6650a1b2c3d4e5f6012345678", "6650a1b2c3d4e5f60123456\x00", "６650a1b2c3d4e5f60123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.SetPathValue("id", s)
		id, err := pathID(r, "id")
		if idPattern.MatchString(s) != (err == nil) {
			t.Fatalf("pathID(%q) = %q, %v; the id format says %v", s, id, err, idPattern.MatchString(s))
		}
		if err != nil {
			wantClientError(t, err, s)
		} else if id != strings.ToLower(s) {
			t.Fatalf("pathID(%q) = %q", s, id)
		}
	})
}

func FuzzDecodeForm(f *testing.F) {
	for _, s := range []string{"a=1&b=2&a=3", "email=andrea.leo%40f21.it&password=123456", "x=%00", "x=%ff", "%", "a=b;c=d", "=&=&"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := decodeForm(raw)
		if err != nil {
			wantClientError(t, err, raw)
			return
		}
		for k, v := range b.m {
			var vals []any
			switch x := v.(type) {
			case string:
				vals = []any{x}
			case []any:
				vals = x
			default:
				t.Fatalf("form field %q decoded as %T", k, v)
			}
			for _, s := range vals {
				if strings.ContainsRune(s.(string), 0) {
					t.Fatalf("form field %q kept a NUL", k)
				}
			}
		}
		exercise(b)
	})
}

// fuzzStore is a migrated SQLite store of a fuzz target's own.
func fuzzStore(f *testing.F) *sqlstore.Store {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"), sqlite.Options{Synchronous: "OFF"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx, nil); err != nil {
		f.Fatal(err)
	}
	return store
}

// authServer is a server with one user (fuzz@example.com, Passw0rd!) for the authentication target.
func authServer(f *testing.F) *Server {
	ctx := context.Background()
	store := fuzzStore(f)
	hash, _ := auth.HashPassword("Passw0rd!", bcrypt.MinCost)
	now := tiledesk.Now()
	if err := store.CreateUser(ctx, &tiledesk.User{ID: "6650a1b2c3d4e5f601234567", Email: "fuzz@example.com",
		PasswordHash: hash, Firstname: "F", Lastname: "Z", Status: tiledesk.UserActive, CreatedAt: now, UpdatedAt: now}); err != nil {
		f.Fatal(err)
	}
	tokens, err := auth.NewTokens([]byte("fuzz secret of sufficient length"), time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	return New(Config{Store: store, Tokens: tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PasswordCost: bcrypt.MinCost})
}

// FuzzAuthenticate covers the Authorization header (Basic, JWT, Bearer, anything) and ?secret_token=.
func FuzzAuthenticate(f *testing.F) {
	tokens, _ := auth.NewTokens([]byte("fuzz secret of sufficient length"), time.Hour)
	good, _ := tokens.Issue(auth.Claims{ID: "6650a1b2c3d4e5f601234567", Subject: auth.SubjectUser})
	other, _ := auth.NewTokens([]byte("another secret, same length....."), time.Hour)
	forged, _ := other.Issue(auth.Claims{ID: "6650a1b2c3d4e5f601234567", Subject: auth.SubjectUser})
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("fuzz@example.com:Passw0rd!"))
	for _, s := range []string{"JWT " + good, "Bearer " + good, "JWT " + forged, basic, "Basic !!!", "Basic " +
		base64.StdEncoding.EncodeToString([]byte("fuzz@example.com:wrong")), "JWT", "JWT eyJhbGciOiJub25lIn0.e30.",
		"Digest x", "Basic " + base64.StdEncoding.EncodeToString([]byte(":")), "JWT " + good[:len(good)-3]} {
		f.Add(s, "")
		f.Add("", s)
	}
	s := authServer(f)
	f.Fuzz(func(t *testing.T, header, secretToken string) {
		r := httptest.NewRequest("GET", "/testauth", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if secretToken != "" {
			q := r.URL.Query()
			q.Set("secret_token", secretToken)
			r.URL.RawQuery = q.Encode()
		}
		c, err := s.authenticate(r)
		if err != nil {
			if err != errUnauthorized {
				t.Fatalf("authenticate(%q, %q) = %v, want the one 401", header, secretToken, err)
			}
			return
		}
		if c.id != "6650a1b2c3d4e5f601234567" {
			t.Fatalf("authenticate(%q, %q) admitted %q", header, secretToken, c.id)
		}
	})
}

// FuzzVerifyToken holds auth.Verify to its contract on any string: no panic, and a token it accepts
// names a subject and an id.
func FuzzVerifyToken(f *testing.F) {
	tokens, _ := auth.NewTokens([]byte("fuzz secret of sufficient length"), time.Hour)
	good, _ := tokens.Issue(auth.Claims{ID: "u1", Subject: auth.SubjectGuest})
	for _, s := range []string{good, good + "x", strings.Replace(good, ".", "..", 1), "a.b.c", "", "...",
		"eyJhbGciOiJIUzI1NiJ9.eyJfaWQiOiJ4In0.", "eyJhbGciOiJub25lIn0.eyJfaWQiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := tokens.Verify(s)
		if err == nil && (c.ID == "" || c.Subject == "") {
			t.Fatalf("Verify(%q) accepted claims without an id or subject: %+v", s, c)
		}
	})
}

// TestCursorEncodingUnchanged pins the cursor's bytes to what cursorJSON encodes through
// encoding/json, so that cursors handed out before the hand-written encoder stay the same.
func TestCursorEncodingUnchanged(t *testing.T) {
	for _, c := range []*tiledesk.Cursor{
		{Sort: tiledesk.LeadSortCreatedAt, Desc: true, Value: int64(1716559344512), ID: "6650a1b2c3d4e5f601234567"},
		{Sort: tiledesk.LeadSortFullname, Value: "Mário <&> \"quoted\"", ID: "6650a1b2c3d4e5f601234567"},
		{Sort: tiledesk.LeadSortID, ID: "6650a1b2c3d4e5f601234567"},
	} {
		v, _ := json.Marshal(c.Value)
		raw, _ := json.Marshal(cursorJSON{Sort: c.Sort, Desc: c.Desc, Value: v, ID: c.ID})
		want := base64.RawURLEncoding.EncodeToString(raw)
		if got := *encodeCursor(c); got != want {
			t.Errorf("cursor %+v encodes as %s, want %s", c, got, want)
		}
		quoted, _ := json.Marshal(want)
		if got := string(appendCursor(nil, c)); got != string(quoted) {
			t.Errorf("cursor %+v appends as %s, want %s", c, got, quoted)
		}
	}
}

// storedJSON is a server with one of everything that keeps free-form JSON (a project, its owner's
// user and membership, a lead, a conversation with a message, a department), driven without a
// network for FuzzStoredJSON.
type storedJSON struct {
	s                                    *Server
	db                                   *sql.DB
	token, pid, lead, rid, msg, pu, dept string
}

func (x *storedJSON) call(method, path, body string) (int, []byte) {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", x.token)
	w := httptest.NewRecorder()
	x.s.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

func newStoredJSON(f *testing.F) *storedJSON {
	store := fuzzStore(f)
	tokens, _ := auth.NewTokens([]byte("fuzz secret of sufficient length"), time.Hour)
	x := &storedJSON{s: New(Config{Store: store, Tokens: tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PasswordCost: bcrypt.MinCost, MaxBodyBytes: 1 << 20}), db: store.WriteDB()}
	must := func(method, path, body string) map[string]any {
		code, out := x.call(method, path, body)
		var v any
		if code != 200 || json.Unmarshal(out, &v) != nil {
			f.Fatalf("%s %s = %d %s", method, path, code, out)
		}
		if l, ok := v.([]any); ok {
			v = l[0]
		}
		return v.(map[string]any)
	}
	must("POST", "/auth/signup", `{"email":"owner@example.com","password":"Passw0rd!","firstname":"O","lastname":"W"}`)
	x.token = must("POST", "/auth/signin", `{"email":"owner@example.com","password":"Passw0rd!"}`)["token"].(string)
	x.pid = must("POST", "/projects", `{"name":"Fuzz"}`)["_id"].(string)
	p := "/" + x.pid
	x.lead = must("POST", p+"/leads", `{"fullname":"Lead"}`)["_id"].(string)
	x.rid = "support-group-" + x.pid + "-fuzz"
	x.msg = must("POST", p+"/requests/"+x.rid+"/messages", `{"text":"hello"}`)["_id"].(string)
	x.pu = must("GET", p+"/project_users/me", "")["_id"].(string)
	x.dept = must("POST", p+"/departments", `{"name":"Sales"}`)["_id"].(string)
	return x
}

// FuzzStoredJSON writes generated JSON through every route that stores free-form JSON (whole
// fields, merges, dotted settings) and straight into the database, as an older version could have
// stored it, then reads every list and object back. Writes answer 2xx or 4xx, never 5xx; every
// read answers 200.
func FuzzStoredJSON(f *testing.F) {
	for _, s := range []string{`{"plan":"pro","n":[1,2,{"x":null}]}`, `{"__proto__":{"admin":true}}`, `{"a.b":1,"$set":{}}`,
		`{"":1}`, `{"n":1e400}`, `{"n":-1e999,"m":1e-400}`, `{"deep":` + nestedJSON(12, "1") + `}`, objectOfKeys(0, 300, "1"),
		`{"s":"` + strings.Repeat("x", 70<<10) + `"}`, `[1,2]`, `"text"`, `null`, `{"a":`, `{"\u0000":1}`, "{\"\xff\":1}",
		`{"email":{"notification":{"conversation":{"assigned":{"toyou":false}}}}}`} {
		f.Add([]byte(s))
	}
	x := newStoredJSON(f)
	p := "/" + x.pid
	writes := []struct{ method, path, body string }{
		{"PUT", "/projects/" + x.pid, `{"settings":%s,"widget":%[1]s,"timeSlots":%[1]s}`},
		{"PUT", "/projects/" + x.pid, `{"settings.fuzz.value":%s}`},
		{"PUT", "/projects/" + x.pid, `{"operatingHours":%s}`},
		{"PUT", "/users", `{"attributes":%s}`},
		{"POST", "/auth/signinAnonymously", `{"id_project":"` + x.pid + `","attributes":%s}`},
		{"POST", p + "/leads", `{"fullname":"F","attributes":%s,"properties":%[1]s}`},
		{"PUT", p + "/leads/" + x.lead, `{"attributes":%s}`},
		{"PATCH", p + "/leads/" + x.lead + "/attributes", `%s`},
		{"POST", p + "/leads/" + x.lead + "/properties", `%s`},
		{"PATCH", p + "/leads/" + x.lead + "/properties", `%s`},
		{"POST", p + "/requests", `{"first_text":"f","attributes":%s,"location":%[1]s}`},
		{"PATCH", p + "/requests/" + x.rid, `{"location":%s}`},
		{"PATCH", p + "/requests/" + x.rid + "/attributes", `%s`},
		{"POST", p + "/requests/" + x.rid + "/notes", `{"text":"n","attributes":%s}`},
		{"POST", p + "/requests/" + x.rid + "/messages", `{"text":"m","attributes":%s,"metadata":%[1]s}`},
		{"POST", p + "/requests/" + x.rid + "/messages/multi", `[{"text":"m","attributes":%s}]`},
		{"PUT", p + "/project_users", `{"attributes":%s,"tags":%[1]s}`},
		{"PUT", p + "/project_users/" + x.pu, `{"attributes":%s}`},
		{"PATCH", p + "/departments/" + x.dept, `{"groups":%s}`},
		{"PUT", "/projects/" + x.pid, `{"ipFilter":%s,"channels":%[1]s}`},
	}
	reads := []string{"/projects", "/projects/" + x.pid, "/users", p + "/project_users", p + "/project_users/me",
		p + "/project_users/" + x.pu, p + "/leads", p + "/leads/" + x.lead, p + "/leads/csv", p + "/requests",
		p + "/requests/" + x.rid, p + "/requests/csv", p + "/requests/" + x.rid + "/messages",
		p + "/requests/" + x.rid + "/messages/" + x.msg, p + "/departments", p + "/departments/" + x.dept}
	f.Fuzz(func(t *testing.T, value []byte) {
		for _, w := range writes {
			body := fmt.Sprintf(w.body, value)
			if code, out := x.call(w.method, w.path, body); code >= 500 {
				t.Fatalf("%s %s %q = %d %s", w.method, w.path, body, code, out)
			}
		}
		// What an older version could store (any JSON object the decoder takes), behind the store's
		// back, with new versions so that no rendering kept from before answers for it.
		if v, err := decodeJSON(value); err == nil {
			if _, isObject := v.(map[string]any); isObject {
				for _, q := range []string{
					`UPDATE leads SET attributes = ?1, properties = ?1, updated_at = updated_at + 1 WHERE id = ?2`,
					`UPDATE requests SET attributes = ?1, location = ?1, updated_at = updated_at + 1 WHERE request_id = ?3`,
					`UPDATE messages SET attributes = ?1, metadata = ?1 WHERE id = ?4`,
					`UPDATE project_counters SET leads_clock = leads_clock + 1, requests_clock = requests_clock + 1`,
				} {
					if _, err := x.db.Exec(q, string(value), x.lead, x.rid, x.msg); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
			}
		}
		for _, path := range reads {
			if code, out := x.call("GET", path, ""); code != 200 {
				t.Fatalf("after %q: GET %s = %d %s", value, path, code, out)
			}
		}
	})
}

func FuzzFeedQuery(f *testing.F) {
	for _, s := range []string{"", "after=5&limit=10&wait=25s", "after=-1", "after=99999999999999999999", "limit=0",
		"limit=1001", "wait=25.5s", "wait=1e9", "wait=NaN", "wait=-0", "wait=0.5", "wait=%zz", "after=1;limit=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = query
		fq, err := parseFeedQuery(r)
		if err != nil {
			wantClientError(t, err, []byte(query))
			return
		}
		if fq.after < 0 || fq.limit < 1 || fq.limit > tiledesk.MaxEventPage || fq.wait < 0 || fq.wait > feedMaxWait {
			t.Fatalf("%q accepted as %+v", query, fq)
		}
	})
}
