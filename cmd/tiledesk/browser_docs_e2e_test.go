package main

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAPIDocs opens the API's reference page: every operation of /openapi.json is drawn,
// the filter narrows the page, a response's schema unfolds, and nothing fails in the console.
func TestBrowserAPIDocs(t *testing.T) {
	b := newBrowser(t)
	base, _, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "docs.db")}, nil)
	defer stop()
	_, doc, _ := call(t, "GET", base+"/openapi.json", "", nil)
	paths, _ := doc["paths"].(map[string]any)
	ops := 0
	for _, item := range paths {
		for method := range item.(map[string]any) {
			if slices.Contains([]string{"get", "post", "put", "patch", "delete"}, method) {
				ops++
			}
		}
	}
	if ops < 3 {
		t.Fatalf("/openapi.json describes %d operations", ops)
	}
	page := b.tab("docs")
	b.do(page, "every operation drawn", chromedp.Navigate(base+"/docs/"),
		until(`document.querySelectorAll("article.op").length === `+strconv.Itoa(ops)),
		until(`document.querySelectorAll("#toc li").length === `+strconv.Itoa(ops)))
	b.do(page, "the filter", chromedp.SendKeys(chromedp.CSS("#filter"), "auth signin"),
		until(`document.querySelectorAll("article.op:not(.hidden)").length >= 1`),
		until(`[...document.querySelectorAll("article.op:not(.hidden)")].every(a => a.dataset.search.includes("signin"))`),
		until(`[...document.querySelectorAll(".toc-group:not(.hidden)")].length === 1`))
	// The sign-in operation's article, found by its method and path.
	signin := `[...document.querySelectorAll("article.op")].find(a => a.dataset.search.startsWith("post /auth/signin "))`
	b.do(page, "the body's fields", until(`[...`+signin+`.querySelectorAll(".field")].some(e => e.textContent === "password")`),
		until(`!document.body.textContent.includes("[object ")`))
	b.do(page, "a response's schema unfolds",
		js(signin+`.querySelector("details").open = true`),
		until(`[...`+signin+`.querySelectorAll(".field")].some(e => e.textContent === "token")`),
		js(signin+`.scrollIntoView()`))
	b.screenshot(page, "api-docs")
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
}
