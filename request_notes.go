package tiledesk

import (
	"slices"
	"strings"
)

// What agents write on a conversation besides messages: notes and tags. How many a conversation
// holds is checked in the store's transaction (CheckRequestGrowth).

// mayWriteNotes lets agents below admin touch the notes only of the conversations they take part in.
func mayWriteNotes(a Actor, r *Request) error {
	if a.isAdmin() || a.takesPart(r) {
		return nil
	}
	return Errorf(EFORBIDDEN, "You must be among the participants of the conversation.")
}

// AddRequestNote adds a note by a, which must have a text.
func AddRequestNote(a Actor, text string, attributes map[string]any) (RequestChange, error) {
	if strings.TrimSpace(text) == "" {
		return nil, &Error{Code: EINVALID, Field: "text", Rule: RuleNoteText, Message: "Field 'text' is required."}
	}
	return func(r *Request, env RequestEnv) ([]string, error) {
		if err := mayWriteNotes(a, r); err != nil {
			return nil, err
		}
		now := env.Now()
		r.Notes = append(slices.Clone(r.Notes), Note{ID: NewIDAt(now), Text: text, Attributes: attributes,
			CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now})
		return nil, nil
	}, nil
}

// DeleteRequestNote deletes a note by its id (ENOTFOUND when there is none), by a.
func DeleteRequestNote(a Actor, noteID string) RequestChange {
	return func(r *Request, _ RequestEnv) ([]string, error) {
		if err := mayWriteNotes(a, r); err != nil {
			return nil, err
		}
		i := slices.IndexFunc(r.Notes, func(n Note) bool { return n.ID == noteID })
		if i < 0 {
			return nil, NotFound("note")
		}
		r.Notes = slices.Delete(slices.Clone(r.Notes), i, i+1)
		return nil, nil
	}
}

// AddRequestTags adds the tags whose names the conversation does not have yet.
func AddRequestTags(tags []RequestTag) RequestChange {
	return func(r *Request, _ RequestEnv) ([]string, error) {
		out := slices.Clone(r.Tags)
		for _, t := range tags {
			if !slices.ContainsFunc(out, func(x RequestTag) bool { return x.Tag == t.Tag }) {
				out = append(out, t)
			}
		}
		r.Tags = out
		return []string{EventRequestTags}, nil
	}
}

// RenameRequestTag renames the conversation's tag from to to, with color; a tag already named to
// takes its place.
func RenameRequestTag(from, to, color string) RequestChange {
	return func(r *Request, _ RequestEnv) ([]string, error) {
		out := make([]RequestTag, 0, len(r.Tags))
		has := slices.ContainsFunc(r.Tags, func(t RequestTag) bool { return t.Tag == to })
		for _, t := range r.Tags {
			if t.Tag == from {
				if has {
					continue
				}
				t.Tag, t.Color, has = to, color, true
			}
			out = append(out, t)
		}
		r.Tags = out
		return []string{EventRequestTags}, nil
	}
}

// RemoveRequestTag removes a tag by its id or by its name.
func RemoveRequestTag(key string) RequestChange {
	return func(r *Request, _ RequestEnv) ([]string, error) {
		r.Tags = slices.DeleteFunc(slices.Clone(r.Tags), func(t RequestTag) bool { return t.ID == key || t.Tag == key })
		return []string{EventRequestTags}, nil
	}
}
