package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// check is one verification of a run of several processes: that the writes the servers
// acknowledged are stored, that ticket numbers stay unique, that one process reads what another
// wrote. A failed check fails the run.
type check struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

// checkedWrites are the write scenarios whose acknowledged writes a run of several processes
// verifies in the database.
var checkedWrites = map[string]bool{"lead-create": true, "message-post": true, "message-first": true}

// writeLedger records what the servers acknowledged (answered 2xx) during a write scenario: the
// email of each lead created (each is drawn at random), or the conversation each message went into.
type writeLedger struct {
	scenario string
	mu       sync.Mutex
	emails   []string
	acks     map[string]int // conversation (request_id) -> messages acknowledged
	before   map[string]int // conversation -> messages stored before the scenario (message-post)
}

func newWriteLedger(scenario string) *writeLedger {
	return &writeLedger{scenario: scenario, acks: map[string]int{}}
}

// ack records one acknowledged request; the load's workers call it at once.
func (l *writeLedger) ack(req *http.Request) {
	if l.scenario == "lead-create" {
		email := leadEmail(req)
		l.mu.Lock()
		l.emails = append(l.emails, email)
		l.mu.Unlock()
		return
	}
	rid := conversationOf(req.URL.Path)
	l.mu.Lock()
	l.acks[rid]++
	l.mu.Unlock()
}

// leadEmail reads the email of a lead-create request's body again (NewRequest keeps GetBody for a
// bytes reader); "" when it cannot, which the check then reports as missing.
func leadEmail(req *http.Request) string {
	if req.GetBody == nil {
		return ""
	}
	body, err := req.GetBody()
	if err != nil {
		return ""
	}
	raw, _ := io.ReadAll(body)
	var lead struct {
		Email string `json:"email"`
	}
	_ = json.Unmarshal(raw, &lead)
	return lead.Email
}

// conversationOf is the request_id of a path .../requests/{request_id}/messages ("" for another).
func conversationOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "requests" && parts[i+2] == "messages" {
			return parts[i+1]
		}
	}
	return ""
}

// messagesPerConversation counts the project's messages by conversation.
func messagesPerConversation(ctx context.Context, db *sql.DB, pid string) (map[string]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT recipient, count(*) FROM messages WHERE id_project = $1 GROUP BY recipient`, pid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var rid string
		var n int
		if err := rows.Scan(&rid, &n); err != nil {
			return nil, err
		}
		counts[rid] = n
	}
	return counts, rows.Err()
}

// start takes what verify compares with: the messages each conversation holds before a reply
// scenario.
func (l *writeLedger) start(ctx context.Context, db *sql.DB, pid string) error {
	if l.scenario != "message-post" {
		return nil
	}
	var err error
	l.before, err = messagesPerConversation(ctx, db, pid)
	return err
}

// verify checks that every acknowledged write is in the database.
func (l *writeLedger) verify(ctx context.Context, db *sql.DB, pid string) (check, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := check{Name: l.scenario + ": every acknowledged write is stored"}
	var missing []string
	switch l.scenario {
	case "lead-create":
		stored, err := storedLeads(ctx, db, pid, l.emails)
		if err != nil {
			return c, err
		}
		missing = missingOf(l.emails, stored)
		c.Detail = fmt.Sprintf("%d leads acknowledged, %d of them found by email", len(l.emails), len(l.emails)-len(missing))
	case "message-post":
		after, err := messagesPerConversation(ctx, db, pid)
		if err != nil {
			return c, err
		}
		missing = missingMessages(l.acks, l.before, after)
		c.Detail = fmt.Sprintf("%d replies acknowledged into %d conversations", sum(l.acks), len(l.acks))
	case "message-first":
		rids := make([]string, 0, len(l.acks))
		for rid := range l.acks {
			rids = append(rids, rid)
		}
		stored, err := storedConversations(ctx, db, pid, rids)
		if err != nil {
			return c, err
		}
		missing = missingOf(rids, stored)
		c.Detail = fmt.Sprintf("%d first messages acknowledged, %d conversations found with their message", len(rids), len(rids)-len(missing))
	}
	c.Passed = len(missing) == 0 && l.acknowledgedLocked() > 0
	if len(missing) > 0 {
		c.Detail += fmt.Sprintf("; missing: %s", strings.Join(missing[:min(len(missing), 5)], ", "))
	}
	if l.acknowledgedLocked() == 0 {
		c.Detail += "; nothing was acknowledged, so nothing was checked"
	}
	return c, nil
}

func (l *writeLedger) acknowledgedLocked() int { return len(l.emails) + sum(l.acks) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// missingOf is what of want is not in stored.
func missingOf(want []string, stored map[string]bool) []string {
	var missing []string
	for _, w := range want {
		if !stored[w] {
			missing = append(missing, fmt.Sprintf("%q", w))
		}
	}
	return missing
}

// missingMessages names each conversation that holds fewer new messages than were acknowledged
// into it.
func missingMessages(acks, before, after map[string]int) []string {
	var missing []string
	for rid, n := range acks {
		if got := after[rid] - before[rid]; got < n {
			missing = append(missing, fmt.Sprintf("%s: %d of %d replies", rid, got, n))
		}
	}
	return missing
}

// storedLeads are those of emails that the project's leads hold.
func storedLeads(ctx context.Context, db *sql.DB, pid string, emails []string) (map[string]bool, error) {
	return storedKeys(ctx, db, `SELECT DISTINCT e.v FROM unnest($2::text[]) e(v) JOIN leads l ON l.id_project = $1 AND l.email = e.v`, pid, emails)
}

// storedConversations are those of rids that exist with at least one message.
func storedConversations(ctx context.Context, db *sql.DB, pid string, rids []string) (map[string]bool, error) {
	return storedKeys(ctx, db, `SELECT r.v FROM unnest($2::text[]) r(v)
		WHERE EXISTS (SELECT 1 FROM requests WHERE id_project = $1 AND request_id = r.v)
		AND EXISTS (SELECT 1 FROM messages WHERE id_project = $1 AND recipient = r.v)`, pid, rids)
}

func storedKeys(ctx context.Context, db *sql.DB, query, pid string, keys []string) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, query, pid, keys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		found[k] = true
	}
	return found, rows.Err()
}

// uniqueTickets checks that no two conversations of the project share a ticket number.
func uniqueTickets(ctx context.Context, db *sql.DB, pid string) (check, error) {
	c := check{Name: "ticket numbers are unique in the project"}
	rows, err := db.QueryContext(ctx, `SELECT ticket_id, count(*) FROM requests WHERE id_project = $1 GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 5`, pid)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	var dups []string
	for rows.Next() {
		var ticket, n int64
		if err := rows.Scan(&ticket, &n); err != nil {
			return c, err
		}
		dups = append(dups, fmt.Sprintf("ticket %d on %d conversations", ticket, n))
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	var total int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM requests WHERE id_project = $1`, pid).Scan(&total); err != nil {
		return c, err
	}
	c.Passed = len(dups) == 0
	c.Detail = fmt.Sprintf("%d conversations", total)
	if len(dups) > 0 {
		c.Detail += "; duplicated: " + strings.Join(dups, ", ")
	}
	return c, nil
}
