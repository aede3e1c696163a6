package webui

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestServesTheApp(t *testing.T) {
	h := New()
	for _, tc := range []struct {
		path, typ string
		status    int
	}{
		{"/dashboard/", "text/html; charset=utf-8", 200},
		{"/dashboard/app.js", "text/javascript; charset=utf-8", 200},
		{"/dashboard/app.css", "text/css; charset=utf-8", 200},
		{"/widget.js", "text/javascript; charset=utf-8", 200},
		{"/demo/6650a1e9c2b7e2a1d4f00001", "text/html; charset=utf-8", 200},
		{"/dashboard", "", 301},
		{"/dashboard/nothing.js", "", 404},
		{"/dashboard/../webui.go", "", 404},
		{"/demo/not-a-project", "", 404},
		{"/demo/6650a1e9c2b7e2a1d4f00001/more", "", 404},
		{"/openapi.json", "application/json", 200},
		{"/docs/", "text/html; charset=utf-8", 200},
		{"/docs/docs.js", "text/javascript; charset=utf-8", 200},
		{"/docs", "", 301},
		{"/docs/nothing.js", "", 404},
	} {
		if !h.Owns(tc.path) {
			t.Errorf("%s is not the app's", tc.path)
		}
		w := get(t, h, tc.path, nil)
		if w.Code != tc.status || (tc.typ != "" && w.Header().Get("Content-Type") != tc.typ) {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, w.Code, w.Header().Get("Content-Type"), tc.status, tc.typ)
		}
	}
	for _, path := range []string{"/", "/auth/signin", "/6650a1e9c2b7e2a1d4f00001/leads", "/v1/dashboard/", "/dashboards", "/widget.json",
		"/v1/openapi.json", "/docsx", "/openapi.yaml"} {
		if h.Owns(path) {
			t.Errorf("%s is taken from the API", path)
		}
	}
	// Pages forbid framing and other hosts; the widget may be loaded by any site.
	for _, path := range []string{"/dashboard/", "/demo/6650a1e9c2b7e2a1d4f00001", "/docs/"} {
		csp := get(t, h, path, nil).Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
	}
	for _, path := range []string{"/widget.js", "/openapi.json"} {
		if w := get(t, h, path, nil); w.Header().Get("Access-Control-Allow-Origin") != "*" || w.Header().Get("Content-Security-Policy") != "" {
			t.Errorf("%s headers: %v", path, w.Header())
		}
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(get(t, h, "/openapi.json", nil).Body.Bytes(), &doc); err != nil || doc.OpenAPI != "3.1.0" || len(doc.Paths) == 0 {
		t.Errorf("/openapi.json: %v, openapi %q, %d paths", err, doc.OpenAPI, len(doc.Paths))
	}
	if w := get(t, h, "/demo/6650A1E9C2B7E2A1D4F00001", nil); !strings.Contains(w.Body.String(), `data-project="6650a1e9c2b7e2a1d4f00001"`) {
		t.Errorf("the demo page does not embed the project's widget:\n%s", w.Body)
	}
}

func TestCompressedAndRevalidated(t *testing.T) {
	h := New()
	plain := get(t, h, "/dashboard/app.js", nil)
	gz := get(t, h, "/dashboard/app.js", map[string]string{"Accept-Encoding": "br, gzip"})
	if gz.Header().Get("Content-Encoding") != "gzip" || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("Content-Encoding: %q with gzip accepted, %q without", gz.Header().Get("Content-Encoding"), plain.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	if !bytes.Equal(body, plain.Body.Bytes()) || len(body) == 0 {
		t.Fatal("the compressed file is not the file")
	}
	if w := get(t, h, "/dashboard/app.js", map[string]string{"Accept-Encoding": "gzip;q=0"}); w.Header().Get("Content-Encoding") != "" {
		t.Fatal("gzip sent to a client that refused it")
	}
	etag := plain.Header().Get("ETag")
	if w := get(t, h, "/dashboard/app.js", map[string]string{"If-None-Match": etag}); etag == "" || w.Code != http.StatusNotModified {
		t.Fatalf("revalidation with ETag %q = %d", etag, w.Code)
	}
}

var importRE = regexp.MustCompile(`(?m)^import .* from "\./([a-z]+\.js)";`)

// TestFirstLoadBudget: the inbox's first load (the page, its stylesheet and every module app.js
// imports, transitively) stays under 200 KB compressed, and no file names another host.
func TestFirstLoadBudget(t *testing.T) {
	h := New()
	load := []string{"/dashboard/index.html", "/dashboard/app.css", "/dashboard/app.js"}
	seen := map[string]bool{}
	total := 0
	for len(load) > 0 {
		name := load[0]
		load = load[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		a, ok := h.assets[name]
		if !ok {
			t.Fatalf("%s is loaded but not embedded", name)
		}
		total += len(a.gz)
		for _, m := range importRE.FindAllSubmatch(a.body, -1) {
			load = append(load, "/dashboard/"+string(m[1]))
		}
	}
	if len(seen) < 5 {
		t.Fatalf("followed only %v: the import scan misses the modules", seen)
	}
	if total > 200*1024 {
		t.Fatalf("the first load is %d bytes compressed, over 200 KB", total)
	}
	t.Logf("first load: %d files, %d bytes compressed", len(seen), total)
	hostRE := regexp.MustCompile(`(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for name, a := range h.assets {
		if name == "/openapi.json" {
			continue // data the docs page shows as text, never loads: its examples may name hosts
		}
		for _, m := range hostRE.FindAll(a.body, -1) {
			if s := string(m); s != "http://www.w3.org" { // the SVG namespace: a name, not a request
				t.Errorf("%s names another host: %s", name, s)
			}
		}
	}
}
