package tiledesk

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func decodeNumbers(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

// nested is {"a":{"a":...{"a":leaf}}} with n keys from the top to leaf.
func nested(n int, leaf string) string {
	return strings.Repeat(`{"a":`, n) + leaf + strings.Repeat("}", n)
}

// manyKeys is an object of n keys.
func manyKeys(n int) string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = `"k` + strconv.Itoa(i) + `":1`
	}
	return "{" + strings.Join(keys, ",") + "}"
}

func TestCheckJSON(t *testing.T) {
	for _, tc := range []struct {
		json, param, msg string // param "" when within bounds
	}{
		{`{"plan":"pro","n":1,"list":[1,{"x":null}],"nested":{"ok":true}}`, "", ""},
		{`{"email":{"notification":{"conversation":{"assigned":{"toyou":false},"pooled":true}}}}`, "", ""},
		{nested(8, "1"), "", ""},
		{nested(8, "{}"), "", ""},
		{nested(8, `{"b":1}`), "attributes.a.a.a.a.a.a.a.a", "deeper than 8 levels"},
		{nested(7, `[[1]]`), "attributes.a.a.a.a.a.a.a[0]", "deeper than 8 levels"},
		{manyKeys(256), "", ""},
		{manyKeys(257), "attributes", "257 keys, more than 256"},
		{`{"list":[` + strings.TrimSuffix(strings.Repeat("1,", 257), ",") + `]}`, "attributes.list", "257 items, more than 256"},
		{`{"` + strings.Repeat("k", 128) + `":1}`, "", ""},
		{`{"a":{"` + strings.Repeat("k", 129) + `":1}}`, "attributes.a", "key longer than 128 bytes"},
		{`{"__proto__":{"isAdmin":true}}`, "attributes", `"__proto__"`},
		{`{"a":[{"constructor":1}]}`, "attributes.a[0]", `"constructor"`},
		{`{"":1}`, "attributes", "empty key"},
		{`{"a.b":1}`, "attributes", `"a.b"`},
		{`{"x":{"$set":{"role":"owner"}}}`, "attributes.x", `"$set"`},
		{`{"price$":1}`, "attributes", `keys must not contain "." or "$"`},
		{`{"big":1e400}`, "attributes.big", "number out of range"},
		{`{"small":-1e400}`, "attributes.small", "number out of range"},
		{`{"s":"` + strings.Repeat("x", 64<<10-8) + `"}`, "", ""},
		{`{"s":"` + strings.Repeat("x", 64<<10-7) + `"}`, "attributes", "more than 64 KiB"},
		{`{"s":"<&>` + strings.Repeat("x", 64<<10-20) + `"}`, "attributes", "more than 64 KiB"}, // HTML is escaped as stored
	} {
		err := CheckJSON("attributes", decodeNumbers(t, tc.json), MaxJSONBytes)
		if tc.param == "" {
			if err != nil {
				t.Errorf("%.80s: %v, want within bounds", tc.json, err)
			}
			continue
		}
		if ErrorCode(err) != EINVALID || ErrorField(err) != tc.param || !strings.Contains(ErrorMessage(err), tc.msg) {
			t.Errorf("%.80s: %v, want EINVALID on %s saying %q", tc.json, err, tc.param, tc.msg)
		}
	}
	if err := CheckJSON("attributes", nil, MaxJSONBytes); err != nil {
		t.Errorf("nil: %v", err)
	}
}

func TestCheckJSONPath(t *testing.T) {
	for _, tc := range []struct {
		path, json, param, msg string
	}{
		{"email.notification.conversation.assigned.toyou", "false", "", ""},
		{"email.templates.assignedRequest", `"<html>` + strings.Repeat("x", 100<<10) + `</html>"`, "", ""},
		{"a.b.c.d.e.f.g.h", "1", "", ""},
		{"a.b.c.d.e.f.g.h.i", "1", "settings.a.b.c.d.e.f.g.h.i", "deeper than 8 levels"},
		{"a.b.c.d.e.f.g", `{"h":{"i":1}}`, "settings.a.b.c.d.e.f.g.h", "deeper than 8 levels"},
		{"a..b", "1", "settings.a", "empty key"},
		{"a.", "1", "settings.a", "empty key"},
		{"__proto__.polluted", "1", "settings", `"__proto__"`},
		{"a.$where", "1", "settings.a", `"$where"`},
		{"a", `{"x.y":1}`, "settings.a", `"x.y"`},
		{"a", `"` + strings.Repeat("x", 512<<10) + `"`, "settings.a", "more than 512 KiB"},
	} {
		err := CheckJSONPath("settings", tc.path, decodeNumbers(t, tc.json), MaxProjectJSONBytes)
		if tc.param == "" {
			if err != nil {
				t.Errorf("%s: %v, want within bounds", tc.path, err)
			}
			continue
		}
		if ErrorCode(err) != EINVALID || ErrorField(err) != tc.param || !strings.Contains(ErrorMessage(err), tc.msg) {
			t.Errorf("%s = %.40s: %v, want EINVALID on %s saying %q", tc.path, tc.json, err, tc.param, tc.msg)
		}
	}
}

// TestCheckMergedJSON: a merge's result is held to the bounds of size, keys per object and depth,
// but keys an older version stored are left alone, so such a row can still be merged into.
func TestCheckMergedJSON(t *testing.T) {
	old := decodeNumbers(t, `{"__proto__":1,"a.b":2,"":3}`)
	if err := CheckMergedJSON("attributes", old, MaxJSONBytes); err != nil {
		t.Errorf("old keys: %v", err)
	}
	for _, tc := range []struct{ json, param, msg string }{
		{manyKeys(257), "attributes", "257 keys"},
		{nested(9, "1"), "attributes.a.a.a.a.a.a.a.a", "deeper than 8 levels"},
		{`{"s":"` + strings.Repeat("x", 64<<10) + `"}`, "attributes", "more than 64 KiB"},
	} {
		err := CheckMergedJSON("attributes", decodeNumbers(t, tc.json), MaxJSONBytes)
		if ErrorCode(err) != EINVALID || ErrorField(err) != tc.param || !strings.Contains(ErrorMessage(err), tc.msg) {
			t.Errorf("%.60s: %v, want EINVALID on %s saying %q", tc.json, err, tc.param, tc.msg)
		}
	}
}

// The size is that of the encoding the stores write (encoding/json, HTML escaped).
func TestCheckJSONSizeIsTheStoredSize(t *testing.T) {
	v := decodeNumbers(t, `{"html":"<b>&amp;</b>","n":1.5e3,"u":"\u2028é"}`)
	enc, _ := json.Marshal(v)
	if err := CheckJSON("a", v, len(enc)); err != nil {
		t.Fatalf("exactly %d bytes: %v", len(enc), err)
	}
	if err := CheckJSON("a", v, len(enc)-1); err == nil || !bytes.Contains([]byte(ErrorMessage(err)), []byte("bytes once encoded")) {
		t.Fatalf("one byte short: %v", err)
	}
}
