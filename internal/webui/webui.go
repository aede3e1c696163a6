// Package webui serves the built-in web app from the binary: the agent inbox at /dashboard/, the
// visitor's chat widget at /widget.js, a demo page embedding the widget at /demo/{project id}, and
// the API's OpenAPI description at /openapi.json with a page reading it at /docs/.
// The files are embedded and compressed once at start; the app talks to the API and websocket of
// the same server, and loads nothing from any other host.
package webui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// asset is a file ready to serve, as is and gzip-compressed.
type asset struct {
	name       string
	body, gz   []byte
	etag       string
	contentTyp string
}

// App serves the web app's paths (see Owns).
type App struct {
	assets map[string]*asset // by path: "/dashboard/app.js", "/widget.js"
	start  time.Time
}

// New reads the embedded files and compresses them.
func New() *App {
	h := &App{assets: map[string]*asset{}, start: time.Now()}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		h.add(strings.TrimPrefix(p, "static"), body)
		return nil
	})
	if err != nil {
		panic("webui: the embedded files cannot be read: " + err.Error())
	}
	return h
}

func (h *App) add(name string, body []byte) {
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write(body)
	w.Close()
	sum := sha256.Sum256(body)
	typ, ok := contentTypes[path.Ext(name)]
	if !ok {
		panic("webui: no content type for the embedded file " + name)
	}
	h.assets[name] = &asset{name: name, body: body, gz: gz.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`, contentTyp: typ}
}

// contentTypes are the embedded files' types, fixed here rather than read from the host's MIME
// tables, which differ between machines.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
}

var projectID = regexp.MustCompile(`^[0-9a-fA-F]{24}$`)

// Owns says whether a path is the web app's: /dashboard and below, /widget.js, /demo/ and below,
// /openapi.json, /docs and below. None is an API path: a project id is 24 hexadecimal digits.
func (h *App) Owns(path string) bool {
	return path == "/widget.js" || path == "/openapi.json" || underPage(path, "/dashboard") ||
		underPage(path, "/docs") || strings.HasPrefix(path, "/demo/")
}

// underPage says whether path is a page's directory (/docs) or below it (/docs/...).
func underPage(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// ServeHTTP serves /dashboard/ and /docs/ and their files, /widget.js, /openapi.json and
// /demo/{pid}.
func (h *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/widget.js" || p == "/openapi.json":
		h.serveAsset(w, r, p, false)
	case p == "/dashboard" || p == "/docs":
		http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
	case strings.HasPrefix(p, "/dashboard/") || strings.HasPrefix(p, "/docs/"):
		name := p
		if strings.HasSuffix(name, "/") {
			name += "index.html"
		}
		h.serveAsset(w, r, name, true)
	case strings.HasPrefix(p, "/demo/"):
		h.serveDemo(w, r, strings.TrimPrefix(p, "/demo/"))
	default:
		http.NotFound(w, r)
	}
}

// pageHeaders are the security headers of the app's pages: scripts, styles and connections only
// from this server, and no framing (the inbox acts with an agent's token).
func pageHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
}

func (h *App) serveAsset(w http.ResponseWriter, r *http.Request, name string, page bool) {
	a, ok := h.assets[name]
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	if page {
		pageHeaders(w)
	} else {
		// The widget is loaded by other sites' pages, the description by other sites' tools.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("X-Content-Type-Options", "nosniff")
	}
	// Revalidated on every load, so that a new version of the server serves its new app at once.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", a.etag)
	w.Header().Set("Content-Type", a.contentTyp)
	w.Header().Add("Vary", "Accept-Encoding")
	body := a.body
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		body = a.gz
	}
	http.ServeContent(w, r, "", h.start, bytes.NewReader(body))
}

// acceptsGzip says whether the client takes gzip (and did not refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			q := strings.TrimRight(strings.ReplaceAll(params, " ", ""), "0")
			return q != "q=" && q != "q=0."
		}
	}
	return false
}

var demoPage = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chat demo</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/demo.css">
</head>
<body>
<main>
<h1>A page with the chat widget</h1>
<p>This page embeds the widget of project <code>{{.}}</code> with one tag:</p>
<pre><code>&lt;script src="https://your-server/widget.js" data-project="{{.}}"&gt;&lt;/script&gt;</code></pre>
<p>Open the bubble at the bottom right and write: the conversation appears in the
<a href="/dashboard/">inbox</a> at once, and the replies come back here.</p>
</main>
<script src="/widget.js" data-project="{{.}}"></script>
</body>
</html>
`))

func (h *App) serveDemo(w http.ResponseWriter, r *http.Request, pid string) {
	if !projectID.MatchString(pid) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	pageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if err := demoPage.Execute(w, strings.ToLower(pid)); err != nil {
		http.Error(w, "the demo page could not be written", http.StatusInternalServerError)
	}
}

// OpenAPI is the API's description, as /openapi.json serves it.
func OpenAPI() []byte {
	b, err := static.ReadFile("static/openapi.json")
	if err != nil {
		panic("webui: the embedded API description cannot be read: " + err.Error())
	}
	return b
}
