package sqlstore

import (
	"database/sql"
	"fmt"
	"math"

	"github.com/tiledesk-go/tiledesk"
)

// transcriptBatch is how many messages a transcript reads at a time: it stops at the first batch
// that fills it, so it never reads much more than it keeps, and never the whole conversation.
const transcriptBatch = 64

// Transcript reads the conversation's messages oldest first, only the columns a transcript
// shows, a batch at a time, until the transcript is full or the messages end.
func (e *requestEnv) Transcript() (string, error) {
	var tb tiledesk.TranscriptBuilder
	afterAt, afterID := int64(math.MinInt64), ""
	for {
		rows, err := e.t.query(e.ctx, `SELECT created_at, id, sender_fullname, text FROM messages
			WHERE id_project = $1 AND recipient = $2 AND (created_at, id) > ($3, $4)
			ORDER BY created_at, id LIMIT $5`, e.project, e.recip, afterAt, afterID, transcriptBatch)
		if err != nil {
			return "", fmt.Errorf("transcript: %w", err)
		}
		n, more := 0, true
		for more && rows.Next() {
			var m tiledesk.Message
			var text sql.NullString
			if err := rows.Scan(&afterAt, &afterID, &m.SenderFullname, &text); err != nil {
				rows.Close()
				return "", fmt.Errorf("transcript: %w", err)
			}
			m.CreatedAt, m.Text = fromMS(afterAt), text.String
			more = tb.Add(&m)
			n++
		}
		if err := rows.Close(); err != nil {
			return "", err
		}
		if err := rows.Err(); err != nil {
			return "", fmt.Errorf("transcript: %w", err)
		}
		if !more || n < transcriptBatch {
			return tb.String(), nil
		}
	}
}
