package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/postgres"
	"github.com/tiledesk-go/tiledesk/internal/sqlite"
	"github.com/tiledesk-go/tiledesk/internal/sqlstore"
)

// BenchmarkReplyEventLog prices the event log: the same replies into open conversations, with the
// log and without it, alternately in one run (-count interleaves the two), so that their ratio
// compares like with like. Run: go test ./internal/sqlstore -run '^$' -bench ReplyEventLog -count 6
func BenchmarkReplyEventLog(b *testing.B) {
	engines := map[string]func(b *testing.B) *sqlstore.Store{
		"sqlite": func(b *testing.B) *sqlstore.Store {
			s, err := sqlite.Open(context.Background(), b.TempDir()+"/bench.db", sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	}
	if dsn := os.Getenv("TILEDESK_BENCH_POSTGRES"); dsn != "" { // a dedicated database: the bench leaves its data
		engines["postgres"] = func(b *testing.B) *sqlstore.Store {
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		open, ok := engines[engine]
		if !ok {
			continue
		}
		for _, mode := range []string{"log", "no-log"} {
			b.Run(engine+"/"+mode, func(b *testing.B) {
				s := open(b)
				defer s.Close()
				if err := s.Migrate(context.Background(), nil); err != nil {
					b.Fatal(err)
				}
				s.SetEventLogOffForTest(mode == "no-log")
				replies(b, s)
			})
		}
	}
}

// replies posts b.N messages from 8 goroutines per core into 64 open conversations.
func replies(b *testing.B, s *sqlstore.Store) {
	ctx := context.Background()
	owner := &tiledesk.User{ID: tiledesk.NewID(), Email: tiledesk.NewID() + "@example.com", PasswordHash: "x",
		Status: tiledesk.UserActive, CreatedAt: tiledesk.Now(), UpdatedAt: tiledesk.Now()}
	if err := s.CreateUser(ctx, owner); err != nil {
		b.Fatal(err)
	}
	now := tiledesk.Now()
	p := tiledesk.NewProject("Bench", owner.ID, now)
	pu := tiledesk.NewProjectUser(p.ID, tiledesk.RoleOwner, owner.ID, now)
	pu.UserID = owner.ID
	if err := s.CreateProject(ctx, p, pu, tiledesk.NewDefaultDepartment(p.ID, owner.ID, now)); err != nil {
		b.Fatal(err)
	}
	const conversations = 64
	ids := make([]string, conversations)
	for i := range ids {
		ids[i] = fmt.Sprintf("support-group-%s-%d", p.ID, i)
		if _, _, _, _, err := s.PostMessage(ctx, message(p.ID, pu.ID, ids[i], true)); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := ids[n.Add(1)%conversations]
			if _, _, _, _, err := s.PostMessage(ctx, message(p.ID, pu.ID, id, false)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	// The process's CPU per reply: wall time also counts fsync waits, shared by a group commit.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func message(projectID, requester, requestID string, create bool) *tiledesk.MessagePost {
	now := tiledesk.Now()
	m := &tiledesk.Message{ID: tiledesk.NewID(), ProjectID: projectID, Sender: requester, SenderFullname: "Visitor",
		Recipient: requestID, Type: "text", ChannelType: "group", Text: "a reply of a few words",
		Channel: tiledesk.Channel{Name: "chat21"}, CreatedBy: requester, CreatedAt: now, UpdatedAt: now}
	post := &tiledesk.MessagePost{Message: m, LastMessage: []byte(`{"text":"a reply of a few words"}`)}
	if create {
		r := &tiledesk.Request{ID: tiledesk.NewID(), ProjectID: projectID, RequestID: requestID, FirstText: m.Text,
			Priority: "medium", Channel: m.Channel, ChannelOutbound: m.Channel, RequesterID: requester, CreatedBy: requester}
		post.Create = &tiledesk.NewRequest{Request: r, Lead: tiledesk.LeadRef{LeadID: requester, Fullname: "Visitor"}}
	}
	return post
}
