package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// EventRelay numbers events where writers do not number their own (PostgreSQL: see
// SetEventRelay), and tells the store of every process which projects' logs grew.
type EventRelay interface {
	// Start begins the relay's work once the schema is current (Migrate calls it).
	Start(ctx context.Context) error
	// Kick says that a transaction with events has committed in this process.
	Kick()
}

// SetEventRelay makes the store leave the events it writes unnumbered, for relay to number after
// their commit. Call it before the first write. Without a relay (SQLite, one writer) every
// transaction numbers its own events after its project's highest number, and the store announces
// them itself once committed.
func (s *Store) SetEventRelay(relay EventRelay) { s.relay = relay }

// OnEvents sets the function told, after each commit in this process (and, through the relay, in
// every process), the highest Seq of each project whose log grew. It must not block.
func (s *Store) OnEvents(announce func(projectID string, seq int64)) { s.announce.Store(&announce) }

// Announce hands a project's new last Seq to the OnEvents function (the relay calls it).
func (s *Store) Announce(projectID string, seq int64) {
	if fn := s.announce.Load(); fn != nil {
		(*fn)(projectID, seq)
	}
}

// eventsCommitted tells the readers of the log that the events of committed transactions exist.
func (s *Store) eventsCommitted(events []*tiledesk.Event) {
	if len(events) == 0 {
		return
	}
	if s.relay != nil {
		s.relay.Kick()
		return
	}
	for i, ev := range events {
		// One announcement per project, with its highest Seq: events of a transaction come in
		// Seq order per project.
		if i+1 < len(events) && events[i+1].ProjectID == ev.ProjectID {
			continue
		}
		s.Announce(ev.ProjectID, ev.Seq)
	}
}

// event appends an event to the log in this transaction. A payload already encoded
// (json.RawMessage) is stored as it is: encoding outside the transaction keeps the work off the
// single SQLite writer.
func (t *tx) event(ctx context.Context, projectID, name, objectID string, payload any) error {
	return t.eventWithID(ctx, tiledesk.NewIDAt(t.now), projectID, name, objectID, payload)
}

// eventWithID is event with the event's id given (a custom event is its own entry of the log).
func (t *tx) eventWithID(ctx context.Context, id, projectID, name, objectID string, payload any) error {
	if t.s.eventLogOff {
		return nil
	}
	raw, ok := payload.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(payload); err != nil {
			return fmt.Errorf("encode %s event: %w", name, err)
		}
	}
	ev := &tiledesk.Event{ID: id, ProjectID: projectID, Name: name, ObjectID: objectID,
		Payload: raw, CreatedAt: t.now}
	if t.s.relay != nil && !t.s.dialect.SingleWriter() {
		t.unwritten = append(t.unwritten, ev)
	} else if t.s.relay == nil {
		if err := t.queryRow(ctx, `INSERT INTO events (id_project, id, name, object_id, payload, created_at, seq)
			VALUES ($1, $2, $3, $4, $5, $6, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE id_project = $1)) RETURNING seq`,
			ev.ProjectID, ev.ID, ev.Name, ev.ObjectID, string(raw), ms(ev.CreatedAt)).Scan(&ev.Seq); err != nil {
			return fmt.Errorf("insert %s event: %w", name, err)
		}
	} else if _, err := t.exec(ctx, `INSERT INTO events (id_project, id, name, object_id, payload, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, ev.ProjectID, ev.ID, ev.Name, ev.ObjectID, string(raw), ms(ev.CreatedAt)); err != nil {
		return fmt.Errorf("insert %s event: %w", name, err)
	}
	t.events = append(t.events, ev)
	return nil
}

// eventsPerInsert bounds the rows of one insert of flushEvents (and so its distinct texts).
const eventsPerInsert = 64

// flushEvents inserts the events a transaction of many writers gathered (the relay numbers them
// after the commit, so none needs its number at once), in as few statements as their count allows:
// a conversation's creation, for one, records several. They keep their order: pos, which orders
// a transaction's events for the relay, is drawn row after row.
func (t *tx) flushEvents(ctx context.Context) error {
	for len(t.unwritten) > 0 {
		batch := t.unwritten[:min(len(t.unwritten), eventsPerInsert)]
		t.unwritten = t.unwritten[len(batch):]
		var a sqlArgs
		rows := make([]string, len(batch))
		for i, ev := range batch {
			rows[i] = "(" + a.add(ev.ProjectID) + ", " + a.add(ev.ID) + ", " + a.add(ev.Name) + ", " + a.add(ev.ObjectID) +
				", " + a.add(string(ev.Payload)) + ", " + a.add(ms(ev.CreatedAt)) + ")"
		}
		if err := t.write(ctx, `INSERT INTO events (id_project, id, name, object_id, payload, created_at) VALUES `+
			strings.Join(rows, ", "), a.args...); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
	}
	return nil
}

const eventColumns = `id_project, id, name, object_id, payload, created_at, seq`

func scanEvent(row scanner) (*tiledesk.Event, error) {
	var ev tiledesk.Event
	var objectID, payload sql.NullString
	var created int64
	var seq sql.NullInt64
	if err := row.Scan(&ev.ProjectID, &ev.ID, &ev.Name, &objectID, &payload, &created, &seq); err != nil {
		return nil, err
	}
	ev.ObjectID, ev.CreatedAt, ev.Seq = objectID.String, fromMS(created), seq.Int64
	if payload.Valid {
		ev.Payload = []byte(payload.String)
	}
	return &ev, nil
}

// FindEvents lists a project's events, oldest first.
func (s *Store) FindEvents(ctx context.Context, projectID string, f tiledesk.EventFilter) ([]*tiledesk.Event, error) {
	limit := f.Limit
	if limit <= 0 || limit > tiledesk.MaxEventPage {
		limit = tiledesk.MaxEventPage
	}
	rows, err := s.query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE id_project = $1 AND (CAST($2 AS TEXT) = '' OR name = $2) AND id > $3 ORDER BY id LIMIT $4`,
		projectID, f.Name, f.AfterID, limit)
	if err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	return collect(rows, scanEvent)
}

// EventsAfter lists the project's numbered events after a Seq.
func (s *Store) EventsAfter(ctx context.Context, projectID string, after int64, limit int) ([]*tiledesk.Event, error) {
	if limit <= 0 || limit > tiledesk.MaxEventPage {
		limit = tiledesk.MaxEventPage
	}
	rows, err := s.query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE id_project = $1 AND seq > $2 ORDER BY seq LIMIT $3`, projectID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", after, err)
	}
	return collect(rows, scanEvent)
}

// LastEventSeq reads the project's highest number, which pruning keeps.
func (s *Store) LastEventSeq(ctx context.Context, projectID string) (int64, error) {
	var seq sql.NullInt64
	if err := s.queryRow(ctx, `SELECT MAX(seq) FROM events WHERE id_project = $1`, projectID).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last event: %w", err)
	}
	return seq.Int64, nil
}

// OldestEventSeq reads the lowest Seq still kept.
func (s *Store) OldestEventSeq(ctx context.Context, projectID string) (int64, error) {
	var seq sql.NullInt64
	if err := s.queryRow(ctx, `SELECT MIN(seq) FROM events WHERE id_project = $1`, projectID).Scan(&seq); err != nil {
		return 0, fmt.Errorf("oldest event: %w", err)
	}
	return seq.Int64, nil
}

// PruneEvents deletes a bounded batch of the events created before cutoff, each batch a write
// transaction of its own so that writers wait for none longer than one batch. Unnumbered events
// are left to their numbering, and each project's newest event is kept, whatever their age: the
// next event is numbered after it.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = 1000
	}
	var n int64
	err := s.inTx(ctx, func(t *tx) error {
		res, err := t.exec(ctx, `DELETE FROM events WHERE (id_project, id) IN (
			SELECT id_project, id FROM events AS e WHERE created_at < $1 AND seq IS NOT NULL
				AND seq < (SELECT MAX(seq) FROM events AS m WHERE m.id_project = e.id_project)
			ORDER BY created_at LIMIT $2)`,
			ms(cutoff), batch)
		if err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// PruneEventsUntil deletes the events created before now()-retention in batches, pausing between
// them, until none is left or ctx ends; it logs through report how many it deleted.
func (s *Store) PruneEventsUntil(ctx context.Context, retention time.Duration, batch int, pause time.Duration) (int, error) {
	cutoff := s.now().Add(-retention)
	total := 0
	for {
		n, err := s.PruneEvents(ctx, cutoff, batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(pause):
		}
	}
}
