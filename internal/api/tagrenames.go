package api

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// A library tag renamed is carried to the conversations and leads that carry its former name, in
// the background, a page at a time, each conversation and lead in a transaction of its own (with
// its event). The former name stays with the tag until every one is renamed, so that a process
// stopped midway leaves the work to the next (StartBackground), and a second rename waits.

// tagRenamePage is how many conversations or leads one read of the work takes.
const tagRenamePage = 100

// tagRenameRetry is how often pending renames are looked for again, after a failure or one left
// by another process.
const tagRenameRetry = time.Minute

type tagRenamer struct {
	once    sync.Once
	started atomic.Bool
	kick    chan struct{}
	done    chan struct{}
}

// StartBackground starts the server's own background work: the tag renames a stopped process
// left. It ends with Close.
func (s *Server) StartBackground() { s.kickTagRenames() }

// kickTagRenames has the renamer look for pending renames now, starting it the first time.
func (s *Server) kickTagRenames() {
	r := &s.renamer
	r.once.Do(func() {
		r.kick, r.done = make(chan struct{}, 1), make(chan struct{})
		r.started.Store(true)
		go s.runTagRenames()
	})
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// waitTagRenames waits for the renamer to stop (after s.stop).
func (s *Server) waitTagRenames() {
	if s.renamer.started.Load() {
		<-s.renamer.done
	}
}

func (s *Server) runTagRenames() {
	defer close(s.renamer.done)
	tick := time.NewTicker(tagRenameRetry)
	defer tick.Stop()
	for {
		select {
		case <-s.stopping.Done():
			return
		case <-s.renamer.kick:
		case <-tick.C:
		}
		pending, err := s.store.PendingTagRenames(s.stopping, 50)
		for _, t := range pending {
			if err == nil {
				err = s.carryTagRename(s.stopping, t)
			}
		}
		if err != nil && s.stopping.Err() == nil {
			s.log.Warn("tag rename: carrying it failed; trying again", "err", err)
		}
	}
}

// carryTagRename renames t's former name on its project's conversations and leads, then clears it.
func (s *Server) carryTagRename(ctx context.Context, t *tiledesk.LibraryTag) error {
	from, n := t.RenamedFrom, 0
	for {
		page, err := s.store.FindRequests(ctx, t.ProjectID, tiledesk.RequestFilter{Tags: []string{from}, AllStatuses: true,
			Limit: tagRenamePage})
		if err != nil {
			return err
		}
		for _, r := range page.Requests {
			_, err := s.store.ChangeRequest(ctx, t.ProjectID, r.RequestID, nil, tiledesk.RenameRequestTag(from, t.Tag, t.Color), nil)
			if err != nil && tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
				return err
			}
		}
		n += len(page.Requests)
		if len(page.Requests) < tagRenamePage {
			break
		}
	}
	for {
		page, err := s.store.FindLeads(ctx, t.ProjectID, tiledesk.LeadFilter{Tags: []string{from}, AllStatuses: true, Limit: tagRenamePage})
		if err != nil {
			return err
		}
		for _, l := range page.Leads {
			_, err := s.store.UpdateLead(ctx, t.ProjectID, l.ID, tiledesk.LeadUpdate{RenameTag: &[2]string{from, t.Tag}}, nil)
			if err != nil && tiledesk.ErrorCode(err) != tiledesk.ENOTFOUND {
				return err
			}
		}
		n += len(page.Leads)
		if len(page.Leads) < tagRenamePage {
			break
		}
	}
	s.log.Info("tag renamed on conversations and leads", "project", t.ProjectID, "from", from, "to", t.Tag, "changed", n)
	return s.store.FinishTagRename(ctx, t.ProjectID, t.ID, from)
}
