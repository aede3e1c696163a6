package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// guidePath is the walk-through this file runs.
var guidePath = filepath.Join("..", "..", "docs", "guide.md")

// guideHostLine is the guide's line naming the server; the test points it at the server it starts.
const guideHostLine = "TILEDESK=http://localhost:3000"

// guideStep is a ```sh block of the guide and the answer shown after it (the next ```json or
// ```text block before another ```sh block), if any. Other blocks (```console for the command that
// starts the server) are not run.
type guideStep struct{ run, answer string }

func guideSteps(page string) []guideStep {
	var steps []guideStep
	var cur []string
	fence := ""
	for _, line := range strings.Split(page, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case fence == "" && strings.HasPrefix(trimmed, "```"):
			fence, cur = strings.TrimPrefix(trimmed, "```"), nil
		case fence != "" && trimmed == "```":
			block := strings.Join(cur, "\n")
			switch {
			case fence == "sh":
				steps = append(steps, guideStep{run: block})
			case (fence == "json" || fence == "text") && len(steps) > 0 && steps[len(steps)-1].answer == "":
				steps[len(steps)-1].answer = block
			}
			fence = ""
		case fence != "":
			cur = append(cur, line)
		}
	}
	return steps
}

// What differs from one run of the guide to the next: ids, times, tokens and durations.
var guideVariables = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`eyJ[A-Za-z0-9_.-]+`), "TOKEN"},
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "UUID"},
	{regexp.MustCompile(`[0-9a-f]{24}`), "ID"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`), "TIME"},
	{regexp.MustCompile(`\d\d/\d\d/\d{4}, \d\d:\d\d:\d\d`), "TIME"},
	{regexp.MustCompile(`"(waiting_time|duration)":\d+`), `"$1":N`},
}

func withoutVariables(s string) string {
	for _, v := range guideVariables {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// answerMismatch returns the first piece of a shown answer (the text between two "…" cuts) that is
// not in the real output, in order, once ids, times and tokens are set aside; "" if every piece is.
func answerMismatch(shown, real string) string {
	real = withoutVariables(real)
	at := 0
	for _, piece := range strings.Split(withoutVariables(shown), "…") {
		i := strings.Index(real[at:], piece)
		if i < 0 {
			return piece
		}
		at += i + len(piece)
	}
	return ""
}

var stepMarkRE = regexp.MustCompile(`(?m)^@@guide step (\d+)@@$`)

// runGuide runs the steps in one bash, in dir, stopping at the first command that fails, and returns
// each step's output (up to the failing one) and bash's error.
func runGuide(t *testing.T, steps []guideStep, dir string) ([]string, error) {
	t.Helper()
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for i, s := range steps {
		fmt.Fprintf(&script, "printf '\\n@@guide step %d@@\\n'\n%s\n", i, s.run)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	marks := stepMarkRE.FindAllSubmatchIndex(out, -1)
	outputs := make([]string, len(marks))
	for i, m := range marks {
		if n, _ := strconv.Atoi(string(out[m[2]:m[3]])); n != i {
			t.Fatalf("step marks out of order:\n%s", out)
		}
		end := len(out)
		if i+1 < len(marks) {
			end = marks[i+1][0]
		}
		outputs[i] = strings.TrimSpace(string(out[m[1]:end]))
	}
	return outputs, err
}

// TestGuide runs docs/guide.md as a reader would: its shell blocks in order, in one bash, against a
// real server that writes the guide's log file, with the host line pointed at that server. Every
// step must succeed (the guide's curl calls fail on an error status), every answer the guide shows
// must be the real one (cut where it says so, ids and times aside), and the answers the guide is
// about must be there.
func TestGuide(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("docs/guide.md is run with %s, which is not installed here: %v", tool, err)
		}
	}
	page, err := os.ReadFile(guidePath)
	if err != nil {
		t.Fatal(err)
	}
	steps := guideSteps(string(page))
	if len(steps) == 0 || !strings.Contains(steps[0].run+"\n", guideHostLine+"\n") {
		t.Fatalf("the guide's first shell block must set %s", guideHostLine)
	}
	dir := t.TempDir()
	logFile, err := os.Create(filepath.Join(dir, "tiledesk.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	base, logs, stop := startLogging(t, []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "guide.db")}, nil, logFile)
	defer stop()
	steps[0].run = strings.Replace(steps[0].run, guideHostLine, "TILEDESK="+base, 1)

	outputs, err := runGuide(t, steps, dir)
	if err != nil || len(outputs) != len(steps) {
		n := len(outputs) - 1
		if n < 0 {
			t.Fatalf("the guide did not start: %v", err)
		}
		t.Fatalf("step %d of docs/guide.md failed (%v):\n%s\n--- its output:\n%s\n--- the server's log:\n%s", n, err, steps[n].run, outputs[n], logs)
	}
	answered := 0
	for i, s := range steps {
		if s.answer == "" {
			continue
		}
		answered++
		if piece := answerMismatch(s.answer, outputs[i]); piece != "" {
			t.Errorf("step %d shows an answer the server does not give: %q is not in\n%s", i, piece, outputs[i])
		}
	}
	if answered < len(steps)/2 {
		t.Errorf("only %d of the guide's %d steps show their answer", answered, len(steps))
	}
	for _, c := range []struct{ step, want string }{
		{"/auth/signinAnonymously", `"success":true`},
		{"Hello, I was charged twice", `"request":{"status":200,`},
		{"Hello, I was charged twice", `"participatingAgents":[{"_id":"`},
		{"Hello, I was charged twice", `"firstname":"Alex"`},
		{"/v1/$PROJECT/requests\n", `"count":1,`},
		{"/close", `"status":1000,`},
		{"/close", `"closed_by":"`},
		{"/leads/csv", "_id;lead_id;fullname;email;"},
		{"/leads/csv", "vera@example.org"},
	} {
		found := false
		for i, s := range steps {
			if strings.Contains(s.run+"\n", c.step) {
				found = true
				if !strings.Contains(outputs[i], c.want) {
					t.Errorf("step %d (%s) answered without %s:\n%s", i, c.step, c.want, outputs[i])
				}
			}
		}
		if !found {
			t.Errorf("no step of the guide has %q: the test and the guide disagree", c.step)
		}
	}
}
