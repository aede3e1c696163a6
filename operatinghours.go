package tiledesk

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // operating hours name any IANA zone; the binary must not depend on the host's database
)

// Operating hours, as the original's dashboard writes them: a JSON document kept as text, whose
// "tzname" is an IANA time zone and whose other keys are days, each a list of {"start","end"}
// ranges in "HH:mm". The project's hours number days from Sunday (0) to Saturday (6); a time
// slot's, from Monday (1) to Sunday (7). A range holds its start minute and not its end one.

// OpenError says why hours could not be evaluated, with the original's code for it.
type OpenError struct {
	Code int
	Msg  string
}

func (e *OpenError) Error() string { return e.Msg }

// The original's codes.
const (
	OpenErrEmpty        = 1020
	OpenErrSlotNotFound = 1030
	OpenErrNoTimezone   = 2000
	OpenErrBadHours     = 3000
)

// IsOpenAt reports whether the project takes conversations at now by its operating hours: always
// when they are not active.
func (p *Project) IsOpenAt(now time.Time) (bool, error) {
	if !p.ActiveOperatingHours {
		return true, nil
	}
	if strings.TrimSpace(p.OperatingHours) == "" {
		return false, &OpenError{OpenErrEmpty, "Operating hours is empty"}
	}
	return hoursOpenAt(p.OperatingHours, now, false)
}

// SlotIsOpenAt reports whether the project's time slot slotID is open at now: always when the
// project has no slots or the slot is not active.
func (p *Project) SlotIsOpenAt(slotID string, now time.Time) (bool, error) {
	if len(p.TimeSlots) == 0 {
		return true, nil
	}
	slot, ok := p.TimeSlots[slotID].(map[string]any)
	if !ok {
		return false, &OpenError{OpenErrSlotNotFound, "Slot not found with id " + slotID}
	}
	if active, ok := slot["active"].(bool); ok && !active {
		return true, nil
	}
	hours, _ := slot["hours"].(string)
	if strings.TrimSpace(hours) == "" {
		return false, &OpenError{OpenErrEmpty, "Operating hours is empty"}
	}
	return hoursOpenAt(hours, now, true)
}

// ValidateOperatingHours checks a document of hours before it is stored: its JSON, its time zone
// when it names one, and the ranges of its days. A document without a time zone is accepted, as
// the original accepts it, and fails when evaluated. isoDays: the days are numbered as a time
// slot's.
func ValidateOperatingHours(doc string, isoDays bool) error {
	if strings.TrimSpace(doc) == "" {
		return nil
	}
	_, err := parseHours(doc, isoDays)
	var oe *OpenError
	if errors.As(err, &oe) && oe.Code == OpenErrNoTimezone {
		return nil
	}
	return err
}

type hourRange struct{ start, end int } // minutes of the day

type weekHours struct {
	loc  *time.Location
	days map[time.Weekday][]hourRange
}

func hoursOpenAt(doc string, now time.Time, isoDays bool) (bool, error) {
	h, err := parseHours(doc, isoDays)
	if err != nil {
		return false, err
	}
	local := now.In(h.loc)
	minute := local.Hour()*60 + local.Minute()
	for _, r := range h.days[local.Weekday()] {
		if minute >= r.start && minute < r.end {
			return true, nil
		}
	}
	return false, nil
}

func parseHours(doc string, isoDays bool) (*weekHours, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, &OpenError{OpenErrBadHours, "Operating hours are not a JSON object."}
	}
	var tz string
	if v, ok := raw["tzname"]; ok {
		_ = json.Unmarshal(v, &tz)
	}
	if tz == "" {
		return nil, &OpenError{OpenErrNoTimezone, "Timezone undefined."}
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, &OpenError{OpenErrBadHours, "Unknown time zone " + strconv.Quote(tz) + "."}
	}
	h := &weekHours{loc: loc, days: map[time.Weekday][]hourRange{}}
	for key, v := range raw {
		if key == "tzname" {
			continue
		}
		day, ok := weekdayOf(key, isoDays)
		if !ok {
			continue // not a day: the original ignores such keys too
		}
		var ranges []struct{ Start, End string }
		if err := json.Unmarshal(v, &ranges); err != nil {
			return nil, &OpenError{OpenErrBadHours, fmt.Sprintf("Day %s must be a list of {start, end}.", key)}
		}
		for _, r := range ranges {
			start, err1 := minuteOfDay(r.Start)
			end, err2 := minuteOfDay(r.End)
			if err1 != nil || err2 != nil {
				return nil, &OpenError{OpenErrBadHours, fmt.Sprintf("Day %s: times must be HH:mm, got %q to %q.", key, r.Start, r.End)}
			}
			h.days[day] = append(h.days[day], hourRange{start, end})
		}
	}
	return h, nil
}

func weekdayOf(key string, isoDays bool) (time.Weekday, bool) {
	n, err := strconv.Atoi(key)
	switch {
	case err == nil && !isoDays && n >= 0 && n <= 6:
		return time.Weekday(n), true
	case err == nil && isoDays && n >= 1 && n <= 7:
		return time.Weekday(n % 7), true
	}
	return 0, false
}

// minuteOfDay reads "HH:mm" ("24:00" is the end of the day).
func minuteOfDay(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("not HH:mm: %q", s)
	}
	return h*60 + m, nil
}
