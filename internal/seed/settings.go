package seed

import (
	"encoding/json"
	"fmt"
)

// ProjectSettings returns a project's settings of at most kb KiB once encoded, made of small
// entries (objects of 250 numbers) within the bounds of tiledesk.CheckJSON: the shape that costs
// the most to decode, copy or walk per byte stored. kb 0 gives an empty object.
func ProjectSettings(kb int) map[string]any {
	group := make(map[string]any, 250)
	for j := range 250 {
		group[fmt.Sprint("k", j)] = float64(j) // as encoding/json decodes numbers
	}
	one, _ := json.Marshal(map[string]any{"group000": group})
	settings := map[string]any{}
	for i := 0; (i+1)*(len(one)+1) <= kb<<10 && i < 256; i++ {
		g := make(map[string]any, len(group))
		for k, v := range group {
			g[k] = v
		}
		settings[fmt.Sprintf("group%03d", i)] = g
	}
	return settings
}
