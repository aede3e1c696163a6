package api

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// TestAnalytics creates conversations at known times, in two departments, some with an agent,
// some closed, and holds every figure to what the test computes from what it created.
func TestAnalytics(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		e := newEnvOn(t, engine, nil)
		owner, ann := e.signup("Owner"), e.signup("Ann")
		pid := e.createProject(owner, "Shop")
		e.join(owner, ann, pid, tiledesk.RoleAgent)
		base := "/" + pid + "/analytics/"
		dept := func(name string) string {
			return e.do("POST", "/"+pid+"/departments", map[string]any{"name": name}, owner.jwt()).want(t, 200).json(t)["_id"].(string)
		}
		sales, support := dept("Sales"), dept("Support")
		if got := e.do("GET", base+"requests/count", nil, owner.jwt()).want(t, 200).list(t); len(got) != 0 {
			t.Fatalf("without conversations: %v", got)
		}

		type conv struct {
			rid, dept string
			at        time.Time
			ann       bool
		}
		var convs []conv
		messages := 0
		// Over five days, at hours that fall on other days in Rome (UTC+1 in March).
		steps := []time.Duration{10 * time.Hour, 13*time.Hour + 30*time.Minute, 6 * time.Hour, 30 * time.Hour, 23 * time.Hour, 2 * time.Hour, 20 * time.Hour}
		for i, step := range steps {
			e.clock.Add(step)
			d := []string{sales, support}[i%2]
			visitor, _ := e.guest(pid)
			rid := fmt.Sprintf("support-group-%s-a%d", pid, i)
			e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "Hi", "departmentid": d}, jwtCred(visitor)).want(t, 200)
			messages++
			c := conv{rid: rid, dept: d, at: e.clock.Now(), ann: i%3 == 0}
			if c.ann {
				e.do("PUT", "/"+pid+"/requests/"+rid+"/participants", []string{ann.id}, owner.jwt()).want(t, 200)
				e.clock.Add(time.Duration(60+40*i) * time.Second) // waiting times differ, so that averages are averages
				e.do("POST", "/"+pid+"/requests/"+rid+"/messages", map[string]any{"text": "Hello", "sender": ann.id}, ann.jwt()).want(t, 200)
				messages++
			}
			if i%2 == 0 {
				e.clock.Add(time.Duration(i+1) * time.Minute)
				e.do("PUT", "/"+pid+"/requests/"+rid+"/close", nil, owner.jwt()).want(t, 200)
			}
			convs = append(convs, c)
		}

		count := func(query string) int {
			l := e.do("GET", base+"requests/count"+query, nil, owner.jwt()).want(t, 200).list(t)
			if len(l) == 0 {
				return 0
			}
			return int(l[0].(map[string]any)["totalCount"].(float64))
		}
		want := func(keep func(conv) bool) (n int) {
			for _, c := range convs {
				if keep(c) {
					n++
				}
			}
			return n
		}
		if got := count(""); got != len(convs) {
			t.Fatalf("requests/count %d, want %d", got, len(convs))
		}
		if got, w := count("?department_id="+sales), want(func(c conv) bool { return c.dept == sales }); got != w {
			t.Fatalf("Sales: %d, want %d", got, w)
		}
		if got, w := count("?participant="+ann.id), want(func(c conv) bool { return c.ann }); got != w {
			t.Fatalf("Ann's: %d, want %d", got, w)
		}

		// Per day, in UTC and in Rome: each bucket as the test counts it.
		series := func(query string) string {
			var parts []string
			for _, v := range e.do("GET", base+"requests/aggregate/"+query, nil, owner.jwt()).want(t, 200).list(t) {
				m := v.(map[string]any)
				id := m["_id"].(map[string]any)
				parts = append(parts, fmt.Sprintf("%v-%v-%v-%v:%v", id["year"], id["month"], id["week"], id["day"], m["count"]))
			}
			return strings.Join(parts, " ")
		}
		expect := func(loc *time.Location, key func(time.Time) string) string {
			var parts []string
			counts := map[string]int{}
			for _, c := range convs {
				k := key(c.at.In(loc))
				if counts[k] == 0 {
					parts = append(parts, k)
				}
				counts[k]++
			}
			for i, k := range parts {
				parts[i] = fmt.Sprintf("%s:%d", k, counts[k])
			}
			return strings.Join(parts, " ")
		}
		rome, _ := time.LoadLocation("Europe/Rome")
		day := func(t time.Time) string { return fmt.Sprintf("%d-%d-<nil>-%d", t.Year(), int(t.Month()), t.Day()) }
		for _, tc := range []struct {
			query string
			loc   *time.Location
		}{{"day?lastdays=30", time.UTC}, {"day?lastdays=30&timezone=Europe/Rome", rome}, {"day?lastdays=30&timezone=%2B01:00", rome}} {
			if got, w := series(tc.query), expect(tc.loc, day); got != w {
				t.Fatalf("aggregate/%s:\n got %s\nwant %s", tc.query, got, w)
			}
		}
		week := func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-<nil>-%d-<nil>", y, w) }
		if got, w := series("week"), expect(time.UTC, week); got != w {
			t.Fatalf("aggregate/week:\n got %s\nwant %s", got, w)
		}
		month := func(t time.Time) string { return fmt.Sprintf("%d-%d-<nil>-<nil>", t.Year(), int(t.Month())) }
		if got, w := series("month"), expect(time.UTC, month); got != w {
			t.Fatalf("aggregate/month:\n got %s\nwant %s", got, w)
		}
		// lastdays narrows the window to the newest conversations.
		if got, w := series("day?lastdays=1"), expect(time.UTC, func(t time.Time) string {
			if e.clock.Now().Sub(t) > 24*time.Hour {
				return "old"
			}
			return day(t)
		}); !strings.HasSuffix(w, got) || got == "" {
			t.Fatalf("lastdays=1: got %q, the newest of %q", got, w)
		}

		// Status, waiting and duration, against the conversations as the API shows them.
		closed, waiting, durations := 0, []float64{}, []float64{}
		for _, c := range convs {
			r := e.do("GET", "/"+pid+"/requests/"+c.rid, nil, owner.jwt()).want(t, 200).json(t)
			if r["status"] == float64(tiledesk.RequestClosed) {
				closed++
				durations = append(durations, r["duration"].(float64))
			}
			if w, ok := r["waiting_time"].(float64); ok {
				waiting = append(waiting, w)
			}
		}
		statuses := map[float64]float64{}
		for _, v := range e.do("GET", base+"requests/aggregate/status", nil, owner.jwt()).want(t, 200).list(t) {
			m := v.(map[string]any)
			statuses[m["_id"].(map[string]any)["status"].(float64)] = m["count"].(float64)
		}
		if statuses[float64(tiledesk.RequestClosed)] != float64(closed) {
			t.Fatalf("closed: %v, want %d", statuses, closed)
		}
		avg := func(xs []float64) any {
			if len(xs) == 0 {
				return nil
			}
			sum := 0.0
			for _, x := range xs {
				sum += x
			}
			return sum / float64(len(xs))
		}
		for route, w := range map[string]any{"waiting": avg(waiting), "duration": avg(durations)} {
			l := e.do("GET", base+"requests/"+route, nil, owner.jwt()).want(t, 200).list(t)
			m := l[0].(map[string]any)
			if m["_id"] != pid || m[map[string]string{"waiting": "waiting_time_avg", "duration": "duration_avg"}[route]] != w {
				t.Fatalf("requests/%s: %v, want %v", route, m, w)
			}
		}
		if len(durations) == 0 || len(waiting) == 0 {
			t.Fatalf("the fixture has %d durations and %d waiting times: it checks nothing", len(durations), len(waiting))
		}
		created := make([]createdConv, len(convs))
		for i, c := range convs {
			created[i] = createdConv{rid: c.rid, at: c.at}
		}
		checkAnalyticsSeries(t, e, owner, pid, created)
		if l := e.do("GET", base+"messages/count", nil, owner.jwt()).want(t, 200).list(t); l[0].(map[string]any)["totalCount"] != float64(messages) {
			t.Fatalf("messages/count %v, want %d", l, messages)
		}

		csv := e.do("GET", base+"requests/times/csv", nil, owner.jwt())
		rows := strings.Split(strings.TrimSpace(string(csv.body)), "\n")
		if csv.status != 200 || len(rows) != len(convs)+1 || !strings.HasPrefix(rows[0], "request_id;createdAt;department;participants;first_response_at") {
			t.Fatalf("times CSV (%d):\n%s", csv.status, csv.body)
		}
		e.do("GET", base+"requests/count?department_id=nope", nil, owner.jwt()).want(t, 400)
		e.do("GET", base+"requests/aggregate/day?timezone=Mars/Olympus", nil, owner.jwt()).want(t, 400)
		e.do("GET", base+"requests/aggregate/day?lastdays=0", nil, owner.jwt()).want(t, 400)
		e.do("GET", base+"requests/count", nil, ann.jwt()).want(t, 403)
	})
}

// createdConv is a conversation of TestAnalytics: its request_id and when it was created.
type createdConv struct {
	rid string
	at  time.Time
}

// convFigures is a conversation's creation and measures as the API shows them.
type convFigures struct {
	at                       time.Time
	waiting, duration, rated *float64
}

// checkAnalyticsSeries rates some of the conversations, then holds the series per hour, per
// weekday and hour, and the averages per day and month (waiting time, duration, rating) to what the
// test computes from each conversation as the API shows it, in UTC and in Rome; the answers'
// shapes are held to golden files.
func checkAnalyticsSeries(t *testing.T, e *testEnv, owner account, pid string, convs []createdConv) {
	t.Helper()
	base := "/" + pid + "/analytics/requests/"
	var all []convFigures
	for i, c := range convs {
		if i%3 != 2 {
			e.do("PATCH", "/"+pid+"/requests/"+c.rid+"/rating", map[string]any{"rating": i + 2, "rating_message": "ok"}, owner.jwt()).want(t, 200)
		}
		r := e.do("GET", "/"+pid+"/requests/"+c.rid, nil, owner.jwt()).want(t, 200).json(t)
		f := convFigures{at: c.at}
		for field, to := range map[string]**float64{"waiting_time": &f.waiting, "duration": &f.duration, "rating": &f.rated} {
			if v, ok := r[field].(float64); ok {
				*to = &v
			}
		}
		all = append(all, f)
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	measures := map[string]func(convFigures) *float64{"waiting": func(f convFigures) *float64 { return f.waiting },
		"duration": func(f convFigures) *float64 { return f.duration }, "satisfaction": func(f convFigures) *float64 { return f.rated }}
	fields := map[string]string{"waiting": "waiting_time_avg", "duration": "duration_avg", "satisfaction": "satisfaction_avg"}
	idDay := func(id map[string]any) string { return fmt.Sprintf("%v-%02v-%02v", id["year"], id["month"], id["day"]) }
	idMonth := func(id map[string]any) string { return fmt.Sprintf("%v-%02v", id["year"], id["month"]) }
	series := func(route, field string, keyOf func(map[string]any) string) string {
		var parts []string
		for _, v := range e.do("GET", base+route, nil, owner.jwt()).want(t, 200).list(t) {
			m := v.(map[string]any)
			parts = append(parts, fmt.Sprintf("%s:%v", keyOf(m["_id"].(map[string]any)), m[field]))
		}
		return strings.Join(parts, " ")
	}
	for name, value := range measures {
		for _, zone := range []struct {
			query string
			loc   *time.Location
		}{{"", time.UTC}, {"&timezone=Europe/Rome", rome}} {
			want := expectBuckets(all, zone.loc, "2006-01-02", value)
			if got := series(name+"/day?lastdays=30"+zone.query, fields[name], idDay); got != want {
				t.Fatalf("%s/day%s:\n got %s\nwant %s", name, zone.query, got, want)
			}
		}
		if got, want := series(name+"/month", fields[name], idMonth), expectBuckets(all, time.UTC, "2006-01", value); got != want {
			t.Fatalf("%s/month:\n got %s\nwant %s", name, got, want)
		}
		golden(t, "analytics-"+name+"-day", e.do("GET", base+name+"/day?lastdays=30", nil, owner.jwt()))
	}
	// The averages of a window: satisfaction over the last year, waiting time over the last day.
	overall := func(route, field string) string {
		var parts []string
		for _, v := range e.do("GET", base+route, nil, owner.jwt()).want(t, 200).list(t) {
			if m := v.(map[string]any); m["_id"] == pid {
				parts = append(parts, fmt.Sprintf("all:%v", m[field]))
			}
		}
		return strings.Join(parts, " ")
	}
	if got, want := overall("satisfaction", "satisfaction_avg"), expectBuckets(all, time.UTC, "all", measures["satisfaction"]); got != want {
		t.Fatalf("satisfaction: %s, want %s", got, want)
	}
	var lastDay []convFigures
	for _, f := range all {
		if e.clock.Now().Sub(f.at) < 24*time.Hour {
			lastDay = append(lastDay, f)
		}
	}
	if got, want := overall("waiting/day/last", "waiting_time_avg"), expectBuckets(lastDay, time.UTC, "all", measures["waiting"]); got != want || len(lastDay) == 0 {
		t.Fatalf("waiting/day/last: %s, want %s (of %d conversations)", got, want, len(lastDay))
	}

	// Per hour and per weekday and hour, the latest hour first; Rome's hours are an hour on.
	for _, zone := range []struct {
		query string
		loc   *time.Location
	}{{"", time.UTC}, {"?timezone=Europe/Rome", rome}} {
		hours := countsDesc(all, zone.loc, func(t time.Time) string { return fmt.Sprintf("%02d", t.Hour()) })
		if got := series("aggregate/hours"+zone.query, "count", func(id map[string]any) string { return fmt.Sprintf("%02.0f", id["hour"]) }); got != hours {
			t.Fatalf("aggregate/hours%s:\n got %s\nwant %s", zone.query, got, hours)
		}
		weekdays := countsDesc(all, zone.loc, func(t time.Time) string { return fmt.Sprintf("%02d-%d", t.Hour(), int(t.Weekday())+1) })
		if got := series("aggregate/dayoftheweek/hours"+zone.query, "count", func(id map[string]any) string {
			return fmt.Sprintf("%02.0f-%v", id["hour"], id["weekday"])
		}); got != weekdays {
			t.Fatalf("aggregate/dayoftheweek/hours%s:\n got %s\nwant %s", zone.query, got, weekdays)
		}
	}
	golden(t, "analytics-aggregate-hours", e.do("GET", base+"aggregate/hours", nil, owner.jwt()))
	golden(t, "analytics-aggregate-dayoftheweek-hours", e.do("GET", base+"aggregate/dayoftheweek/hours", nil, owner.jwt()))
}

// expectBuckets averages value over the conversations per bucket of their creation in loc (named
// by the time layout), newest first: "bucket:average", or "bucket:<nil>" where none has a value.
func expectBuckets(all []convFigures, loc *time.Location, layout string, value func(convFigures) *float64) string {
	var keys []string
	sums, counts := map[string]float64{}, map[string]int{}
	for _, f := range all {
		k := f.at.In(loc).Format(layout)
		if _, seen := counts[k]; !seen {
			keys = append(keys, k)
			counts[k] = 0
		}
		if v := value(f); v != nil {
			sums[k] += *v
			counts[k]++
		}
	}
	slices.Sort(keys)
	slices.Reverse(keys)
	for i, k := range keys {
		if counts[k] == 0 {
			keys[i] = k + ":<nil>"
		} else {
			keys[i] = fmt.Sprintf("%s:%v", k, sums[k]/float64(counts[k]))
		}
	}
	return strings.Join(keys, " ")
}

// countsDesc counts the conversations per key of their creation in loc, the greatest key first.
func countsDesc(all []convFigures, loc *time.Location, key func(time.Time) string) string {
	counts := map[string]int{}
	for _, f := range all {
		counts[key(f.at.In(loc))]++
	}
	keys := slices.Sorted(maps.Keys(counts))
	slices.Reverse(keys)
	for i, k := range keys {
		keys[i] = fmt.Sprintf("%s:%d", k, counts[k])
	}
	return strings.Join(keys, " ")
}
