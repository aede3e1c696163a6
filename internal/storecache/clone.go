package storecache

import (
	"maps"
	"slices"

	"github.com/tiledesk-go/tiledesk"
)

// What the cache hands out: a copy of the entry's struct, whose fields a caller may set; the maps
// and slices in it are the entry's, which callers only read (a checked store proves it).

func shareProject(p *tiledesk.Project) *tiledesk.Project {
	c := *p
	return &c
}

func shareUser(u *tiledesk.User) *tiledesk.User {
	c := *u
	return &c
}

func shareProjectUser(pu *tiledesk.ProjectUser) *tiledesk.ProjectUser {
	c := *pu
	if pu.User != nil {
		c.User = shareUser(pu.User)
	}
	return &c
}

// Deep copies, which a checked store keeps beside each entry to compare it with: they must share
// nothing with the entry, or a change would show in both. TestClonesShareNothing walks every
// field by reflection, so a reference field added to one of these types without a copy here
// fails it.

func cloneProject(p *tiledesk.Project) *tiledesk.Project {
	c := *p
	c.TimeSlots = cloneObject(p.TimeSlots)
	c.Settings = cloneObject(p.Settings)
	c.Widget = cloneObject(p.Widget)
	c.Attributes = cloneObject(p.Attributes)
	c.Channels = slices.Clone(p.Channels)
	c.IPFilter = slices.Clone(p.IPFilter)
	c.IPFilterDeny = slices.Clone(p.IPFilterDeny)
	c.BannedUsers = slices.Clone(p.BannedUsers)
	return &c
}

func cloneUser(u *tiledesk.User) *tiledesk.User {
	c := *u
	c.Attributes = cloneObject(u.Attributes)
	return &c
}

func cloneProjectUser(pu *tiledesk.ProjectUser) *tiledesk.ProjectUser {
	c := *pu
	if pu.MaxAssignedChat != nil {
		v := *pu.MaxAssignedChat
		c.MaxAssignedChat = &v
	}
	if pu.Presence != nil {
		p := *pu.Presence
		c.Presence = &p
	}
	c.Permissions = slices.Clone(pu.Permissions)
	c.Tags = slices.Clone(pu.Tags)
	c.Attributes = cloneObject(pu.Attributes)
	c.Settings = cloneObject(pu.Settings)
	if pu.User != nil {
		c.User = cloneUser(pu.User)
	}
	return &c
}

// cloneObject copies a decoded JSON object and everything in it.
func cloneObject(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = cloneValue(v)
	}
	return c
}

// cloneValue copies the containers a decoded JSON value (or one a handler built) may hold; other
// values (strings, numbers, booleans) are immutable.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneObject(x)
	case []any:
		if x == nil {
			return x
		}
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = cloneValue(e)
		}
		return c
	case []string:
		return slices.Clone(x)
	case map[string]string:
		return maps.Clone(x)
	case []map[string]any:
		if x == nil {
			return x
		}
		c := make([]map[string]any, len(x))
		for i, e := range x {
			c[i] = cloneObject(e)
		}
		return c
	}
	return v
}
