package views

import (
	"encoding/binary"
	"strconv"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// Kept lists: a list's page kept whole, or as which objects at which versions, under a clock that
// moves with every change of what the page shows (see the package comment).

// keptWhole reports whether a list's page is kept whole: the head of a list (no cursor, no
// offset) filtered by nothing a client varies from one request to the next (an email, a search,
// a sync instant). That is what consoles poll; a page at a depth or of a one-off filter is seldom
// asked for twice, and keeping it would crowd out the leads' own renderings.
func keptWhole(f tiledesk.LeadFilter) bool {
	return f.After == nil && f.Offset == 0 && f.Text == "" && f.Email == "" && f.UpdatedSince == nil
}

// keptSelection reports whether a first page is kept as the ids and versions of its leads
// (encodeSelection): a lookup by email, which integrations make before every create or update and
// widgets on every visit, and a sync feed, which clients poll with the same instant until
// something changes. Both select a few leads, so what is kept is small, and their renderings are
// kept apart. A search is not: every keystroke is another query.
func keptSelection(f tiledesk.LeadFilter) bool {
	return f.After == nil && f.Offset == 0 && f.Text == "" && (f.Email != "" || f.UpdatedSince != nil)
}

// selectionKeyText names a kept selection by its filter: its head's key, the email as the store
// compares it, and the sync instant.
func selectionKeyText(f tiledesk.LeadFilter) string {
	b := append([]byte(headKey(f)), 0)
	b = append(b, tiledesk.EmailKey(f.Email)...)
	b = append(b, 0)
	if f.UpdatedSince != nil {
		b = strconv.AppendInt(b, f.UpdatedSince.UnixNano(), 10)
	}
	return string(b)
}

// encodeSelection packs a whole selection (no next page) as its count, then each lead's 24-byte
// id and version in Unix milliseconds; decodeSelection unpacks it. Only ids of 24 characters, as
// ObjectIds are, are packed: for a selection holding another, encodeSelection returns nil.
func encodeSelection(p *tiledesk.VersionPage) []byte {
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(p.Versions)*32), uint64(p.Count))
	for _, v := range p.Versions {
		if len(v.ID) != 24 {
			return nil
		}
		b = append(b, v.ID...)
		b = binary.LittleEndian.AppendUint64(b, uint64(v.UpdatedAt.UnixMilli()))
	}
	return b
}

func decodeSelection(b []byte) *tiledesk.VersionPage {
	count, n := binary.Uvarint(b)
	if n <= 0 || (len(b)-n)%32 != 0 {
		return nil
	}
	b = b[n:]
	p := &tiledesk.VersionPage{Count: int(count), Versions: make([]tiledesk.Version, 0, len(b)/32)}
	for ; len(b) > 0; b = b[32:] {
		p.Versions = append(p.Versions, tiledesk.Version{ID: string(b[:24]),
			UpdatedAt: time.UnixMilli(int64(binary.LittleEndian.Uint64(b[24:32]))).UTC()})
	}
	return p
}

// headKey names a kept head by what it shows, not by its query string, so that parameters that
// change nothing (a client's cache-busting "_=" stamp, another order) share it instead of each
// keeping a copy.
func headKey(f tiledesk.LeadFilter) string {
	b := make([]byte, 0, 64)
	b = strconv.AppendInt(b, int64(f.Limit), 10)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, f.Sort)
	b = append(b, ' ')
	for _, on := range []bool{f.Desc, f.NoCount, f.WithEmail, f.WithFullname, f.AllStatuses} {
		b = strconv.AppendBool(b, on)
		b = append(b, ' ')
	}
	if f.Status != nil {
		b = strconv.AppendInt(b, int64(*f.Status), 10)
	}
	for _, tag := range f.Tags {
		b = append(b, ' ')
		b = strconv.AppendQuote(b, tag)
	}
	return string(b)
}

// keepPage keeps body, a whole page, as the rendering of key at v with its ETag, and answers it.
func (v *views) keepPage(key renderKey, at version, body []byte) Answer {
	tag := v.wire.Tag(body)
	v.renders.putPage(key, at, body, tag)
	return Answer{Body: body, Tag: tag, Kept: true}
}
