package tiledesk

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
)

// Bounds of the free-form JSON clients store: attributes, properties, settings, widget, metadata,
// location and the like. Every such value is rendered back in lists and decoded on every read, and
// JavaScript clients merge it into their own objects, so what is stored must stay small, shallow,
// and free of keys that mean something else to those clients or to a MongoDB-minded one.
const (
	// MaxJSONDepth is the number of keys and indexes from the field to its deepest value:
	// settings.email.notification.conversation.assigned.toyou is 5 deep.
	MaxJSONDepth = 8
	// MaxJSONEntries bounds the keys of one object and the items of one array.
	MaxJSONEntries = 256
	// MaxJSONKeyBytes bounds one key.
	MaxJSONKeyBytes = 128
	// MaxJSONBytes bounds one field, encoded.
	MaxJSONBytes = 64 << 10
	// MaxProjectJSONBytes bounds a project's settings, widget and time slots instead: there is one
	// of each per project, admins write them, and the dashboard keeps the project's email templates
	// (nine HTML pages) in its settings.
	MaxProjectJSONBytes = 512 << 10
	// MaxGuestJSONBytes bounds the attributes of an anonymous sign-in instead: they ride in the
	// guest's token, so in every request it sends, and proxies commonly refuse headers over 8 KB.
	MaxGuestJSONBytes = 4 << 10
	// MaxTags bounds the tags of a lead or a conversation, however many requests add them.
	MaxTags = 100
)

// CheckJSON reports how v, the value of field as a client sent it, breaks the bounds: an EINVALID
// error whose Field is the path of the offending value (attributes.a.b, attributes.list[2]) and
// whose message says which bound. Keys must be non-empty, at most MaxJSONKeyBytes, without "." or
// "$", and neither __proto__ nor constructor; numbers must fit a float64. nil is nil.
func CheckJSON(field string, v any, maxBytes int) error {
	if f := walkJSON(v, 0, true); f != nil {
		return f.at(field)
	}
	return checkSize(field, v, maxBytes)
}

// CheckJSONPath is CheckJSON for v set at a dotted path below field, as PUT /projects/:id takes
// "settings.email.notification.pooled": each segment of the path is a key, and counts towards the
// depth. Errors are named from the path (settings.email.notification.pooled...).
func CheckJSONPath(field, path string, v any, maxBytes int) error {
	segs := strings.Split(path, ".")
	at := field
	for _, k := range segs {
		if f := checkKey(k); f != nil {
			return f.at(at)
		}
		at += "." + k
	}
	if len(segs) > MaxJSONDepth {
		return Invalid(at, "is nested deeper than %d levels", MaxJSONDepth)
	}
	if f := walkJSON(v, len(segs), true); f != nil {
		return f.at(at)
	}
	return checkSize(at, v, maxBytes)
}

// CheckMergedJSON checks v, the result of a merge or of a path update as it is about to be stored,
// against the bounds of depth, entries and size. Keys and numbers are not checked again: the new
// ones were checked as they arrived, and a row that an older version stored with other keys stays
// writable (its size and shape still count).
func CheckMergedJSON(field string, v any, maxBytes int) error {
	if f := walkJSON(v, 0, false); f != nil {
		return f.at(field)
	}
	return checkSize(field, v, maxBytes)
}

// MergeJSON returns base with patch's keys set in it, key by key (base is left as it is), or an
// EINVALID error when the result breaks the bounds of CheckMergedJSON: merging many small patches
// must not grow a value past what one write may store. Keys named in kept, which the server itself
// maintains in the object (a conversation's last_message), are not counted.
func MergeJSON(field string, base, patch map[string]any, maxBytes int, kept ...string) (map[string]any, error) {
	out := make(map[string]any, len(base)+len(patch))
	maps.Copy(out, base)
	maps.Copy(out, patch)
	counted := out
	for _, k := range kept {
		if _, ok := out[k]; ok {
			if len(counted) == len(out) {
				counted = maps.Clone(out)
			}
			delete(counted, k)
		}
	}
	if err := CheckMergedJSON(field, counted, maxBytes); err != nil {
		return nil, err
	}
	return out, nil
}

// jsonFault is a broken bound found by walkJSON: what is wrong, and the keys and indexes from the
// offending value up to the field (innermost first), collected only on the way out so that a value
// within bounds costs no allocation.
type jsonFault struct {
	msg  string
	path []string
}

// at returns the fault as the EINVALID error of field.
func (f *jsonFault) at(field string) error {
	var b strings.Builder
	b.WriteString(field)
	for i := len(f.path) - 1; i >= 0; i-- {
		b.WriteString(f.path[i])
	}
	return Invalid(b.String(), "%s", f.msg)
}

func fault(format string, args ...any) *jsonFault {
	return &jsonFault{msg: fmt.Sprintf(format, args...)}
}

// walkJSON checks depth, entries and, when strict, keys and numbers of v, d levels below the field.
func walkJSON(v any, d int, strict bool) *jsonFault {
	switch x := v.(type) {
	case map[string]any:
		if d >= MaxJSONDepth && len(x) > 0 {
			return fault("is nested deeper than %d levels", MaxJSONDepth)
		}
		if len(x) > MaxJSONEntries {
			return fault("has %d keys, more than %d", len(x), MaxJSONEntries)
		}
		for k, e := range x {
			if strict {
				if f := checkKey(k); f != nil {
					return f
				}
			}
			if f := walkJSON(e, d+1, strict); f != nil {
				f.path = append(f.path, "."+k)
				return f
			}
		}
	case []any:
		if d >= MaxJSONDepth && len(x) > 0 {
			return fault("is nested deeper than %d levels", MaxJSONDepth)
		}
		if len(x) > MaxJSONEntries {
			return fault("has %d items, more than %d", len(x), MaxJSONEntries)
		}
		for i, e := range x {
			if f := walkJSON(e, d+1, strict); f != nil {
				f.path = append(f.path, "["+strconv.Itoa(i)+"]")
				return f
			}
		}
	case json.Number:
		if strict {
			if _, err := strconv.ParseFloat(string(x), 64); err != nil {
				return fault("is a number out of range")
			}
		}
	}
	return nil
}

// checkKey refuses a key of an object; the fault names the object.
func checkKey(k string) *jsonFault {
	switch {
	case k == "":
		return fault("has an empty key")
	case len(k) > MaxJSONKeyBytes:
		return fault("has a key longer than %d bytes", MaxJSONKeyBytes)
	case k == "__proto__" || k == "constructor":
		return fault("has the key %q, which is not allowed", k)
	case strings.ContainsAny(k, ".$"):
		return fault(`has the key %q: keys must not contain "." or "$"`, k)
	}
	return nil
}

// checkSize refuses v when its encoding is longer than maxBytes.
func checkSize(path string, v any, maxBytes int) error {
	var n counter
	enc := json.NewEncoder(&n)
	if err := enc.Encode(v); err != nil {
		return Invalid(path, "cannot be stored as JSON")
	}
	if int(n)-1 > maxBytes { // Encode ends with a newline
		return Invalid(path, "is %s once encoded, more than %s", sizeText(int(n)-1), sizeText(maxBytes))
	}
	return nil
}

// counter counts the bytes written to it.
type counter int

func (c *counter) Write(p []byte) (int, error) {
	*c += counter(len(p))
	return len(p), nil
}

var _ io.Writer = (*counter)(nil)

func sizeText(n int) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d bytes", n)
}
