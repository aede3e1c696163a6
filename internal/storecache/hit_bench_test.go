package storecache

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/seed"
)

// projectStore answers FindProjectByID with its project; the benchmarks only hit the cache.
type projectStore struct {
	tiledesk.Store
	p *tiledesk.Project
}

func (s projectStore) FindProjectByID(context.Context, string) (*tiledesk.Project, error) {
	return s.p, nil
}

// benchProjects are a new project's settings, the dashboard's email templates (nine HTML pages
// filling the project bound), and the same bound filled with small entries, the most a project's
// settings can cost to copy.
func benchProjects(tb testing.TB) map[string]*tiledesk.Project {
	small := tiledesk.NewProject("Small", tiledesk.NewID(), time.Now())
	small.Settings = map[string]any{"email": map[string]any{"autoSendTranscriptToRequester": true}}

	templates := tiledesk.NewProject("Templates", tiledesk.NewID(), time.Now())
	pages := map[string]any{}
	for _, name := range []string{"assignedRequest", "assignedEmailMessage", "pooledRequest", "pooledEmailMessage",
		"newMessage", "newMessageFollower", "ticket", "sendTranscript", "emailDirect"} {
		pages[name] = "<html><body>" + strings.Repeat("<p>{{request.first_text}}</p>", 1150) + "</body></html>"
	}
	templates.Settings = map[string]any{"email": map[string]any{"templates": pages}}

	entries := tiledesk.NewProject("Entries", tiledesk.NewID(), time.Now())
	entries.Settings = seed.ProjectSettings(tiledesk.MaxProjectJSONBytes >> 10)
	out := map[string]*tiledesk.Project{"small": small, "templates": templates, "entries": entries}
	for name, p := range out {
		if err := tiledesk.CheckJSON("settings", p.Settings, tiledesk.MaxProjectJSONBytes); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
	}
	return out
}

// BenchmarkProjectHit is what every request of a project pays for its project on a cache hit.
func BenchmarkProjectHit(b *testing.B) {
	for _, name := range []string{"small", "templates", "entries"} {
		p := benchProjects(b)[name]
		b.Run(name, func(b *testing.B) {
			s := New(projectStore{p: p}, time.Hour)
			ctx := context.Background()
			if _, err := s.FindProjectByID(ctx, p.ID); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.FindProjectByID(ctx, p.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
