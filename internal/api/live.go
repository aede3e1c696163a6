package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/live"
	"github.com/tiledesk-go/tiledesk/internal/views"
)

// The websocket (internal/live) on the API's port, at /, as the original serves it: the upgrade,
// its authentication, and what the hub reads through the API (memberships, conversations, the
// original's shapes).

// Websocket snapshots, as the original bounds them.
const (
	liveRequestsLimit = 100 // open conversations of a project's topic
	liveMessagesLimit = 300 // messages of a conversation's topic
)

// isLiveUpgrade says whether r asks for the websocket: an upgrade at / (or /v1/).
func isLiveUpgrade(r *http.Request) bool {
	if p := r.URL.Path; p != "/" && p != "/v1" && p != "/v1/" {
		return false
	}
	return strings.Contains(strings.ToLower(r.Header.Get("Upgrade")), "websocket")
}

// liveHub is the process's hub, started by the first websocket: a server that serves none runs
// no goroutine for it.
func (s *Server) liveHub() *live.Hub {
	s.liveOnce.Do(func() {
		opt := s.liveOpts
		opt.Bus, opt.Events, opt.Source, opt.Log = s.events, s.store, liveSource{s}, s.log
		s.live.Store(live.New(opt))
	})
	return s.live.Load()
}

// LiveStats counts the websocket connections and their subscriptions.
func (s *Server) LiveStats() (connections, subscriptions int) {
	if h := s.live.Load(); h != nil {
		return h.Stats()
	}
	return 0, 0
}

// serveLive upgrades to the websocket. The token comes as ?token=JWT <token> (the original's
// form; "Bearer " or no prefix are taken too) or in the Authorization header; registered users and
// visitors alike connect, and what each may follow is decided per topic. A bad token is a 401
// before the upgrade.
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request, in *reqInfo) {
	in.route = "websocket"
	var c *caller
	var err error
	if tok := r.URL.Query().Get("token"); tok != "" {
		c, err = s.tokenCaller(r, stripScheme(tok))
	} else {
		c, err = s.authenticate(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	hub := s.liveHub()
	if hub == nil { // closing
		writeJSON(w, http.StatusServiceUnavailable, msgBody{Success: false, Msg: "The server is shutting down."})
		return
	}
	id := live.Identity{UserID: c.id, Guest: c.user == nil, Address: in.ip.String(), Scope: c.scope}
	switch {
	case c.claims != nil:
		id.Generation = c.claims.Generation
		if c.claims.ExpiresAt > 0 {
			id.Expires = time.Unix(c.claims.ExpiresAt, 0)
		}
	case c.user != nil: // Basic credentials: a password change ends them too
		id.Generation = c.user.TokenGeneration
	}
	release, err := hub.Admit(id)
	if err != nil {
		w.Header().Set("Retry-After", "10")
		writeJSON(w, http.StatusTooManyRequests, msgBody{Success: false, Msg: "Too many websocket connections from this user or address; close some first."})
		return
	}
	// The server's read and write timeouts bound a request; a socket lives for hours and keeps its
	// own deadlines (the heartbeat, a timeout per frame written).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	// Any origin may connect: the credential is the token in the URL, never a cookie, so a page of
	// another site gains nothing a script could not do with the token itself.
	conn, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		release()
		return
	}
	hub.Serve(conn, id, release)
}

// liveBufferBytes sizes a socket's read and write buffers. The HTTP server's are 4 KiB each,
// which ten thousand idle sockets would hold for nothing: client frames are small, and a large
// frame is written past the buffer.
const liveBufferBytes = 512

// smallBuffers hands the websocket a hijacked connection with buffers of liveBufferBytes.
type smallBuffers struct{ http.ResponseWriter }

func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the client sent after its request and the server already read are kept: the new
	// reader's buffer starts with them.
	early, _ := brw.Reader.Peek(brw.Reader.Buffered())
	early = bytes.Clone(early)
	rd := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(early), conn), max(liveBufferBytes, len(early)))
	if _, err := rd.Peek(len(early)); err != nil {
		conn.Close()
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, bufio.NewReadWriter(rd, bufio.NewWriterSize(conn, liveBufferBytes)), nil
}

// liveSource is what the hub reads through the API.
type liveSource struct{ s *Server }

func (l liveSource) Member(ctx context.Context, pid string, id live.Identity) (*tiledesk.ProjectUser, error) {
	if id.Scope != "" && id.Scope != pid {
		return nil, tiledesk.NotFound("project_user")
	}
	return l.s.store.FindMember(ctx, pid, id.UserID, id.Guest)
}

func (l liveSource) Request(ctx context.Context, pid, rid string, v *tiledesk.Visibility) (*tiledesk.Request, error) {
	return l.s.store.FindRequest(ctx, pid, rid, v)
}

func (l liveSource) Restricted(ctx context.Context, pid, dep string) (bool, error) {
	d, err := l.s.store.FindDepartmentByID(ctx, pid, dep)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return false, nil // a department that no longer exists restricts nothing
	} else if err != nil {
		return false, err
	}
	return d.IDGroup != "", nil
}

// liveAudience is the view of conversations a grant reads.
func liveAudience(g *live.Grant) views.Audience {
	if g.Visibility.IsVisitor() {
		return visitorView
	}
	return agentView
}

// Snapshot renders a topic's first frame as the original does: the open conversations the member
// sees (newest change first), a conversation populated, its first messages, the member's own
// membership.
func (l liveSource) Snapshot(ctx context.Context, t live.Topic, g *live.Grant) (json.RawMessage, error) {
	s, view := l.s, liveAudience(g)
	switch t.Kind {
	case live.TopicRequests:
		f := tiledesk.RequestFilter{Sort: tiledesk.RequestSortUpdatedAt, Desc: true, Limit: liveRequestsLimit,
			VisibleTo: g.Visibility, ExcludeDrafts: true, NoCount: true}
		page, err := s.views.Requests.Page(ctx, view, t.ProjectID, f, liveRequestsLimit)
		if err != nil {
			return nil, err
		}
		var list struct {
			Requests json.RawMessage `json:"requests"`
		}
		if err := json.Unmarshal(page.Body, &list); err != nil {
			return nil, err
		}
		return list.Requests, nil
	case live.TopicRequest:
		req, err := s.store.FindRequest(ctx, t.ProjectID, t.ID, g.Visibility)
		if err != nil {
			return nil, err
		}
		return s.views.Requests.One(ctx, view, req, nil)
	case live.TopicMessages:
		items, _, err := s.messagePage(ctx, view, t.ProjectID, t.ID, tiledesk.MessageFilter{Limit: liveMessagesLimit})
		if err != nil {
			return nil, err
		}
		return append(append([]byte{'['}, bytes.Join(items, []byte{','})...), ']'), nil
	}
	pu, err := s.store.FindProjectUserByID(ctx, t.ProjectID, t.ID)
	if err != nil {
		return nil, err
	}
	p, err := s.store.FindProjectByID(ctx, t.ProjectID)
	if err != nil {
		return nil, err
	}
	return encodeJSON(toProjectUser(pu, p))
}

// Decode reads an event for the hub; its frames are the feed's and the webhooks' shapes
// (eventwire.go), for agents or for the conversation's visitor.
func (l liveSource) Decode(ev *tiledesk.Event) (*live.Item, error) {
	switch eventKind(ev.Name) {
	case "request", "message", "project_user", "department":
	default:
		return nil, nil
	}
	subj, err := decodeEvent(ev)
	if err != nil {
		return nil, err
	}
	// A join or leave ({member, request} in the log) is framed as the conversation it changed,
	// as every frame of a conversation's topics is.
	subj.Member = ""
	it := &live.Item{Request: subj.Request, Message: subj.Message, ProjectUser: subj.ProjectUser}
	if subj.Department != nil {
		it.DepartmentID = subj.Department.ID
	}
	// Each audience's rendering is made once per event, by Prepare (a conversation populated, as
	// the original publishes it) or else by Render (the event's payload in the audience's shape).
	var rendered [2]json.RawMessage
	var done [2]bool
	now := l.s.now()
	audience := func(visitor bool) int {
		if visitor {
			return 1
		}
		return 0
	}
	it.Render = func(visitor bool) json.RawMessage {
		a := audience(visitor)
		if !done[a] {
			done[a] = true
			var o any = subj.wire(now)
			if visitor {
				o = subj.visitorWire()
			}
			if o != nil {
				rendered[a], _ = encodeJSON(o)
				rendered[a] = bytes.TrimRight(rendered[a], "\n")
			}
		}
		return rendered[a]
	}
	if subj.Message != nil {
		var conversation [2]json.RawMessage
		it.RenderConversation = func(visitor bool) json.RawMessage { return conversation[audience(visitor)] }
		it.Prepare = func(ctx context.Context, visitor bool) {
			a := audience(visitor)
			if done[a] {
				return
			}
			var req *tiledesk.Request
			rendered[a], conversation[a], req, done[a] = l.messageWithRequest(ctx, ev.ProjectID, subj.Message, visitor)
			if req != nil {
				it.Conversation = req
			}
		}
	}
	if subj.Request != nil && ev.Name != tiledesk.EventRequestDelete {
		it.Prepare = func(ctx context.Context, visitor bool) {
			a := audience(visitor)
			if done[a] {
				return
			}
			view := agentView
			if visitor {
				view = visitorView
			}
			if out, err := l.s.views.Requests.One(ctx, view, subj.Request, nil); err == nil {
				rendered[a], done[a] = out, true
			}
		}
	}
	return it, nil
}

// messageWithRequest renders a message frame as the original publishes it: the message with its
// conversation populated, in the audience's view, and that conversation alone, the frame of the
// project's list topic. ok is false when the conversation cannot be read, and the frame is then
// the message alone (Render). An internal note renders nothing for visitors.
func (l liveSource) messageWithRequest(ctx context.Context, pid string, m *tiledesk.Message, visitor bool) (msg, conversation json.RawMessage, req *tiledesk.Request, ok bool) {
	view, wire := agentView, toMessage(m)
	if visitor {
		if view, wire = visitorView, toVisitorMessage(m); wire == nil {
			return nil, nil, nil, true
		}
	}
	req, err := l.s.store.FindRequest(ctx, pid, m.Recipient, nil)
	if err != nil {
		return nil, nil, nil, false
	}
	populated, err := l.s.views.Requests.One(ctx, view, req, nil)
	if err != nil {
		return nil, nil, req, false
	}
	out, err := encodeJSONWith(wire, "request", populated)
	if err != nil {
		return nil, nil, req, false
	}
	return out, bytes.TrimRight(populated, "\n"), req, true
}
