package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/tiledesk-go/tiledesk/internal/webui"
)

// The API's description (openapi/*.yaml, merged into the file /openapi.json serves), loaded once
// for every test of the package.
var description struct {
	once sync.Once
	doc  *openapi3.T
	err  error
}

func apiDescription() (*openapi3.T, error) {
	description.once.Do(func() {
		loader := openapi3.NewLoader()
		description.doc, description.err = loader.LoadFromData(webui.OpenAPI())
		if description.err == nil {
			description.err = description.doc.Validate(context.Background())
		}
	})
	return description.doc, description.err
}

// specPath is the description's path of a route pattern: "GET /{pid}/leads" → "/{pid}/leads".
func specPath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	if path == "/{$}" {
		path = "/"
	}
	return method, path
}

// conforms checks an answer the tests received against the API's description: its status must be
// one the route's operation lists, and its body must match that response's schema. Answers of
// what routes.go does not register (the web app, the websocket, the operations' endpoints) and
// 304s (no body) are not the description's.
func (e *testEnv) conforms(req *http.Request, status int, header http.Header, body []byte) {
	e.t.Helper()
	if req.Method == http.MethodHead || status == http.StatusNotModified || status == http.StatusMethodNotAllowed {
		return
	}
	doc, err := apiDescription()
	if err != nil {
		e.t.Errorf("the API's description: %v", err)
		return
	}
	_, _, pattern := e.srv.resolve(req)
	if pattern == "" || e.testRoutes[pattern] {
		return
	}
	method, path := specPath(pattern)
	item := doc.Paths.Value(path)
	var op *openapi3.Operation
	if item != nil {
		op = item.GetOperation(method)
	}
	if op == nil {
		e.t.Errorf("%s is not described in openapi/", pattern)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req,
			Route:   &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op},
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		e.t.Errorf("%s %s answered %d, which its description does not admit: %v\nbody: %.600s", req.Method, req.URL.Path, status, err, body)
	}
}

// TestOpenAPIDescribesEveryRoute holds the description to routes.go: every route registered is
// described, and nothing else is.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc, err := apiDescription()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	registered := map[string]bool{}
	var missing []string
	for _, pattern := range e.srv.patterns {
		method, path := specPath(pattern)
		registered[method+" "+path] = true
		if item := doc.Paths.Value(path); item == nil || item.GetOperation(method) == nil {
			missing = append(missing, method+" "+path)
		}
	}
	var extra []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !registered[method+" "+path] {
				extra = append(extra, method+" "+path)
			}
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("%d routes are not described in openapi/:\n%s", len(missing), strings.Join(missing, "\n"))
	}
	if len(extra) > 0 {
		t.Errorf("described but not routes: %s", strings.Join(extra, ", "))
	}
}
