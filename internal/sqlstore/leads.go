package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

const leadColumns = `id_project, id, lead_id, fullname, email, phone, company, note, street_address, city, region,
	zipcode, country, tags, attributes, properties, status, created_by, created_at, updated_at`

func scanLead(row scanner) (*tiledesk.Lead, error) {
	r, err := scanLeadRow(row)
	if err != nil {
		return nil, err
	}
	return r.lead()
}

// leadRow is a scanned lead whose JSON columns are not decoded yet.
type leadRow struct {
	l                  tiledesk.Lead
	tags, attrs, props sql.NullString
}

func scanLeadRow(row scanner) (*leadRow, error) {
	var (
		r                                                        leadRow
		l                                                        = &r.l
		phone, company, note, street, city, region, zip, country sql.NullString
		created, updated                                         int64
	)
	if err := row.Scan(&l.ProjectID, &l.ID, &l.LeadID, &l.Fullname, &l.Email, &phone, &company, &note, &street,
		&city, &region, &zip, &country, &r.tags, &r.attrs, &r.props, &l.Status, &l.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	l.Phone, l.Company, l.Note, l.StreetAddress = phone.String, company.String, note.String, street.String
	l.City, l.Region, l.Zipcode, l.Country = city.String, region.String, zip.String, country.String
	l.CreatedAt, l.UpdatedAt = fromMS(created), fromMS(updated)
	return &r, nil
}

// lead decodes the JSON columns and returns the lead.
func (r *leadRow) lead() (*tiledesk.Lead, error) {
	l := &r.l
	for _, f := range []struct {
		src sql.NullString
		dst any
	}{{r.tags, &l.Tags}, {r.attrs, &l.Attributes}, {r.props, &l.Properties}} {
		if err := scanJSON(f.src, f.dst); err != nil {
			return nil, fmt.Errorf("lead %s: %w", l.ID, err)
		}
	}
	if l.Tags == nil {
		l.Tags = []string{}
	}
	return l, nil
}

func leadArgs(l *tiledesk.Lead) ([]any, error) {
	attrs, err := jsonArg(l.Attributes)
	if err != nil {
		return nil, tiledesk.Invalid("attributes", "attributes cannot be stored as JSON")
	}
	props, err := jsonArg(l.Properties)
	if err != nil {
		return nil, tiledesk.Invalid("properties", "properties cannot be stored as JSON")
	}
	tags := l.Tags
	if tags == nil {
		tags = []string{}
	}
	return []any{l.ProjectID, l.ID, l.LeadID, l.Fullname, l.Email, nullString(l.Phone), nullString(l.Company),
		nullString(l.Note), nullString(l.StreetAddress), nullString(l.City), nullString(l.Region),
		nullString(l.Zipcode), nullString(l.Country), mustJSON(tags), attrs, props, l.Status, l.CreatedBy,
		ms(l.CreatedAt), ms(l.UpdatedAt), tiledesk.EmailKey(l.Email), tiledesk.SearchText(l.Fullname, l.Email)}, nil
}

// leadClock moves the project's lead clock (and its count of leads that are not deleted by
// activeDelta) for a change of a lead whose previous version was prev (zero for a new one), and
// returns the change's stamp (see stampChange).
func (t *tx) leadClock(ctx context.Context, projectID string, activeDelta int, prev time.Time) (time.Time, error) {
	return t.stampChange(ctx, projectID, counterMoves{leads: 1, leadsActive: activeDelta}, prev)
}

func activeDelta(before, after int) int {
	switch {
	case before != tiledesk.LeadDeleted && after == tiledesk.LeadDeleted:
		return -1
	case before == tiledesk.LeadDeleted && after != tiledesk.LeadDeleted:
		return 1
	}
	return 0
}

// CreateLead inserts a lead.
func (s *Store) CreateLead(ctx context.Context, l *tiledesk.Lead, idem *tiledesk.Idempotency) (*tiledesk.Lead, bool, error) {
	var out *tiledesk.Lead
	replayed := false
	err := s.inTx(ctx, func(t *tx) error {
		if idem != nil {
			first, err := t.claimIdempotency(ctx, l.ProjectID, "lead.create", idem, l.ID)
			if err != nil {
				return err
			}
			if first != "" {
				out, err = scanLead(t.queryRow(ctx, `SELECT `+leadColumns+` FROM leads WHERE id_project = $1 AND id = $2`,
					l.ProjectID, first))
				replayed = true
				return notFound(err, "lead")
			}
		}
		if err := t.insertLead(ctx, l); err != nil {
			return err
		}
		out = l
		return t.event(ctx, l.ProjectID, tiledesk.EventLeadCreate, l.ID, l)
	})
	return out, replayed, err
}

// insertLead stamps and inserts l with its tags.
func (t *tx) insertLead(ctx context.Context, l *tiledesk.Lead) error {
	if l.CreatedAt.IsZero() {
		l.CreatedAt = t.now
	}
	args, err := t.stampLead(ctx, l, tiledesk.LeadDeleted)
	if err != nil {
		return err
	}
	if err := t.insert(ctx, "leads", leadColumns+", email_key, search_text", "", args...); err != nil {
		return fmt.Errorf("insert lead: %w", err)
	}
	return t.writeLeadTags(ctx, l, false)
}

// writeLeadTags mirrors l.Tags into lead_tags, the indexed side of the tags filter.
func (t *tx) writeLeadTags(ctx context.Context, l *tiledesk.Lead, replace bool) error {
	if replace {
		if _, err := t.exec(ctx, `DELETE FROM lead_tags WHERE id_project = $1 AND lead = $2`, l.ProjectID, l.ID); err != nil {
			return fmt.Errorf("clear lead tags: %w", err)
		}
	}
	for _, tag := range l.Tags {
		if err := t.insert(ctx, "lead_tags", "id_project, tag, lead", " ON CONFLICT (id_project, tag, lead) DO NOTHING",
			l.ProjectID, tag, l.ID); err != nil {
			return fmt.Errorf("insert lead tag: %w", err)
		}
	}
	return nil
}

// FindLeadByID returns a lead of the project, deleted ones included.
func (s *Store) FindLeadByID(ctx context.Context, projectID, id string) (*tiledesk.Lead, error) {
	l, err := scanLead(s.queryRow(ctx, `SELECT `+leadColumns+` FROM leads WHERE id_project = $1 AND id = $2`, projectID, id))
	return l, notFound(err, "lead")
}

// FindLeadUnlessKept returns the version (updated_at) of a lead of the project and, unless kept
// reports a rendering of the lead at that version, the lead itself: a kept lead's JSON columns are
// not decoded.
func (s *Store) FindLeadUnlessKept(ctx context.Context, projectID, id string, kept func(updated time.Time) bool) (*tiledesk.Lead, time.Time, error) {
	r, err := scanLeadRow(s.queryRow(ctx, `SELECT `+leadColumns+` FROM leads WHERE id_project = $1 AND id = $2`, projectID, id))
	if err != nil {
		return nil, time.Time{}, notFound(err, "lead")
	}
	if kept(r.l.UpdatedAt) {
		return nil, r.l.UpdatedAt, nil
	}
	l, err := r.lead()
	return l, r.l.UpdatedAt, err
}

// LeadVersion returns a lead's updated_at: one column to read and scan instead of twenty.
func (s *Store) LeadVersion(ctx context.Context, projectID, id string) (time.Time, error) {
	var updated int64
	if err := s.queryRow(ctx, `SELECT updated_at FROM leads WHERE id_project = $1 AND id = $2`, projectID, id).Scan(&updated); err != nil {
		return time.Time{}, notFound(err, "lead")
	}
	return fromMS(updated), nil
}

// LeadOrder: see tiledesk.ViewStore.
func (s *Store) LeadOrder(ctx context.Context, projectID string, max int,
	each func(id string, created, updated time.Time) error) (clock int64, ok bool, err error) {
	if clock, err = s.LeadListClock(ctx, projectID); err != nil {
		return 0, false, err
	}
	// The counter spares reading a list only to find it too long.
	var active int
	err = s.queryRow(ctx, `SELECT COALESCE(SUM(leads_active), 0) FROM project_counters WHERE id_project = $1`, projectID).Scan(&active)
	if err != nil {
		return 0, false, fmt.Errorf("lead order: %w", err)
	}
	if active > max {
		return clock, false, nil
	}
	rows, err := s.query(ctx, `SELECT id, created_at, updated_at FROM leads WHERE id_project = $1 AND status <> $2
		ORDER BY created_at, id`, projectID, tiledesk.LeadDeleted)
	if err != nil {
		return 0, false, fmt.Errorf("lead order: %w", err)
	}
	defer rows.Close()
	var (
		id               string
		created, updated int64
	)
	for n := 0; rows.Next(); n++ {
		if n == max {
			return clock, false, nil
		}
		if err := rows.Scan(&id, &created, &updated); err != nil {
			return 0, false, fmt.Errorf("lead order: %w", err)
		}
		if err := each(id, fromMS(created), fromMS(updated)); err != nil {
			return 0, false, err
		}
	}
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("lead order: %w", err)
	}
	return clock, true, nil
}

// FindLeadByLeadID returns the newest lead with that lead_id.
func (s *Store) FindLeadByLeadID(ctx context.Context, projectID, leadID string) (*tiledesk.Lead, error) {
	l, err := scanLead(s.queryRow(ctx, `SELECT `+leadColumns+` FROM leads WHERE id_project = $1 AND lead_id = $2
		ORDER BY id DESC LIMIT 1`, projectID, leadID))
	return l, notFound(err, "lead")
}

// leadSortColumn maps a sort key to its indexed column.
var leadSortColumn = map[string]string{
	tiledesk.LeadSortCreatedAt: "created_at",
	tiledesk.LeadSortUpdatedAt: "updated_at",
	tiledesk.LeadSortFullname:  "fullname",
	tiledesk.LeadSortEmail:     "email_key",
	tiledesk.LeadSortLeadID:    "lead_id",
	tiledesk.LeadSortID:        "id",
}

// leadSortValue is a lead's value of a sort key, as cursors carry it.
func leadSortValue(l *tiledesk.Lead, key string) any {
	switch key {
	case tiledesk.LeadSortCreatedAt:
		return ms(l.CreatedAt)
	case tiledesk.LeadSortUpdatedAt:
		return ms(l.UpdatedAt)
	case tiledesk.LeadSortFullname:
		return l.Fullname
	case tiledesk.LeadSortEmail:
		return tiledesk.EmailKey(l.Email)
	case tiledesk.LeadSortLeadID:
		return l.LeadID
	}
	return l.ID
}

// FindLeads lists leads by filter, with offset or keyset paging.
func (s *Store) FindLeads(ctx context.Context, projectID string, f tiledesk.LeadFilter) (*tiledesk.LeadPage, error) {
	lq, err := s.leadQuery(ctx, projectID, f)
	if err != nil || lq.empty {
		return &tiledesk.LeadPage{Leads: []*tiledesk.Lead{}}, err
	}
	rows, err := s.query(ctx, `SELECT `+leadColumns+` FROM leads WHERE `+lq.where, lq.q.args...)
	if err != nil {
		return nil, fmt.Errorf("find leads: %w", err)
	}
	leads, err := collect(rows, scanLead)
	if err != nil {
		return nil, err
	}
	out := &tiledesk.LeadPage{Count: lq.count}
	out.Leads, out.Next = next(lq.pg, leads, leadSortValue, func(l *tiledesk.Lead) string { return l.ID })
	return out, nil
}

// FindLeadVersions lists the same leads as FindLeads, reading only their ids, versions and sort
// values. The count comes in the same statement whenever it can, saving a query (and, on SQLite, a
// read transaction) per page, and reading the count and the page from one snapshot: the default
// list reads the project's counter in a scalar subquery, evaluated once; a search, whose matches
// are all read to be sorted anyway, counts the set it sorts. A first page that holds every match
// (an email filter's one or two leads) is its own count. Where it can, the page comes back as one
// row of joined text (packedVersions).
func (s *Store) FindLeadVersions(ctx context.Context, projectID string, f tiledesk.LeadFilter) (*tiledesk.VersionPage, error) {
	wantCount := !f.NoCount
	f.NoCount = true
	lq, err := s.leadQuery(ctx, projectID, f)
	if err != nil || lq.empty {
		return &tiledesk.VersionPage{Versions: []tiledesk.Version{}}, err
	}
	cols := `id, updated_at, ` + lq.pg.col + ` AS sort_value`
	with, from, total := "", ` FROM leads WHERE `+lq.where, ""
	switch {
	case !wantCount:
	case lq.counter:
		total = `(SELECT COALESCE(SUM(leads_active), 0) FROM project_counters WHERE id_project = $1)`
	case f.Text != "" && f.After == nil: // a cursor's condition would narrow the count
		// The matches are read once into m, then counted and sorted: cheaper than a window count,
		// which sorts a copy of every match with its count.
		matched := `id, updated_at`
		if lq.pg.col != "id" && lq.pg.col != "updated_at" {
			matched += `, ` + lq.pg.col
		}
		with = `WITH m AS MATERIALIZED (SELECT ` + matched + ` FROM leads WHERE ` + lq.conds + `) `
		from = ` FROM m` + lq.tail
		total = `(SELECT COUNT(*) FROM m)`
	}
	vs, packed, err := s.packedVersions(ctx, with, `SELECT `+cols+from, lq.pg, total, lq.q.args)
	if err != nil {
		return nil, err
	}
	if !packed {
		if total != "" {
			cols += `, ` + total + ` AS total`
		}
		rows, err := s.query(ctx, with+`SELECT `+cols+from, lq.q.args...)
		if err != nil {
			return nil, fmt.Errorf("find leads: %w", err)
		}
		if vs, err = collectVersions(rows, lq.pg, total != ""); err != nil {
			return nil, err
		}
	}
	out := &tiledesk.VersionPage{}
	switch {
	case total != "" && len(vs.versions) > 0:
		out.Count = vs.total
	case wantCount && f.After == nil && f.Offset == 0 && len(vs.versions) <= lq.pg.limit:
		out.Count = len(vs.versions) // the whole list fits on this page
	case wantCount:
		// No row carried the count (an empty page, or a filter counted apart): count the matches.
		f.NoCount, f.After, f.Offset = false, nil, 0
		counted, err := s.leadQuery(ctx, projectID, f)
		if err != nil {
			return nil, err
		}
		out.Count = counted.count
	}
	out.Versions, out.Next = vs.page(lq.pg)
	return out, nil
}

// leadQuery is what FindLeads and FindLeadVersions share: the conditions, order and count of a
// filter. empty means no lead can match (a search without a single word).
type leadQuery struct {
	q       *query
	pg      page
	where   string // conditions, ORDER BY and LIMIT
	conds   string // the conditions alone
	tail    string // ORDER BY and LIMIT alone
	count   int
	counter bool // the filter is the default one, which the project's counter counts
	empty   bool
}

func (s *Store) leadQuery(ctx context.Context, projectID string, f tiledesk.LeadFilter) (*leadQuery, error) {
	pg, err := newPage(leadSortColumn, tiledesk.LeadSortCreatedAt, f.Sort, f.Desc, f.After, f.Limit, f.Offset)
	if err != nil {
		return nil, err
	}
	q := newQuery(projectID)
	defaultFilter := true
	switch {
	case f.Status != nil:
		q.where("status = " + q.arg(*f.Status))
		defaultFilter = false
	case f.AllStatuses:
		defaultFilter = false
	default:
		q.where("status <> " + q.arg(tiledesk.LeadDeleted))
	}
	if f.Email != "" {
		q.where("email_key = " + q.arg(tiledesk.EmailKey(f.Email)))
	}
	if f.WithEmail {
		q.where("email <> ''")
	}
	if f.WithFullname {
		q.where("fullname <> ''")
	}
	for _, tag := range f.Tags {
		q.where("id IN (SELECT lead FROM lead_tags WHERE id_project = $1 AND tag = " + q.arg(tag) + ")")
	}
	if f.Text != "" {
		words := impliedWordsDropped(tiledesk.SearchTerms(f.Text))
		if len(words) == 0 {
			return &leadQuery{empty: true}, nil
		}
		q.where(s.dialect.TextMatch("leads", q.arg(s.dialect.TextQuery("leads", projectID, words))))
	}
	if f.UpdatedSince != nil {
		q.where("updated_at > " + q.arg(ms(*f.UpdatedSince)))
	}
	defaultFilter = defaultFilter && len(q.conds) == 2 // project and "not deleted" only

	out := &leadQuery{q: q, pg: pg, counter: defaultFilter}
	if !f.NoCount {
		if out.count, err = s.count(ctx, "leads", "leads_active", defaultFilter, q); err != nil {
			return nil, err
		}
	}
	out.tail = pg.clause(q) // adds the cursor condition: before q.conditions()
	out.conds = q.conditions()
	out.where = out.conds + out.tail
	return out, nil
}

// UpdateLead applies upd to a lead.
func (s *Store) UpdateLead(ctx context.Context, projectID, id string, upd tiledesk.LeadUpdate, check func(*tiledesk.Lead) error) (*tiledesk.Lead, error) {
	return s.changeLead(ctx, projectID, id, check, func(l *tiledesk.Lead) (string, error) {
		return tiledesk.EventLeadUpdate, applyLeadUpdate(l, upd)
	})
}

// DeleteLead marks a lead deleted.
func (s *Store) DeleteLead(ctx context.Context, projectID, id string) (*tiledesk.Lead, error) {
	return s.changeLead(ctx, projectID, id, nil, func(l *tiledesk.Lead) (string, error) {
		l.Status = tiledesk.LeadDeleted
		return tiledesk.EventLeadDelete, nil
	})
}

// changeLead loads a lead for update, lets change modify it and name the event, and saves it with a
// new clock stamp.
func (s *Store) changeLead(ctx context.Context, projectID, id string, check func(*tiledesk.Lead) error, change func(*tiledesk.Lead) (string, error)) (*tiledesk.Lead, error) {
	var out *tiledesk.Lead
	err := s.inTx(ctx, func(t *tx) error {
		l, err := scanLead(t.queryRow(ctx, `SELECT `+leadColumns+` FROM leads WHERE id_project = $1 AND id = $2`+
			s.dialect.ForUpdate(), projectID, id))
		if err != nil {
			return notFound(err, "lead")
		}
		if check != nil {
			if err := check(l); err != nil {
				return err
			}
		}
		before, beforeTags := l.Status, slices.Clone(l.Tags)
		event, err := change(l)
		if err != nil {
			return err
		}
		if err := t.saveLead(ctx, l, before, beforeTags, event); err != nil {
			return err
		}
		out = l
		return nil
	})
	return out, err
}

// stampLead stamps l with the project's next lead clock (moving the count of active leads from
// beforeStatus to l's status; LeadDeleted for a new lead) and returns the lead's column values.
func (t *tx) stampLead(ctx context.Context, l *tiledesk.Lead, beforeStatus int) ([]any, error) {
	clock, err := t.leadClock(ctx, l.ProjectID, activeDelta(beforeStatus, l.Status), l.UpdatedAt)
	if err != nil {
		return nil, err
	}
	l.UpdatedAt = clock
	return leadArgs(l)
}

// saveLead writes a changed lead with a new clock stamp, its tags if they changed, and its event.
func (t *tx) saveLead(ctx context.Context, l *tiledesk.Lead, beforeStatus int, beforeTags []string, event string) error {
	args, err := t.stampLead(ctx, l, beforeStatus)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `UPDATE leads SET lead_id = $3, fullname = $4, email = $5, phone = $6, company = $7,
		note = $8, street_address = $9, city = $10, region = $11, zipcode = $12, country = $13, tags = $14,
		attributes = $15, properties = $16, status = $17, created_by = $18, created_at = $19, updated_at = $20,
		email_key = $21, search_text = $22 WHERE id_project = $1 AND id = $2`, args...); err != nil {
		return fmt.Errorf("update lead: %w", err)
	}
	if !slices.Equal(beforeTags, l.Tags) {
		if err := t.writeLeadTags(ctx, l, true); err != nil {
			return err
		}
	}
	// Conversations filter on their lead's email (requester_email).
	if _, err := t.exec(ctx, `UPDATE requests SET requester_email = $3 WHERE id_project = $1 AND lead = $2 AND requester_email <> $3`,
		l.ProjectID, l.ID, tiledesk.EmailKey(l.Email)); err != nil {
		return fmt.Errorf("update requests of lead: %w", err)
	}
	return t.event(ctx, l.ProjectID, event, l.ID, l)
}

// DeleteLeadPermanently removes a lead and its tags.
func (s *Store) DeleteLeadPermanently(ctx context.Context, projectID, id string) (*tiledesk.Lead, error) {
	var out *tiledesk.Lead
	err := s.inTx(ctx, func(t *tx) error {
		l, err := scanLead(t.queryRow(ctx, `DELETE FROM leads WHERE id_project = $1 AND id = $2 RETURNING `+leadColumns,
			projectID, id))
		if err != nil {
			return notFound(err, "lead")
		}
		if _, err := t.exec(ctx, `DELETE FROM lead_tags WHERE id_project = $1 AND lead = $2`, projectID, id); err != nil {
			return fmt.Errorf("delete lead tags: %w", err)
		}
		if _, err := t.leadClock(ctx, projectID, activeDelta(l.Status, tiledesk.LeadDeleted), l.UpdatedAt); err != nil {
			return err
		}
		out = l
		return t.event(ctx, projectID, tiledesk.EventLeadDelete, l.ID, l)
	})
	return out, err
}
