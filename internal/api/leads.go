package api

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tiledesk-go/tiledesk"
)

// leadsList pages lead lists; the original has no cap on limit, this server 1000.
var leadsList = listSpec{defaultLimit: 40, maxLimit: 1000, sortParams: []string{"sort", "sortField"},
	isSort: tiledesk.IsLeadSort, sortHelp: "createdAt, updatedAt, fullname, email, lead_id, _id",
	defaultSort: tiledesk.LeadSortCreatedAt, feedSort: tiledesk.LeadSortUpdatedAt}

const (
	maxTags     = tiledesk.MaxTags
	maxTagBytes = 128
)

// leadListQuery parses the list parameters shared by the JSON list and the CSV export.
func leadListQuery(r *http.Request) (tiledesk.LeadFilter, int, error) {
	p, err := parseListParams(r, leadsList)
	if err != nil {
		return tiledesk.LeadFilter{}, 0, err
	}
	q := p.query
	f := tiledesk.LeadFilter{Limit: p.limit, Offset: p.offset, Sort: p.sort, Desc: p.desc, After: p.after,
		UpdatedSince: p.updatedSince, NoCount: p.noCount}
	f.Text = q.Get("full_text")
	if f.Text == "" {
		f.Text = q.Get("text")
	}
	if msg := tiledesk.SearchProblem(f.Text); msg != "" {
		return f, 0, invalidQuery("full_text", msg, f.Text)
	}
	f.Email = q.Get("email")
	if f.WithEmail, err = queryBool(q, "with_email"); err != nil {
		return f, 0, err
	}
	if f.WithFullname, err = queryBool(q, "with_fullname"); err != nil {
		return f, 0, err
	}
	for _, tag := range q["tags"] {
		if tag != "" {
			f.Tags = append(f.Tags, tag)
		}
	}
	if v := q.Get("status"); v != "" {
		if v == "all" {
			f.AllStatuses = true
		} else if n, err := strconv.Atoi(v); err == nil && tiledesk.IsLeadStatus(n) {
			f.Status = &n
		} else {
			return f, 0, invalidQuery("status", "must be 50, 100, 1000 or all", v)
		}
	}
	if f.UpdatedSince != nil && f.Status == nil {
		f.AllStatuses = true // a follower must see deletions too
	}
	return f, f.Limit, nil
}

func (s *Server) handleLeadList(w http.ResponseWriter, r *http.Request, c *call) error {
	f, limit, err := leadListQuery(r)
	if err != nil {
		return err
	}
	// The head of a list is kept whole under the project's lead clock, read before the page so
	// that a page is never kept under a clock newer than what it shows.
	var pageKey renderKey
	var clock int64
	if keptWhole(f) && s.renders.enabled() {
		if clock, err = s.store.LeadListClock(r.Context(), c.project.ID); err != nil {
			return err
		}
		pageKey = renderKeyOf(kindLeadsPage, c.project.ID, headKey(f))
		if body, tag, hit := s.renders.getPage(pageKey, version{clock}); hit {
			writeKept(w, body, tag)
			return nil
		}
	}
	var page *tiledesk.VersionPage
	// The first page of a lookup by email or of a sync feed is kept as its leads' ids and versions
	// under the lead clock, read before the page for the same reason.
	var selectionKey renderKey
	if keptSelection(f) && s.renders.enabled() {
		if clock, err = s.store.LeadListClock(r.Context(), c.project.ID); err != nil {
			return err
		}
		selectionKey = renderKeyOf(kindLeadSelection, c.project.ID, selectionKeyText(f))
		if b, hit := s.renders.get(selectionKey, version{clock}); hit {
			page = decodeSelection(b)
		}
	}
	var order *leadOrder
	var span orderSpan
	if desc, ordered := orderedList(f); ordered && s.leadOrders != nil && pageKey.kind == 0 {
		// A page deeper than the head: from the project's lead order when it is current.
		if clock, err = s.store.LeadListClock(r.Context(), c.project.ID); err != nil {
			return err
		}
		if order = s.leadOrders.get(c.project.ID, clock); order != nil {
			page, span = order.page(f, desc)
		}
	}
	if page == nil {
		if page, err = s.store.FindLeadVersions(r.Context(), c.project.ID, f); err != nil {
			return err
		}
		if selectionKey.kind != 0 && page.Next == nil {
			if b := encodeSelection(page); b != nil {
				s.renders.put(selectionKey, version{clock}, b)
			}
		}
	}
	leads, shown, err := s.renderLeads(r.Context(), c.project.ID, page.Versions, order, span, maxPageBytes)
	if err == nil && shown < len(page.Versions) {
		page, err = s.cutLeadPage(r.Context(), c.project.ID, f, page, shown)
	}
	if err != nil {
		return err
	}
	size := listHeadroom + listBytes(leads)
	if pageKey.kind != 0 {
		body := appendLeadList(make([]byte, 0, size), limit, page, leads)
		writeKept(w, body, s.renders.putPage(pageKey, version{clock}, body))
		return nil
	}
	rb := takeBody()
	rb.b = appendLeadList(slices.Grow(rb.b, size), limit, page, leads)
	writeReused(w, http.StatusOK, rb)
	return nil
}

// keptWhole reports whether a list's page is kept whole: the head of a list (no cursor, no
// offset) filtered by nothing a client varies from one request to the next (an email, a search,
// a sync instant). That is what consoles poll; a page at a depth or of a one-off filter is seldom
// asked for twice, and keeping it would crowd out the leads' own renderings.
func keptWhole(f tiledesk.LeadFilter) bool {
	return f.After == nil && f.Offset == 0 && f.Text == "" && f.Email == "" && f.UpdatedSince == nil
}

// keptSelection reports whether a first page is kept as the ids and versions of its leads
// (encodeSelection): a lookup by email, which integrations make before every create or update and
// widgets on every visit, and a sync feed, which clients poll with the same instant until
// something changes. Both select a few leads, so what is kept is small, and their renderings are
// kept apart. A search is not: every keystroke is another query.
func keptSelection(f tiledesk.LeadFilter) bool {
	return f.After == nil && f.Offset == 0 && f.Text == "" && (f.Email != "" || f.UpdatedSince != nil)
}

// selectionKeyText names a kept selection by its filter: its head's key, the email as the store
// compares it, and the sync instant.
func selectionKeyText(f tiledesk.LeadFilter) string {
	b := append([]byte(headKey(f)), 0)
	b = append(b, tiledesk.EmailKey(f.Email)...)
	b = append(b, 0)
	if f.UpdatedSince != nil {
		b = strconv.AppendInt(b, f.UpdatedSince.UnixNano(), 10)
	}
	return string(b)
}

// encodeSelection packs a whole selection (no next page) as its count, then each lead's 24-byte
// id and version in Unix milliseconds; decodeSelection unpacks it. Only ids of 24 characters, as
// ObjectIds are, are packed: for a selection holding another, encodeSelection returns nil.
func encodeSelection(p *tiledesk.VersionPage) []byte {
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(p.Versions)*32), uint64(p.Count))
	for _, v := range p.Versions {
		if len(v.ID) != 24 {
			return nil
		}
		b = append(b, v.ID...)
		b = binary.LittleEndian.AppendUint64(b, uint64(v.UpdatedAt.UnixMilli()))
	}
	return b
}

func decodeSelection(b []byte) *tiledesk.VersionPage {
	count, n := binary.Uvarint(b)
	if n <= 0 || (len(b)-n)%32 != 0 {
		return nil
	}
	b = b[n:]
	p := &tiledesk.VersionPage{Count: int(count), Versions: make([]tiledesk.Version, 0, len(b)/32)}
	for ; len(b) > 0; b = b[32:] {
		p.Versions = append(p.Versions, tiledesk.Version{ID: string(b[:24]),
			UpdatedAt: time.UnixMilli(int64(binary.LittleEndian.Uint64(b[24:32]))).UTC()})
	}
	return p
}

// headKey names a kept head by what it shows, not by its query string, so that parameters that
// change nothing (a client's cache-busting "_=" stamp, another order) share it instead of each
// keeping a copy.
func headKey(f tiledesk.LeadFilter) string {
	b := make([]byte, 0, 64)
	b = strconv.AppendInt(b, int64(f.Limit), 10)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, f.Sort)
	b = append(b, ' ')
	for _, on := range []bool{f.Desc, f.NoCount, f.WithEmail, f.WithFullname, f.AllStatuses} {
		b = strconv.AppendBool(b, on)
		b = append(b, ' ')
	}
	if f.Status != nil {
		b = strconv.AppendInt(b, int64(*f.Status), 10)
	}
	for _, tag := range f.Tags {
		b = append(b, ' ')
		b = strconv.AppendQuote(b, tag)
	}
	return string(b)
}

// appendLeadList appends {"perPage","count","leads","next_cursor"}, assembled from the leads'
// rendered JSON.
func appendLeadList(buf []byte, limit int, page *tiledesk.VersionPage, leads [][]byte) []byte {
	buf = append(buf, `{"perPage":`...)
	buf = strconv.AppendInt(buf, int64(limit), 10)
	buf = append(buf, `,"count":`...)
	buf = strconv.AppendInt(buf, int64(page.Count), 10)
	buf = append(buf, `,"leads":`...)
	buf = appendList(buf, leads)
	buf = append(buf, `,"next_cursor":`...)
	buf = appendCursor(buf, page.Next)
	return append(buf, '}')
}

func (s *Server) renderLeadsByID(ctx context.Context, projectID string, wants []wanted) (map[string][]byte, error) {
	return renderCached(s.renders, kindLead, projectID, wants,
		func(ids []string) (map[string]*tiledesk.Lead, error) {
			return s.store.FindLeadsByIDs(ctx, projectID, ids)
		},
		renderLead)
}

// renderLead is a lead's wire form and the version it is cached at.
func renderLead(l *tiledesk.Lead) (any, version) {
	b, err := appendLeadJSON(make([]byte, 0, 512), l)
	if err != nil {
		return toLead(l), versionOf(l.UpdatedAt) // encodeJSON reports the error
	}
	return preEncoded(b), versionOf(l.UpdatedAt)
}

func (s *Server) handleLeadGet(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// A lead rendered before needs only its version read (one column instead of twenty, each read
	// and converted by the driver), and not even that while the project's lead clock is kept and
	// reads what it read when that version was last found current; a lead whose rendering is stale
	// or missing is read whole, and its rendering at the version read is still used if another
	// request just made it. The clock is read before the lead, so that a rendering is never
	// confirmed under a clock newer than the row it was checked against.
	key := renderKeyOf(kindLead, c.project.ID, id)
	clock, clockKept, err := s.store.KeptLeadListClock(r.Context(), c.project.ID)
	if err != nil {
		return err
	}
	if kept, ok := s.renders.lookup(key); ok {
		if clockKept && clock != 0 && kept.clock == clock {
			writeRaw(w, http.StatusOK, kept.body)
			return nil
		}
		updated, err := s.store.LeadVersion(r.Context(), c.project.ID, id)
		if err != nil {
			return err
		}
		if kept.version == versionOf(updated) {
			if clockKept {
				s.renders.confirm(key, kept.version, clock)
			}
			writeRaw(w, http.StatusOK, kept.body)
			return nil
		}
	}
	var kept []byte
	l, updated, err := s.store.FindLeadUnlessKept(r.Context(), c.project.ID, id, func(updated time.Time) bool {
		var ok bool
		kept, ok = s.renders.get(key, versionOf(updated))
		return ok
	})
	if err != nil {
		return err
	}
	if clockKept {
		defer s.renders.confirm(key, versionOf(updated), clock)
	}
	if l == nil {
		writeRaw(w, http.StatusOK, kept)
		return nil
	}
	byID, err := renderCached(s.renders, kindLead, c.project.ID, []wanted{{id: id, v: versionOf(updated), known: true}},
		func([]string) (map[string]*tiledesk.Lead, error) { return map[string]*tiledesk.Lead{id: l}, nil }, renderLead)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, byID[id])
	return nil
}

// leadFields reads the writable lead fields of a body into an update.
func leadFields(b *body) tiledesk.LeadUpdate {
	upd := tiledesk.LeadUpdate{Fullname: b.str("fullname"), Email: b.str("email"), Phone: b.str("phone"),
		Company: b.str("company"), Note: b.str("note"), StreetAddress: b.str("streetAddress"), City: b.str("city"),
		Region: b.str("region"), Zipcode: b.str("zipcode"), Country: b.str("country"),
		Attributes: b.boundedObject("attributes"), Tags: b.tags("tags")}
	if upd.Email != nil && *upd.Email != "" && !validEmail(*upd.Email) {
		b.fail("email", "must be a valid email address", *upd.Email)
	}
	for _, p := range []*string{upd.Fullname, upd.Email, upd.Phone} {
		if p != nil {
			*p = strings.TrimSpace(*p)
		}
	}
	return upd
}

// tags reads an array of tags: strings, trimmed, non-empty, bounded.
func (b *body) tags(field string) []string {
	tags := b.strs(field)
	if tags == nil {
		return nil
	}
	if len(tags) > maxTags {
		b.fail(field, fmt.Sprintf("must hold at most %d tags", maxTags), nil)
		return nil
	}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || len(t) > maxTagBytes {
			b.fail(field, fmt.Sprintf("tags must be 1 to %d bytes", maxTagBytes), t)
			return nil
		}
		out = append(out, t)
	}
	return out
}

// idempotency reads the Idempotency-Key header and fingerprints the request with it.
func idempotency(r *http.Request, raw []byte) (*tiledesk.Idempotency, error) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return nil, nil
	}
	if len(key) > 255 || strings.IndexFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		return nil, &apiError{status: http.StatusBadRequest, body: msgBody{Success: false,
			Msg: "Idempotency-Key must be 1 to 255 visible ASCII characters."}}
	}
	sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), raw...))
	return &tiledesk.Idempotency{Key: key, Hash: hex.EncodeToString(sum[:])}, nil
}

func (s *Server) handleLeadCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	f := leadFields(b)
	leadID := b.str("lead_id")
	props := b.boundedObject("properties")
	if err := b.err(); err != nil {
		return err
	}
	idem, err := idempotency(r, b.raw)
	if err != nil {
		return err
	}
	l := &tiledesk.Lead{ID: tiledesk.NewID(), ProjectID: c.project.ID, LeadID: uuid.NewString(), Tags: []string{},
		Status: tiledesk.LeadActive, CreatedBy: c.caller.id, Properties: props}
	if leadID != nil && strings.TrimSpace(*leadID) != "" {
		l.LeadID = strings.TrimSpace(*leadID)
	}
	set(&l.Fullname, f.Fullname)
	set(&l.Email, f.Email)
	set(&l.Phone, f.Phone)
	set(&l.Company, f.Company)
	set(&l.Note, f.Note)
	set(&l.StreetAddress, f.StreetAddress)
	set(&l.City, f.City)
	set(&l.Region, f.Region)
	set(&l.Zipcode, f.Zipcode)
	set(&l.Country, f.Country)
	l.Attributes = f.Attributes
	if f.Tags != nil {
		l.Tags = f.Tags
	}
	stored, replayed, err := s.store.CreateLead(r.Context(), l, idem)
	if err != nil {
		return err
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusOK, toLead(stored))
	return nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// updateLead applies upd to the lead of the path, honouring If-Match, and answers the result.
func (s *Server) updateLead(w http.ResponseWriter, r *http.Request, c *call, upd tiledesk.LeadUpdate) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	l, err := s.store.UpdateLead(r.Context(), c.project.ID, id, upd,
		ifMatch(r, func(l *tiledesk.Lead) any { return toLead(l) }))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLead(l))
	return nil
}

func (s *Server) handleLeadUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := pathID(r, "id"); err != nil {
		return err
	}
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	upd := leadFields(b)
	upd.Status = b.integer("status", 0, 1000)
	if upd.Status != nil && !tiledesk.IsLeadStatus(*upd.Status) {
		b.fail("status", "must be 50, 100 or 1000", strconv.Itoa(*upd.Status))
	}
	if err := b.err(); err != nil {
		return err
	}
	return s.updateLead(w, r, c, upd)
}

func (s *Server) handleLeadAttributes(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := pathID(r, "id"); err != nil {
		return err
	}
	m, err := mergeBody(r, "attributes")
	if err != nil {
		return err
	}
	return s.updateLead(w, r, c, tiledesk.LeadUpdate{MergeAttributes: m})
}

func (s *Server) handleLeadProperties(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := pathID(r, "id"); err != nil {
		return err
	}
	m, err := mergeBody(r, "properties")
	if err != nil {
		return err
	}
	return s.updateLead(w, r, c, tiledesk.LeadUpdate{MergeProperties: m})
}

var errNoTag = &apiError{status: http.StatusBadRequest, body: map[string]any{"success": false, "message": "No tag specified"}}

// handleLeadTagAdd adds tags, given as a JSON array of strings, without duplicates.
func (s *Server) handleLeadTagAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := pathID(r, "id"); err != nil {
		return err
	}
	v, err := decodeValue(r)
	if err != nil {
		return err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return errNoTag
	}
	b := &body{m: map[string]any{"tags": arr}}
	tags := b.tags("tags")
	if err := b.err(); err != nil {
		return err
	}
	return s.updateLead(w, r, c, tiledesk.LeadUpdate{AddTags: tags})
}

func (s *Server) handleLeadTagRemove(w http.ResponseWriter, r *http.Request, c *call) error {
	tag := r.PathValue("tag")
	return s.updateLead(w, r, c, tiledesk.LeadUpdate{RemoveTag: &tag})
}

func (s *Server) handleLeadDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	l, err := s.store.DeleteLead(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLead(l))
	return nil
}

// handleLeadDeletePermanently removes a lead for good; only the owner may.
func (s *Server) handleLeadDeletePermanently(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if c.member.Role != tiledesk.RoleOwner {
		return errMsg(http.StatusForbidden, "Unauthorized.")
	}
	l, err := s.store.DeleteLeadPermanently(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLead(l))
	return nil
}
