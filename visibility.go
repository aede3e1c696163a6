package tiledesk

import "slices"

// Visibility is the one rule of which conversations of a project a member may see; nil sees every
// one. Every conversation route applies it: lists and counts through RequestFilter.VisibleTo (the
// stores' SQL form of Sees), and every read, change, message and deletion by id through the
// stores' by-id methods, which answer ENOTFOUND for a conversation the member may not see, as
// for an id of another project. The conformance suite checks, on generated conversations and
// members, that a list and the reads by id agree.
type Visibility struct {
	UserID        string // the member's user id (a visitor's uuid)
	ProjectUserID string // its membership
	// Visitor limits the member to the conversations it asked for (it is their requester):
	// guests, custom-token users and every role below agent.
	Visitor bool
}

// VisibilityOf returns what the active membership pu, acting as userID, may see. Owners, admins
// and supervisors see everything (nil). Agents see every conversation except those of a
// department restricted to a group (id_group set) that they are not in (Group.Grants) and whose
// conversation they neither take part in nor follow. Members below agent are visitors.
func VisibilityOf(pu *ProjectUser, userID string) *Visibility {
	switch {
	case HasRole(pu.Role, RoleSupervisor):
		return nil
	case HasRole(pu.Role, RoleAgent):
		return &Visibility{UserID: userID, ProjectUserID: pu.ID}
	}
	return &Visibility{UserID: userID, ProjectUserID: pu.ID, Visitor: true}
}

// IsVisitor reports whether v sees only its own conversations, and so the visitor's view of them.
func (v *Visibility) IsVisitor() bool { return v != nil && v.Visitor }

// Sees decides whether v may see r. restricted says whether r's department restricts its
// conversations from v: to a group v is not in (a department that no longer exists restricts
// nothing).
func (v *Visibility) Sees(r *Request, restricted bool) bool {
	switch {
	case v == nil:
		return true
	case v.Visitor:
		return r.RequesterID == v.ProjectUserID
	}
	return !restricted || slices.Contains(r.ParticipantsAgents, v.UserID) || slices.Contains(r.Followers, v.ProjectUserID)
}

// NeedsDepartment reports whether deciding Sees for r may depend on whether r's department is
// restricted, so that a store reads that only when it matters.
func (v *Visibility) NeedsDepartment() bool { return v != nil && !v.Visitor }

// InternalKey marks what visitors never see: a message whose attributes carry "internal": true
// (an agents' note in the conversation's timeline), and any object inside the attributes of a
// conversation or a message that carries it, or whose own attributes carry it (such as the
// conversation's attributes.last_message when that message is internal).
const InternalKey = "internal"

// IsInternal reports whether attributes mark their object internal.
func IsInternal(attributes map[string]any) bool {
	v, _ := attributes[InternalKey].(bool)
	return v
}

// internalObject reports whether an object found inside attributes is marked internal.
func internalObject(o map[string]any) bool {
	if IsInternal(o) {
		return true
	}
	attrs, _ := o["attributes"].(map[string]any)
	return IsInternal(attrs)
}

// WithoutInternal returns attributes without the objects marked internal at any depth (nil when
// attributes are themselves marked). attributes are not changed: what holds something to drop is
// copied, the rest is shared.
func WithoutInternal(attributes map[string]any) map[string]any {
	if attributes == nil || IsInternal(attributes) {
		return nil
	}
	out, _ := withoutInternal(attributes)
	return out.(map[string]any)
}

// withoutInternal returns v without the internal objects inside it, and whether it dropped any (v
// itself when it did not).
func withoutInternal(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			clean, changed := cleanElement(e)
			if !changed {
				continue
			}
			if out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			if clean == nil {
				delete(out, k)
			} else {
				out[k] = clean
			}
		}
		if out == nil {
			return x, false
		}
		return out, true
	case []any:
		var out []any
		for i, e := range x {
			clean, changed := cleanElement(e)
			if changed && out == nil {
				out = append(make([]any, 0, len(x)), x[:i]...)
			}
			if out != nil && !(changed && clean == nil) { // a changed element is nil only when dropped
				out = append(out, clean)
			}
		}
		if out == nil {
			return x, false
		}
		return out, true
	}
	return v, false
}

// cleanElement cleans one element of an object or array: nil and changed when it is an internal
// object, which is dropped.
func cleanElement(e any) (any, bool) {
	if o, ok := e.(map[string]any); ok && internalObject(o) {
		return nil, true
	}
	return withoutInternal(e)
}
