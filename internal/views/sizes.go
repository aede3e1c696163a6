package views

import "sync"

// MaxPageBytes bounds the JSON of one page of leads or conversations. A page whose rows would take
// more ends early, after the rows that fit (at least one), and its next_cursor continues from
// there: a page of 1,000 leads of 600 KB each would otherwise be read, rendered and held whole, and
// a few clients asking for such pages at once would take gigabytes. Rows of the usual sizes fill
// the largest pages (1,000 leads, 100 conversations) well within it.
const MaxPageBytes = 2 << 20

// MaxReadChunk is the most objects a page reads from the store at once when their renderings are
// not kept: a default page, so that a default page of rows of the usual size still reads in one
// query.
const MaxReadChunk = 40

// SizeHints remember, per project and kind of list, the average size of the rows that list last
// read, so that its next page reads about as many rows as it can show from the first query on.
// Without it a page of leads of 600 KB read 40 of them to show 3. At most maxSizeHints lists are
// remembered; past that all are forgotten (a hint only saves reads).
type SizeHints struct {
	mu sync.Mutex
	m  map[SizeKey]int
}

// SizeKey names a list whose rows' size is remembered.
type SizeKey struct {
	List      string // "leads", "requests", "requests-whole", "csv:leads.csv", ...
	ProjectID string
}

const maxSizeHints = 4096

func (h *SizeHints) get(k SizeKey) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[k]
}

// Note remembers the average of rows rows of size bytes.
func (h *SizeHints) Note(k SizeKey, size, rows int) {
	if rows == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxSizeHints {
		h.m = map[SizeKey]int{}
	}
	h.m[k] = max(1, size/rows)
}

// Chunk is how many more rows a page (or an export's batch) of budget bytes reads, having seen
// seen rows of size bytes: as many as their average says still fit, and one to find the end, at
// most MaxReadChunk. Before any row, the average is the one remembered for the list.
func (h *SizeHints) Chunk(list SizeKey, size, seen, budget int) int {
	avg := 0
	if seen > 0 {
		avg = size / seen
	} else {
		avg = h.get(list)
	}
	if avg <= 0 {
		return MaxReadChunk
	}
	return max(1, min(MaxReadChunk, (budget-size)/avg+1))
}
