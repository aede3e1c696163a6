package tiledesk

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// Ids are MongoDB ObjectId-compatible: 24 lower-case hex digits made of a 4-byte big-endian Unix
// second, 5 bytes random per process and a 3-byte counter. They look like the original server's ids,
// and they sort by creation time, which list ordering and cursors rely on.

var (
	idProcess = func() [5]byte {
		var b [5]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic("tiledesk: no randomness for ids: " + err.Error())
		}
		return b
	}()
	idCounter = func() *atomic.Uint32 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		c := new(atomic.Uint32)
		c.Store(binary.BigEndian.Uint32(b[:]))
		return c
	}()
)

// NewID returns a new id stamped with the current time.
func NewID() string { return NewIDAt(time.Now()) }

// NewIDAt returns a new id stamped with t (second precision).
func NewIDAt(t time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(t.Unix()))
	copy(b[4:9], idProcess[:])
	n := idCounter.Add(1)
	b[9], b[10], b[11] = byte(n>>16), byte(n>>8), byte(n)
	return hex.EncodeToString(b[:])
}

// IsID reports whether s has the id format: exactly 24 hexadecimal digits (either case, as MongoDB
// accepts).
func IsID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// IDTime returns the creation second encoded in a valid id.
func IDTime(id string) time.Time {
	b, err := hex.DecodeString(id[:8])
	if err != nil || len(b) != 4 {
		return time.Time{}
	}
	return time.Unix(int64(binary.BigEndian.Uint32(b)), 0).UTC()
}

// Now returns the current time as the store keeps it: UTC, truncated to milliseconds.
func Now() time.Time { return Millis(time.Now()) }

// Millis truncates t to milliseconds in UTC, the precision of every stored timestamp.
func Millis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
