package api

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/views"
)

// csvBatchBytes is about how much of an export is read, held and written at once.
const csvBatchBytes = 1 << 20

// maxCSVBatch is the most rows an export reads at once, however small they are.
const maxCSVBatch = 500

// csvWriteTimeout is how long one batch of an export may take to reach the client. The server's
// write timeout bounds a whole answer from its request on, and exporting a large project takes
// longer than that: each batch gets a deadline of its own instead, so that an export is never cut
// for its length while a client that stops reading is still let go.
const csvWriteTimeout = 60 * time.Second

// csvBatch reads an export's next batch: at most n rows, as cells, and whether more follow.
type csvBatch func(ctx context.Context, n int) (rows [][]string, more bool, err error)

// streamCSV answers an export as ';'-separated CSV: the header, then the rows a batch at a time.
// Each batch is read while holding a place at the read gate, as every read waits its turn, and
// written after giving the place back, under a write deadline of its own: a slow client holds no
// place, and a long export is not cut by the server's write timeout. Batches hold about
// csvBatchBytes going by the rows written so far (the first by the rows of the last export of the
// same kind, or views.MaxReadChunk rows), so that an export of large rows holds a few of them at a time. The first batch is read before anything is
// sent, so that its failure answers as any error does; a later one ends the export early.
func (s *Server) streamCSV(w http.ResponseWriter, r *http.Request, c *call, name string, header []string, next csvBatch) error {
	ctx := r.Context()
	var rows [][]string
	var more bool
	list := views.SizeKey{List: "csv:" + name, ProjectID: c.project.ID}
	n := s.sizes.Chunk(list, 0, 0, csvBatchBytes)
	read := func() error {
		return s.reads.inLine(ctx, func() (err error) {
			rows, more, err = next(ctx, n)
			return err
		})
	}
	if err := read(); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	rc := http.NewResponseController(w)
	out := &countingWriter{w: w}
	cw := csv.NewWriter(out)
	cw.Comma = ';'
	_ = cw.Write(header)
	written := 0
	defer func() { s.sizes.Note(list, int(out.n), written) }()
	for {
		_ = rc.SetWriteDeadline(time.Now().Add(csvWriteTimeout)) // fails only where there are no deadlines (tests)
		for _, row := range rows {
			_ = cw.Write(csvSafe(row))
		}
		cw.Flush()
		_ = rc.Flush()
		written += len(rows)
		if cw.Error() != nil || !more {
			return nil // a write error means the client went away; the status is already sent
		}
		n = int(max(1, min(maxCSVBatch, int64(csvBatchBytes)*int64(written)/max(out.n, 1))))
		if err := read(); err != nil {
			if ctx.Err() == nil {
				s.log.Error("export interrupted", "export", name, "project", c.project.ID, "err", err)
			}
			return nil
		}
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// jsonCell is an object as one JSON cell, empty when it has no keys.
func jsonCell(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	b, err := encodeJSON(m)
	if err != nil {
		return ""
	}
	return string(b)
}

func jsDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// csvSafe defuses cells a spreadsheet would run as formulas, keeping phone numbers like +39 06 1234.
func csvSafe(cells []string) []string {
	for i, c := range cells {
		if c == "" {
			continue
		}
		switch c[0] {
		case '=', '@', '\t', '\r':
			cells[i] = "'" + c
		case '+', '-':
			if strings.IndexFunc(c[1:], func(r rune) bool { return !unicode.IsDigit(r) && !strings.ContainsRune(" ().-/", r) }) >= 0 {
				cells[i] = "'" + c
			}
		}
	}
	return cells
}

// leadCSVHeader is the original's columns, then the attributes and properties, each as one JSON cell.
var leadCSVHeader = []string{"_id", "lead_id", "fullname", "email", "phone", "company", "note", "streetAddress", "city",
	"region", "zipcode", "country", "tags", "status", "id_project", "createdBy", "createdAt", "updatedAt",
	"attributes", "properties"}

// handleLeadCSV streams the filtered leads (streamCSV).
func (s *Server) handleLeadCSV(w http.ResponseWriter, r *http.Request, c *call) error {
	f, _, err := leadListQuery(r)
	if err != nil {
		return err
	}
	f.NoCount = true
	return s.streamCSV(w, r, c, "leads.csv", leadCSVHeader, func(ctx context.Context, n int) ([][]string, bool, error) {
		f.Limit = n
		page, err := s.store.FindLeads(ctx, c.project.ID, f)
		if err != nil {
			return nil, false, err
		}
		rows := make([][]string, 0, len(page.Leads))
		for _, l := range page.Leads {
			rows = append(rows, []string{l.ID, l.LeadID, l.Fullname, l.Email, l.Phone, l.Company, l.Note,
				l.StreetAddress, l.City, l.Region, l.Zipcode, l.Country, strings.Join(l.Tags, ","), strconv.Itoa(l.Status),
				l.ProjectID, l.CreatedBy, jsDate(l.CreatedAt), jsDate(l.UpdatedAt), jsonCell(l.Attributes), jsonCell(l.Properties)})
		}
		f.After, f.Offset = page.Next, 0
		return rows, page.Next != nil, nil
	})
}

// requestCSVHeader is the original's columns, then the attributes as one JSON cell.
var requestCSVHeader = []string{"_id", "request_id", "ticket_id", "status", "first_text", "subject", "requester", "lead",
	"lead_fullname", "lead_email", "department", "department_name", "participants", "tags", "channel_name", "priority",
	"createdAt", "updatedAt", "closed_at", "attributes"}

// handleRequestCSV streams the filtered conversations the caller sees (streamCSV).
func (s *Server) handleRequestCSV(w http.ResponseWriter, r *http.Request, c *call) error {
	f, _, err := requestListQuery(r)
	if err != nil {
		return err
	}
	f.NoCount, f.VisibleTo = true, visibilityOf(c)
	return s.streamCSV(w, r, c, "requests.csv", requestCSVHeader, func(ctx context.Context, n int) ([][]string, bool, error) {
		f.Limit = n
		page, err := s.store.FindRequests(ctx, c.project.ID, f)
		if err != nil {
			return nil, false, err
		}
		var leadIDs, deptIDs []string
		for _, req := range page.Requests {
			leadIDs, deptIDs = append(leadIDs, req.LeadID), append(deptIDs, req.DepartmentID)
		}
		leads, err := s.store.FindLeadsByIDs(ctx, c.project.ID, leadIDs)
		if err != nil {
			return nil, false, err
		}
		depts, err := s.store.FindDepartmentsByIDs(ctx, c.project.ID, deptIDs)
		if err != nil {
			return nil, false, err
		}
		rows := make([][]string, 0, len(page.Requests))
		for _, req := range page.Requests {
			var leadName, leadEmail, deptName, closed string
			if l := leads[req.LeadID]; l != nil {
				leadName, leadEmail = l.Fullname, l.Email
			}
			if d := depts[req.DepartmentID]; d != nil {
				deptName = d.Name
			}
			if req.ClosedAt != nil {
				closed = jsDate(*req.ClosedAt)
			}
			rows = append(rows, []string{req.ID, req.RequestID, strconv.Itoa(req.TicketID), strconv.Itoa(req.Status),
				req.FirstText, req.Subject, req.RequesterID, req.LeadID, leadName, leadEmail, req.DepartmentID, deptName,
				strings.Join(req.Participants, ","), strings.Join(tagNames(req.Tags), ","), req.Channel.Name, req.Priority,
				jsDate(req.CreatedAt), jsDate(req.UpdatedAt), closed, jsonCell(req.Attributes)})
		}
		f.After, f.Offset = page.Next, 0
		return rows, page.Next != nil, nil
	})
}

// messageCSVHeader is the original's columns, then the attributes and metadata as JSON cells.
var messageCSVHeader = []string{"_id", "sender", "senderFullname", "recipient", "type", "text", "status", "createdAt",
	"attributes", "metadata"}

// messageCSVBatch reads a conversation's messages, oldest first, a batch at a time, as the rows of
// messageCSVHeader; for a visitor, as its view of them (visitor_view.go): no agents' notes, no
// internal attributes.
func (s *Server) messageCSVBatch(projectID, requestID string, visitor bool) csvBatch {
	var after *tiledesk.Cursor
	return func(ctx context.Context, n int) ([][]string, bool, error) {
		msgs, next, err := s.store.FindMessages(ctx, projectID, requestID, tiledesk.MessageFilter{Limit: n, After: after})
		if err != nil {
			return nil, false, err
		}
		rows := make([][]string, 0, len(msgs))
		for _, m := range msgs {
			attributes := m.Attributes
			if visitor {
				if tiledesk.IsInternal(m.Attributes) {
					continue
				}
				attributes = tiledesk.WithoutInternal(m.Attributes)
			}
			rows = append(rows, []string{m.ID, m.Sender, m.SenderFullname, m.Recipient, m.Type, m.Text,
				strconv.Itoa(m.Status), jsDate(m.CreatedAt), jsonCell(attributes), jsonCell(m.Metadata)})
		}
		after = next
		return rows, next != nil, nil
	}
}
