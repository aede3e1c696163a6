// Command openapigen writes the API's OpenAPI description, internal/webui/static/openapi.json,
// from the YAML files in openapi/: base.yaml (the document's head, the shared parameters,
// responses and schemas) and one file per area of the API, each holding paths and components.
// It adds to every operation the answers every route may give (see commonResponses), checks that
// no path, operation or component is described twice, and validates the result as OpenAPI 3.1.
//
//	go run ./cmd/openapigen           # write the description
//	go run ./cmd/openapigen -check    # fail when the written description is not up to date
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

const (
	sourceDir = "openapi"
	baseFile  = "base.yaml"
	target    = "internal/webui/static/openapi.json"
)

func main() {
	check := flag.Bool("check", false, "fail when "+target+" is not what the sources give")
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	out, err := Generate(filepath.Join(*root, sourceDir))
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapigen:", err)
		os.Exit(1)
	}
	path := filepath.Join(*root, target)
	if *check {
		old, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(old, out) {
			fmt.Fprintf(os.Stderr, "openapigen: %s is not up to date: run go run ./cmd/openapigen\n", target)
			os.Exit(1)
		}
		return
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "openapigen:", err)
		os.Exit(1)
	}
}

// Generate merges the sources of dir into one description, as indented JSON with sorted keys.
func Generate(dir string) ([]byte, error) {
	doc, err := readYAML(filepath.Join(dir, baseFile))
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		if filepath.Base(f) == baseFile {
			continue
		}
		part, err := readYAML(f)
		if err != nil {
			return nil, err
		}
		if err := merge(doc, part, filepath.Base(f)); err != nil {
			return nil, err
		}
	}
	if err := addCommonResponses(doc); err != nil {
		return nil, err
	}
	out, err := marshal(doc)
	if err != nil {
		return nil, err
	}
	if err := validate(out); err != nil {
		return nil, err
	}
	return out, nil
}

func readYAML(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, ok := normalize(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not a mapping", path)
	}
	return m, nil
}

// normalize turns YAML's maps with non-string keys (response codes such as 200) into maps with
// string keys, as JSON has them.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normalize(x)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = normalize(x)
		}
		return m
	case []any:
		for i, x := range t {
			t[i] = normalize(x)
		}
	}
	return v
}

// merge adds a part's paths, components and tags to doc. A part may add operations to a path
// another part describes, never the same operation or component twice.
func merge(doc, part map[string]any, name string) error {
	for k := range part {
		if k != "paths" && k != "components" && k != "tags" {
			return fmt.Errorf("%s: only paths, components and tags belong in an area's file, not %q", name, k)
		}
	}
	if tags, ok := part["tags"].([]any); ok {
		existing, _ := doc["tags"].([]any)
		doc["tags"] = append(existing, tags...)
	}
	paths := child(doc, "paths")
	for p, item := range asMap(part["paths"]) {
		dst := child(paths, p)
		for method, op := range asMap(item) {
			if _, dup := dst[method]; dup {
				return fmt.Errorf("%s: %s %s is described twice", name, strings.ToUpper(method), p)
			}
			dst[method] = op
		}
	}
	components := child(doc, "components")
	for kind, entries := range asMap(part["components"]) {
		dst := child(components, kind)
		for k, v := range asMap(entries) {
			if _, dup := dst[k]; dup {
				return fmt.Errorf("%s: components/%s/%s is described twice", name, kind, k)
			}
			dst[k] = v
		}
	}
	return nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// child is m[k] as a map, made when missing.
func child(m map[string]any, k string) map[string]any {
	c, ok := m[k].(map[string]any)
	if !ok {
		c = map[string]any{}
		m[k] = c
	}
	return c
}

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// commonResponses are the answers any route may give, by the transport rules, the limits and the
// server's state, whatever its own work: each refers to components/responses. 403 is the answer
// of a server that takes HTTPS only to a call over HTTP, 413 that of a body announced too large
// (whatever the method). Writes add 415; routes that need credentials add 401.
var commonResponses = map[string]string{
	"403": "Forbidden",
	"406": "NotAcceptable",
	"413": "TooLarge",
	"429": "TooManyRequests",
	"500": "InternalError",
	"503": "Unavailable",
}

var writeResponses = map[string]string{
	"415": "UnsupportedMediaType",
}

// projectResponses are the answers of every route under a project's id: 400 for an id that is
// not one, or names no project.
var projectResponses = map[string]string{
	"400": "BadRequest",
}

var authResponses = map[string]string{
	"401": "Unauthorized",
}

func addCommonResponses(doc map[string]any) error {
	defaultSecurity, _ := doc["security"].([]any)
	for p, item := range asMap(doc["paths"]) {
		for _, method := range methods {
			op := asMap(asMap(item)[method])
			if op == nil {
				continue
			}
			responses := asMap(op["responses"])
			if len(responses) == 0 {
				return fmt.Errorf("%s %s: no responses", strings.ToUpper(method), p)
			}
			add := func(set map[string]string) {
				for code, name := range set {
					if _, ok := responses[code]; !ok {
						responses[code] = map[string]any{"$ref": "#/components/responses/" + name}
					}
				}
			}
			add(commonResponses)
			if method == "post" || method == "put" || method == "patch" {
				add(writeResponses)
			}
			security := defaultSecurity
			if s, ok := op["security"].([]any); ok {
				security = s
			}
			if needsCredentials(security) {
				add(authResponses)
			}
			if strings.HasPrefix(p, "/{pid}/") {
				add(projectResponses)
			}
		}
	}
	return nil
}

// needsCredentials says whether a security requirement list demands some credential: an empty
// list, or one holding an empty requirement ({}), admits anonymous callers.
func needsCredentials(security []any) bool {
	if len(security) == 0 {
		return false
	}
	for _, s := range security {
		if len(asMap(s)) == 0 {
			return false
		}
	}
	return true
}

// marshal writes JSON indented by two spaces, keys sorted, with the HTML characters kept as they
// are (the description quotes paths and examples, which escaping would make unreadable).
func marshal(doc map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// validate loads the description as kin-openapi does and checks it against OpenAPI 3.1.
func validate(out []byte) error {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(out)
	if err != nil {
		return fmt.Errorf("the description does not load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return fmt.Errorf("the description is not valid: %w", err)
	}
	return nil
}
