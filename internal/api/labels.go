package api

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/tiledesk-go/tiledesk"
)

// The chat widget's texts (/:pid/labels): the server's defaults, and each project's own entries,
// one per language, one of them the default. Reads are public, as the widget reads them before
// its visitor has a token; changes are the admins'.

//go:embed defaultlabels.json
var defaultLabelsJSON []byte

// defaultLabels are the server's own texts, by language.
var defaultLabels = func() []tiledesk.LabelEntry {
	var out []tiledesk.LabelEntry
	if err := json.Unmarshal(defaultLabelsJSON, &out); err != nil {
		panic("api: defaultlabels.json: " + err.Error())
	}
	return out
}()

// defaultLabel is the server's entry of lang, or nil.
func defaultLabel(lang string) *tiledesk.LabelEntry {
	for i := range defaultLabels {
		if defaultLabels[i].Lang == lang {
			return &defaultLabels[i]
		}
	}
	return nil
}

// fallbackLang is the language of last resort.
const fallbackLang = "EN"

// labelLang is a language code as the widget sends it: "EN", "it", "pt-BR".
var labelLang = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

func pathLang(r *http.Request) (string, error) {
	lang := r.PathValue("lang")
	if !labelLang.MatchString(lang) {
		return "", invalidField("lang", "params", "must be a language code such as EN, it or pt-BR")
	}
	return lang, nil
}

// bodyLang reads the body's required language code.
func bodyLang(b *body) string {
	lang := b.requiredStr("lang")
	if lang != "" && !labelLang.MatchString(lang) {
		b.fail("lang", "must be a language code such as EN, it or pt-BR", lang)
	}
	return lang
}

type labelsJSON struct {
	ID        string                `json:"_id"`
	ProjectID string                `json:"id_project"`
	Data      []tiledesk.LabelEntry `json:"data"`
	CreatedBy string                `json:"createdBy"`
	CreatedAt jsTime                `json:"createdAt"`
	UpdatedAt jsTime                `json:"updatedAt"`
	V         int                   `json:"__v"`
}

func toLabels(l *tiledesk.Labels) labelsJSON {
	return labelsJSON{ID: l.ID, ProjectID: l.ProjectID, Data: l.Entries, CreatedBy: l.CreatedBy,
		CreatedAt: jsTime(l.CreatedAt), UpdatedAt: jsTime(l.UpdatedAt)}
}

// projectLabels reads the project's labels; nil when it has none.
func (s *Server) projectLabels(r *http.Request, c *call) (*tiledesk.Labels, error) {
	l, err := s.store.FindLabels(r.Context(), c.project.ID)
	if tiledesk.ErrorCode(err) == tiledesk.ENOTFOUND {
		return nil, nil
	}
	return l, err
}

// handleLabelsGet answers the project's labels, {} when it has none.
func (s *Server) handleLabelsGet(w http.ResponseWriter, r *http.Request, c *call) error {
	l, err := s.projectLabels(r, c)
	if err != nil || l == nil {
		if err == nil {
			writeJSON(w, http.StatusOK, map[string]any{})
		}
		return err
	}
	writeJSON(w, http.StatusOK, toLabels(l))
	return nil
}

// handleLabelsLang answers the texts the widget shows in lang: the project's entry of lang, else
// its default entry, else its EN entry, else the server's EN.
func (s *Server) handleLabelsLang(w http.ResponseWriter, r *http.Request, c *call) error {
	lang, err := pathLang(r)
	if err != nil {
		return err
	}
	l, err := s.projectLabels(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, labelFor(l, lang))
	return nil
}

func labelFor(l *tiledesk.Labels, lang string) *tiledesk.LabelEntry {
	if l != nil {
		for _, e := range []*tiledesk.LabelEntry{l.Entry(lang), l.DefaultEntry(), l.Entry(fallbackLang)} {
			if e != nil {
				return e
			}
		}
	}
	return defaultLabel(fallbackLang)
}

func (s *Server) handleLabelsDefaults(w http.ResponseWriter, r *http.Request, c *call) error {
	writeJSON(w, http.StatusOK, defaultLabels)
	return nil
}

// handleLabelsDefaultLang answers the server's texts of lang; 404 for a language it has none of.
func (s *Server) handleLabelsDefaultLang(w http.ResponseWriter, r *http.Request, c *call) error {
	lang, err := pathLang(r)
	if err != nil {
		return err
	}
	e := defaultLabel(lang)
	if e == nil {
		return errMsg(http.StatusNotFound, "No default labels for "+lang+"; the defaults are in "+fallbackLang+".")
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// handleLabelsClone copies the server's texts of a language (EN's, relabelled, for one it has
// none of) into the project's, replacing the project's entry of that language.
func (s *Server) handleLabelsClone(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	lang := bodyLang(b)
	if err := b.err(); err != nil {
		return err
	}
	src := defaultLabel(lang)
	if src == nil {
		src = defaultLabel(fallbackLang)
	}
	l, err := s.setLabel(r, c, lang, src.Data, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLabels(l))
	return nil
}

// handleLabelsSave sets a language's texts (replacing them), and whether it is the default.
func (s *Server) handleLabelsSave(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := decodeObject(r)
	if err != nil {
		return err
	}
	lang := bodyLang(b)
	data := b.boundedObjectOf("data", tiledesk.MaxLabelEntryBytes)
	if data == nil && b.m["data"] == nil {
		b.fail("data", "is required: an object of texts by key", nil)
	}
	makeDefault := b.boolean("default")
	if err := b.err(); err != nil {
		return err
	}
	l, err := s.setLabel(r, c, lang, data, makeDefault != nil && *makeDefault)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, labelFor(l, lang))
	return nil
}

// setLabel writes lang's entry; the first entry of a project is its default.
func (s *Server) setLabel(r *http.Request, c *call, lang string, data map[string]any, makeDefault bool) (*tiledesk.Labels, error) {
	return s.store.ChangeLabels(r.Context(), c.project.ID, c.caller.id, func(l *tiledesk.Labels) error {
		e := l.Entry(lang)
		if e == nil {
			if len(l.Entries) >= tiledesk.MaxLabelLanguages {
				return tiledesk.Invalid("lang", "a project has texts in at most %d languages", tiledesk.MaxLabelLanguages)
			}
			l.Entries = append(l.Entries, tiledesk.LabelEntry{ID: tiledesk.NewID(), Lang: lang})
			e = &l.Entries[len(l.Entries)-1]
		}
		e.Data = data
		if makeDefault || len(l.Entries) == 1 {
			setDefaultLabel(l, lang)
		}
		return nil
	})
}

func setDefaultLabel(l *tiledesk.Labels, lang string) {
	for i := range l.Entries {
		l.Entries[i].Default = l.Entries[i].Lang == lang
	}
}

// handleLabelsMakeDefault makes lang the project's default language.
func (s *Server) handleLabelsMakeDefault(w http.ResponseWriter, r *http.Request, c *call) error {
	lang, err := pathLang(r)
	if err != nil {
		return err
	}
	l, err := s.store.ChangeLabels(r.Context(), c.project.ID, c.caller.id, func(l *tiledesk.Labels) error {
		if l.Entry(lang) == nil {
			return tiledesk.NotFound("labels of " + lang)
		}
		setDefaultLabel(l, lang)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, labelFor(l, lang))
	return nil
}

// handleLabelsDeleteLang removes a language's texts; the default language stays.
func (s *Server) handleLabelsDeleteLang(w http.ResponseWriter, r *http.Request, c *call) error {
	lang, err := pathLang(r)
	if err != nil {
		return err
	}
	l, err := s.store.ChangeLabels(r.Context(), c.project.ID, c.caller.id, func(l *tiledesk.Labels) error {
		e := l.Entry(lang)
		switch {
		case e == nil:
			return tiledesk.NotFound("labels of " + lang)
		case e.Default:
			return errMsg(http.StatusBadRequest, "You can't delete the default language.")
		}
		kept := l.Entries[:0]
		for _, e := range l.Entries {
			if e.Lang != lang {
				kept = append(kept, e)
			}
		}
		l.Entries = kept
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, labelFor(l, lang))
	return nil
}

// handleLabelsDelete removes the project's texts: the widget shows the server's again.
func (s *Server) handleLabelsDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	l, err := s.store.ChangeLabels(r.Context(), c.project.ID, c.caller.id, func(l *tiledesk.Labels) error {
		if len(l.Entries) == 0 {
			return tiledesk.NotFound("labels")
		}
		l.Entries = nil
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"deletedCount": 1, "_id": l.ID})
	return nil
}
