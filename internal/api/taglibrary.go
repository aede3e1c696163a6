package api

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// The tag library (/:pid/tags): the names and colors agents tag conversations and leads with.

// tagsPerPage is the original's fixed page of the tag library.
const tagsPerPage = 40

// tagColor is a CSS hex color, as the dashboard picks them.
var tagColor = regexp.MustCompile(`^#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$`)

type libraryTagJSON struct {
	Tag        string         `json:"tag"`
	Color      string         `json:"color,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	IDProject  string         `json:"id_project"`
	CreatedBy  string         `json:"createdBy"`
	ID         string         `json:"_id"`
	CreatedAt  jsTime         `json:"createdAt"`
	UpdatedAt  jsTime         `json:"updatedAt"`
	V          int            `json:"__v"`
}

func toLibraryTag(t *tiledesk.LibraryTag) *libraryTagJSON {
	return &libraryTagJSON{Tag: t.Tag, Color: t.Color, Attributes: t.Attributes, IDProject: t.ProjectID, CreatedBy: t.CreatedBy,
		ID: t.ID, CreatedAt: jsTime(t.CreatedAt), UpdatedAt: jsTime(t.UpdatedAt)}
}

// libraryTagFields reads a tag's fields and returns what sets them.
func libraryTagFields(b *body) func(*tiledesk.LibraryTag) {
	var sets []func(*tiledesk.LibraryTag)
	if b.has("tag") {
		name := strings.TrimSpace(b.requiredStr("tag"))
		if len(name) > maxTagBytes {
			b.fail("tag", "must be at most 128 bytes", nil)
		}
		sets = append(sets, func(t *tiledesk.LibraryTag) { t.Tag = name })
	}
	if v := b.str("color"); v != nil {
		if *v != "" && !tagColor.MatchString(*v) {
			b.fail("color", "must be a hex color such as #43B1F2", *v)
		}
		sets = append(sets, func(t *tiledesk.LibraryTag) { t.Color = *v })
	}
	if attrs := b.boundedObject("attributes"); attrs != nil {
		sets = append(sets, func(t *tiledesk.LibraryTag) { t.Attributes = attrs })
	}
	return func(t *tiledesk.LibraryTag) {
		for _, set := range sets {
			set(t)
		}
	}
}

// handleLibraryTagCreate adds a tag; a name the library has answers the existing tag.
func (s *Server) handleLibraryTagCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	b.requiredStr("tag")
	apply := libraryTagFields(b)
	if err := b.err(); err != nil {
		return err
	}
	now := tiledesk.Millis(s.now())
	t := &tiledesk.LibraryTag{ID: tiledesk.NewIDAt(now), ProjectID: c.project.ID, CreatedBy: c.caller.id, CreatedAt: now, UpdatedAt: now}
	apply(t)
	stored, _, err := s.store.CreateLibraryTag(r.Context(), t)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLibraryTag(stored))
	return nil
}

func (s *Server) handleLibraryTagList(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	f := tiledesk.LibraryTagFilter{Limit: tagsPerPage, Desc: true}
	var err error
	if f.Page, err = queryIntIn(q, "page", 0, 100000, 0); err != nil {
		return err
	}
	switch v := q.Get("sort"); v {
	case "", "createdAt":
	case "tag":
		f.ByName = true
	default:
		return invalidQuery("sort", "must be createdAt or tag", v)
	}
	switch v := q.Get("direction"); v {
	case "", "-1":
	case "1":
		f.Desc = false
	default:
		return invalidQuery("direction", "must be 1 or -1", v)
	}
	tags, err := s.store.FindLibraryTags(r.Context(), c.project.ID, f)
	if err != nil {
		return err
	}
	out := make([]*libraryTagJSON, 0, len(tags))
	for _, t := range tags {
		out = append(out, toLibraryTag(t))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleLibraryTagGet(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.store.FindLibraryTag(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLibraryTag(t))
	return nil
}

func (s *Server) handleLibraryTagUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	apply := libraryTagFields(b)
	if err := b.err(); err != nil {
		return err
	}
	t, err := s.store.ChangeLibraryTag(r.Context(), c.project.ID, id, func(t *tiledesk.LibraryTag) error { apply(t); return nil })
	if err != nil {
		return err
	}
	if t.RenamedFrom != "" {
		s.kickTagRenames() // the conversations and leads carrying the former name follow
	}
	writeJSON(w, http.StatusOK, toLibraryTag(t))
	return nil
}

func (s *Server) handleLibraryTagDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.store.DeleteLibraryTag(r.Context(), c.project.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLibraryTag(t))
	return nil
}
