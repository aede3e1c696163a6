package seed

import (
	"encoding/json"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

// TestProjectSettingsWithinBounds: the largest settings asked for are stored as they are, close to
// the size asked for.
func TestProjectSettingsWithinBounds(t *testing.T) {
	for _, kb := range []int{0, 64, 512} {
		s := ProjectSettings(kb)
		if err := tiledesk.CheckJSON("settings", s, tiledesk.MaxProjectJSONBytes); err != nil {
			t.Fatalf("%d KiB: %v", kb, err)
		}
		b, _ := json.Marshal(s)
		if kb > 0 && (len(b) > kb<<10 || len(b) < kb<<10*9/10) {
			t.Fatalf("%d KiB asked, %d bytes made", kb, len(b))
		}
	}
}
