package api

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"

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
	rb := takeBody()
	page, err := s.views.Leads.Page(r.Context(), c.project.ID, f, limit, rb.b[:0])
	if err != nil || page.Kept {
		rb.give()
		return writeAnswer(w, page, err)
	}
	rb.b = page.Body
	writeReused(w, http.StatusOK, rb)
	return nil
}

func (s *Server) handleLeadGet(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	body, err := s.views.Leads.One(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, body)
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

// tagArrayBody reads the non-empty JSON array of tags that adding tags takes (errNoTag otherwise).
func tagArrayBody(r *http.Request) ([]any, error) {
	v, err := decodeValue(r)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, errNoTag
	}
	return arr, nil
}

// handleLeadTagAdd adds tags, given as a JSON array of strings, without duplicates.
func (s *Server) handleLeadTagAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := pathID(r, "id"); err != nil {
		return err
	}
	arr, err := tagArrayBody(r)
	if err != nil {
		return err
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
