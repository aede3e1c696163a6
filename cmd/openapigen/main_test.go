package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The description the server serves is what the sources give: a change to openapi/ without
// running the generator fails here.
func TestDescriptionIsUpToDate(t *testing.T) {
	out, err := Generate(filepath.Join("..", "..", sourceDir))
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(filepath.Join("..", "..", target))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, out) {
		t.Fatalf("%s is not what openapi/ gives: run go run ./cmd/openapigen", target)
	}
}

func TestMergeRefusesTwoDescriptionsOfOneThing(t *testing.T) {
	doc := map[string]any{"paths": map[string]any{"/a": map[string]any{"get": map[string]any{}}}}
	part := map[string]any{"paths": map[string]any{"/a": map[string]any{"get": map[string]any{}}}}
	if err := merge(doc, part, "x.yaml"); err == nil || !strings.Contains(err.Error(), "GET /a is described twice") {
		t.Fatalf("merge = %v", err)
	}
	part = map[string]any{"paths": map[string]any{"/a": map[string]any{"post": map[string]any{}}}}
	if err := merge(doc, part, "x.yaml"); err != nil {
		t.Fatalf("another method of a path: %v", err)
	}
	if err := merge(doc, map[string]any{"info": map[string]any{}}, "x.yaml"); err == nil {
		t.Fatal("an area's file may not change the document's head")
	}
}

func TestCommonResponsesAreAdded(t *testing.T) {
	ok := map[string]any{"200": map[string]any{"description": "ok"}}
	doc := map[string]any{
		"security": []any{map[string]any{"jwt": []any{}}},
		"paths": map[string]any{
			"/{pid}/leads": map[string]any{"post": map[string]any{"responses": ok}},
			"/public":      map[string]any{"get": map[string]any{"security": []any{}, "responses": map[string]any{"200": ok["200"]}}},
		},
	}
	if err := addCommonResponses(doc); err != nil {
		t.Fatal(err)
	}
	codes := func(p, m string) string {
		var out []string
		for _, c := range []string{"400", "401", "403", "406", "413", "415", "429", "500", "503"} {
			if _, ok := asMap(asMap(asMap(asMap(doc["paths"])[p])[m])["responses"])[c]; ok {
				out = append(out, c)
			}
		}
		return strings.Join(out, ",")
	}
	if got := codes("/{pid}/leads", "post"); got != "400,401,403,406,413,415,429,500,503" {
		t.Errorf("a project's write: %s", got)
	}
	if got := codes("/public", "get"); got != "403,406,413,429,500,503" {
		t.Errorf("a public read: %s", got)
	}
}
