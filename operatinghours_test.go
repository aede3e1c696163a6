package tiledesk

import (
	"errors"
	"testing"
	"time"
)

func TestProjectIsOpenAt(t *testing.T) {
	// Monday 2026-12-07 08:30 UTC is 09:30 in Rome and 03:30 in New York.
	mondayMorning := time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC)
	rome := `{"1":[{"start":"09:00","end":"13:00"},{"start":"14:00","end":"18:00"}],"tzname":"Europe/Rome"}`
	for _, c := range []struct {
		name   string
		p      Project
		at     time.Time
		open   bool
		errNum int
	}{
		{"hours not active", Project{OperatingHours: rome}, mondayMorning, true, 0},
		{"in the morning range, in the project's zone", Project{ActiveOperatingHours: true, OperatingHours: rome}, mondayMorning, true, 0},
		{"at the start minute", Project{ActiveOperatingHours: true, OperatingHours: rome}, mondayMorning.Add(-30 * time.Minute), true, 0},
		{"before it", Project{ActiveOperatingHours: true, OperatingHours: rome}, mondayMorning.Add(-31 * time.Minute), false, 0},
		{"at the end minute", Project{ActiveOperatingHours: true, OperatingHours: rome}, mondayMorning.Add(210 * time.Minute), false, 0},
		{"at lunch", Project{ActiveOperatingHours: true, OperatingHours: rome}, mondayMorning.Add(240 * time.Minute), false, 0},
		{"in the afternoon range", Project{ActiveOperatingHours: true, OperatingHours: rome}, mondayMorning.Add(300 * time.Minute), true, 0},
		{"on a day without hours", Project{ActiveOperatingHours: true, OperatingHours: rome}, mondayMorning.Add(24 * time.Hour), false, 0},
		{"the zone decides the day", Project{ActiveOperatingHours: true,
			OperatingHours: `{"0":[{"start":"20:00","end":"24:00"}],"tzname":"America/New_York"}`}, time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC), true, 0},
		{"empty", Project{ActiveOperatingHours: true, OperatingHours: " "}, mondayMorning, false, OpenErrEmpty},
		{"no zone", Project{ActiveOperatingHours: true, OperatingHours: `{"1":[]}`}, mondayMorning, false, OpenErrNoTimezone},
		{"unknown zone", Project{ActiveOperatingHours: true, OperatingHours: `{"tzname":"Mars/Olympus"}`}, mondayMorning, false, OpenErrBadHours},
		{"bad time", Project{ActiveOperatingHours: true, OperatingHours: `{"1":[{"start":"9","end":"18:00"}],"tzname":"UTC"}`}, mondayMorning, false, OpenErrBadHours},
		{"keys that are not days are ignored", Project{ActiveOperatingHours: true,
			OperatingHours: `{"7":[{"start":"00:00","end":"24:00"}],"note":"x","tzname":"UTC"}`}, mondayMorning, false, 0},
	} {
		open, err := c.p.IsOpenAt(c.at)
		var oe *OpenError
		if c.errNum != 0 {
			if !errors.As(err, &oe) || oe.Code != c.errNum {
				t.Errorf("%s: err = %v, want code %d", c.name, err, c.errNum)
			}
			continue
		}
		if err != nil || open != c.open {
			t.Errorf("%s: IsOpenAt = %v, %v; want %v", c.name, open, err, c.open)
		}
	}
}

func TestSlotIsOpenAt(t *testing.T) {
	sunday := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	p := Project{ActiveOperatingHours: true, OperatingHours: `{"tzname":"UTC"}`, TimeSlots: map[string]any{
		"weekend": map[string]any{"active": true, "hours": `{"7":[{"start":"09:00","end":"12:00"}],"tzname":"UTC"}`},
		"off":     map[string]any{"active": false, "hours": `{"tzname":"UTC"}`},
		"nohours": map[string]any{"active": true},
	}}
	if open, err := p.SlotIsOpenAt("weekend", sunday); err != nil || !open {
		t.Fatalf("a slot's day 7 is Sunday: %v %v", open, err)
	}
	if open, err := p.SlotIsOpenAt("weekend", sunday.Add(24*time.Hour)); err != nil || open {
		t.Fatalf("closed on Monday: %v %v", open, err)
	}
	if open, err := p.SlotIsOpenAt("off", sunday); err != nil || !open {
		t.Fatalf("an inactive slot is open: %v %v", open, err)
	}
	var oe *OpenError
	if _, err := p.SlotIsOpenAt("nope", sunday); !errors.As(err, &oe) || oe.Code != OpenErrSlotNotFound {
		t.Fatalf("unknown slot: %v", err)
	}
	if _, err := p.SlotIsOpenAt("nohours", sunday); !errors.As(err, &oe) || oe.Code != OpenErrEmpty {
		t.Fatalf("slot without hours: %v", err)
	}
	if open, err := (&Project{}).SlotIsOpenAt("any", sunday); err != nil || !open {
		t.Fatalf("a project without slots is open: %v %v", open, err)
	}
	for doc, valid := range map[string]bool{
		`{"0":[{"start":"09:00","end":"18:00"}],"tzname":"Europe/Rome"}`: true,
		`{"1":[{"start":"09:00","end":"18:00"}]}`:                        true, // no zone: refused when evaluated, as the original
		`{"tzname":"Europe/Atlantis"}`:                                   false,
		`{"1":[{"start":"9am","end":"18:00"}],"tzname":"UTC"}`:           false,
		`{"1":{"start":"09:00"},"tzname":"UTC"}`:                         false,
		`[1,2]`:                                                          false,
		``:                                                               true,
	} {
		if err := ValidateOperatingHours(doc, false); (err == nil) != valid {
			t.Errorf("ValidateOperatingHours(%s) = %v", doc, err)
		}
	}
}
