package api

import (
	"fmt"
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
				e.clock.Add(90 * time.Second)
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
