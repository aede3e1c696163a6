package api

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

// mailbox records what the server mails, in order.
type mailbox struct {
	mu    sync.Mutex
	mails []tiledesk.Mail
}

func (m *mailbox) Send(_ context.Context, mail tiledesk.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mails = append(m.mails, mail)
	return nil
}

// to lists the mails sent to an address.
func (m *mailbox) to(addr string) []tiledesk.Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []tiledesk.Mail
	for _, mail := range m.mails {
		if mail.To == addr {
			out = append(out, mail)
		}
	}
	return out
}

// last returns the last mail sent to addr whose link contains marker.
func (m *mailbox) last(t *testing.T, addr, marker string) tiledesk.Mail {
	t.Helper()
	mails := m.to(addr)
	for i := len(mails) - 1; i >= 0; i-- {
		if strings.Contains(mails[i].Link, marker) {
			if !strings.Contains(mails[i].Text, mails[i].Link) {
				t.Fatalf("the mail's text does not carry its link: %q", mails[i].Text)
			}
			return mails[i]
		}
	}
	t.Fatalf("no mail to %s with a %q link among %d", addr, marker, len(mails))
	return tiledesk.Mail{}
}

// token is the signed token of a mailed link: its segment after marker ("resetpassword/").
func token(t *testing.T, link, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(link, marker)
	if !ok {
		t.Fatalf("link %q has no %q", link, marker)
	}
	tok, _, _ := strings.Cut(rest, "/")
	return tok
}
