package tiledesk

import (
	"encoding/json"
)

// Bounds of what repeated writes can lengthen inside one conversation. Each write adds a little
// (a note, a tag, a participant, a follower), but a conversation is read, decoded and rendered
// whole by every read of it and of every list that shows it, so what it holds must stay bounded
// however many writes come. A lead's tags are bounded by MaxTags; free-form objects by the JSON
// bounds (jsonbounds.go), on the result of every merge.
const (
	// MaxNotes bounds the agents' notes of a conversation.
	MaxNotes = 200
	// MaxNotesBytes bounds the notes of a conversation, encoded: one note may carry 64 KiB of
	// text and as much of attributes, so the count alone would allow tens of megabytes.
	MaxNotesBytes = 256 << 10
	// MaxParticipants bounds the participants (agents and bots) of a conversation.
	MaxParticipants = 100
	// MaxFollowers bounds the followers of a conversation.
	MaxFollowers = 100
	// MaxTranscriptBytes bounds the transcript a conversation keeps once closed: the lines of its
	// first messages that fit, then TranscriptCut. Its messages keep the whole conversation.
	MaxTranscriptBytes = 256 << 10
)

// Bounds of strings a conversation or a message keeps that need less than the 64 KiB of any
// string field. Each names what real clients send; a longer value is a mistake or an attack.
const (
	// MaxChannelNameBytes bounds a channel's name (chat21, whatsapp, voice-vxml, ...).
	MaxChannelNameBytes = 128
	// MaxParticipantBytes bounds a participant: an agent's user id or bot_<bot id>.
	MaxParticipantBytes = 128
	// MaxTagColorBytes bounds a conversation tag's color (#43b1f2, rgba(67, 177, 242, 0.5)).
	MaxTagColorBytes = 64
	// MaxLanguageBytes bounds a language (en, it-IT, or a browser's list of them).
	MaxLanguageBytes = 128
	// MaxFullnameBytes bounds the name of a message's sender or recipient.
	MaxFullnameBytes = 1 << 10
	// MaxSubjectBytes bounds a conversation's subject, a line shown above it.
	MaxSubjectBytes = 4 << 10
	// MaxUserAgentBytes bounds the browser a conversation started in: web servers commonly
	// refuse header lines over 8 KiB, so no working browser sends a longer one.
	MaxUserAgentBytes = 8 << 10
	// MaxSourcePageBytes bounds the page a conversation started on (its URL, fragment included).
	MaxSourcePageBytes = 16 << 10
)

// TranscriptCut is the last line of a transcript cut at MaxTranscriptBytes.
const TranscriptCut = "[transcript cut here: the conversation's messages hold the rest]"

// RequestLengths is how long the lists of a conversation that writes lengthen are.
type RequestLengths struct {
	Notes, Tags, Participants, Followers int
}

// LengthsOf returns the lengths of r's lists.
func LengthsOf(r *Request) RequestLengths {
	return RequestLengths{Notes: len(r.Notes), Tags: len(r.Tags), Participants: len(r.Participants),
		Followers: len(r.Followers)}
}

// CheckRequestGrowth refuses r, as a write is about to store it, when the write made one of its
// lists longer than it was (before) and past its bound: an EINVALID error naming the list (notes,
// tags, participants, followers). A list the write did not lengthen is not checked, so a
// conversation an older version stored over a bound still answers, can lose items, and can be
// changed in every other way.
func CheckRequestGrowth(before RequestLengths, r *Request) error {
	after := LengthsOf(r)
	for _, l := range []struct {
		field        string
		before, long int
		bound        int
	}{
		{"notes", before.Notes, after.Notes, MaxNotes},
		{"tags", before.Tags, after.Tags, MaxTags},
		{"participants", before.Participants, after.Participants, MaxParticipants},
		{"followers", before.Followers, after.Followers, MaxFollowers},
	} {
		if l.long > l.before && l.long > l.bound {
			return Invalid(l.field, "a conversation holds at most %d %s", l.bound, l.field)
		}
	}
	if after.Notes > before.Notes {
		var n counter
		if err := json.NewEncoder(&n).Encode(r.Notes); err != nil {
			return Invalid("notes", "notes cannot be stored as JSON")
		}
		if int(n)-1 > MaxNotesBytes {
			return Invalid("notes", "the notes of a conversation hold at most %s", sizeText(MaxNotesBytes))
		}
	}
	return nil
}
