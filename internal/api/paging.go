package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// listSpec describes the paging parameters of one list route.
type listSpec struct {
	defaultLimit, maxLimit int
	zeroIsMax              bool     // limit=0 asks for the largest page (the original's "no limit")
	sortParams             []string // accepted names of the sort parameter, in priority order
	isSort                 func(string) bool
	sortHelp               string
	defaultSort, feedSort  string // newest-first default; the sort of the updated_since feed
}

// listParams are the parsed paging parameters.
type listParams struct {
	limit, offset int
	sort          string
	desc          bool
	after         *tiledesk.Cursor
	updatedSince  *time.Time
	noCount       bool
	query         url.Values // the whole query, parsed once for the route's other parameters
}

// parseListParams reads page, limit, sort, direction, updated_since, cursor and no_count, each
// bad value a 400 naming its parameter. updated_since lists the oldest change first, so it fixes
// the sort; a cursor carries the sort it was made for.
func parseListParams(r *http.Request, spec listSpec) (listParams, error) {
	p := listParams{limit: spec.defaultLimit, sort: spec.defaultSort, desc: true}
	// r.URL.Query() drops the pairs it cannot parse (a ';', a bad escape), which would silently widen
	// a filter: ?email=a@b.c;x listed every lead. A query that does not parse is refused.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return p, invalidQuery("query", "is not a valid query string (a ';' or a bad % escape)", "")
	}
	p.query = q
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n == 0 && !spec.zeroIsMax {
			return p, invalidQuery("limit", fmt.Sprintf("must be a whole number from 1 to %d", spec.maxLimit), v)
		}
		if n == 0 || n > spec.maxLimit {
			n = spec.maxLimit
		}
		p.limit = n
	}
	page := 0
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			return p, invalidQuery("page", "must be a whole number from 0 (the first page)", v)
		}
		page = n
	}
	p.offset = page * p.limit
	sortGiven := false
	for _, name := range spec.sortParams {
		if !q.Has(name) {
			continue
		}
		v := q.Get(name)
		if v == "id" {
			v = "_id"
		}
		if !spec.isSort(v) {
			return p, invalidQuery(name, "must be one of "+spec.sortHelp, v)
		}
		p.sort, sortGiven = v, true
		break
	}
	dirGiven := q.Has("direction")
	if dirGiven {
		switch v := q.Get("direction"); strings.ToLower(v) {
		case "1", "asc":
			p.desc = false
		case "-1", "desc":
			p.desc = true
		default:
			return p, invalidQuery("direction", "must be 1, -1, asc or desc", v)
		}
	}
	if p.noCount, err = queryBool(q, "no_count"); err != nil {
		return p, err
	}
	if v := q.Get("updated_since"); v != "" {
		since, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return p, invalidQuery("updated_since", "must be an ISO-8601 instant such as 2024-05-24T14:02:24.512Z", v)
		}
		if sortGiven && p.sort != spec.feedSort || dirGiven && p.desc {
			return p, invalidQuery("updated_since", "lists the oldest change first; drop sort and direction", v)
		}
		since = since.UTC()
		p.updatedSince = &since
		p.sort, p.desc = spec.feedSort, false
	}
	if v := q.Get("cursor"); v != "" {
		c, err := decodeCursor(v)
		if err != nil || !spec.isSort(c.Sort) {
			return p, invalidQuery("cursor", "is not a cursor this list returned", v)
		}
		if (sortGiven || p.updatedSince != nil) && c.Sort != p.sort || (dirGiven || p.updatedSince != nil) && c.Desc != p.desc {
			return p, invalidQuery("cursor", "was made for another sort order", v)
		}
		if page > 0 {
			return p, invalidQuery("page", "cannot be combined with cursor", strconv.Itoa(page))
		}
		p.after, p.offset = c, 0
	}
	return p, nil
}
