package api

import (
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/tiledesk-go/tiledesk"
)

// Free-form JSON a client stores is held to the bounds of tiledesk.CheckJSON however it arrives:
// whole fields (boundedObject, within), bodies merged into a field (mergeBody), and dotted paths
// (settingsPaths). Results of merges are checked again where they are made, in the store's
// transaction (tiledesk.MergeJSON, CheckMergedJSON).

// within records a 422 naming the offending path when v, the value of field, breaks the bounds.
func (b *body) within(field string, v any, maxBytes int) bool {
	if err := tiledesk.CheckJSON(field, v, maxBytes); err != nil {
		b.fail(tiledesk.ErrorField(err), tiledesk.ErrorMessage(err), nil)
		return false
	}
	return true
}

// boundedObject reads an object field held to the bounds of stored JSON.
func (b *body) boundedObject(field string) map[string]any {
	return b.boundedObjectOf(field, tiledesk.MaxJSONBytes)
}

// boundedObjectOf is boundedObject with a size bound of its own (project settings, guests).
func (b *body) boundedObjectOf(field string, maxBytes int) map[string]any {
	m := b.object(field)
	if m != nil && !b.within(field, m, maxBytes) {
		return nil
	}
	return m
}

// boundedStrs is strs for an array the client may make as long as it likes (filters, tags).
func (b *body) boundedStrs(field string) []string {
	if v := b.m[field]; v != nil && !b.form && !b.within(field, v, tiledesk.MaxJSONBytes) {
		return nil
	}
	return b.strs(field)
}

// boundedArray is array held to the bounds of stored JSON.
func (b *body) boundedArray(field string) []any {
	arr := b.array(field)
	if arr != nil && !b.within(field, arr, tiledesk.MaxJSONBytes) {
		return nil
	}
	return arr
}

// mergeBody reads a body that is a JSON object to merge into attributes or properties: its keys
// become keys of the field, and the errors name them so (attributes.plan).
func mergeBody(r *http.Request, field string) (map[string]any, error) {
	v, err := decodeValue(r)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidField(field, "body", "the body must be a JSON object of "+field+" to merge")
	}
	if err := tiledesk.CheckJSON(field, m, tiledesk.MaxJSONBytes); err != nil {
		return nil, err
	}
	return m, nil
}

// settingsPaths reads the body's "settings.a.b" keys, which set one setting each, or nil when
// there are none.
func (b *body) settingsPaths() map[string]any {
	var paths map[string]any
	for k, v := range b.m {
		path, ok := strings.CutPrefix(k, "settings.")
		if !ok {
			continue
		}
		if err := tiledesk.CheckJSONPath("settings", path, v, tiledesk.MaxProjectJSONBytes); err != nil {
			b.fail(tiledesk.ErrorField(err), tiledesk.ErrorMessage(err), nil)
			continue
		}
		if paths == nil {
			paths = map[string]any{}
		}
		paths[path] = v
	}
	return paths
}

// strOf is str for a field that needs less than maxStringBytes (a language, a name, a URL).
func (b *body) strOf(field string, maxBytes int) *string {
	s := b.str(field)
	if s != nil && len(*s) > maxBytes {
		b.fail(field, fmt.Sprintf("must be at most %d bytes", maxBytes), nil)
		return nil
	}
	return s
}

// channelNameFits reports whether name, read from the object field ({"name": ...}), is short
// enough for a channel's name, recording a 422 naming field.name otherwise.
func (b *body) channelNameFits(field, name string) bool {
	if len(name) > tiledesk.MaxChannelNameBytes {
		b.fail(field+".name", fmt.Sprintf("must be at most %d bytes", tiledesk.MaxChannelNameBytes), nil)
		return false
	}
	return true
}

// mergedAttributes is cur with m's keys set over it, within the bounds of one JSON field.
func mergedAttributes(cur, m map[string]any) (map[string]any, error) {
	merged := make(map[string]any, len(cur)+len(m))
	maps.Copy(merged, cur)
	maps.Copy(merged, m)
	if err := tiledesk.CheckJSON("attributes", merged, tiledesk.MaxJSONBytes); err != nil {
		return cur, err
	}
	return merged, nil
}
