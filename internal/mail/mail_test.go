package mail

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/mail/mailtest"
)

var resetMail = tiledesk.Mail{To: "ann@example.com", Subject: "Reset your password\r\nBcc: evil@example.com",
	Text: "Open https://desk.example.com/#/resetpassword/abc.def to choose a new password.\n",
	Link: "https://desk.example.com/#/resetpassword/abc.def"}

func send(t *testing.T, rawURL string, opts Options) error {
	t.Helper()
	s, err := NewSMTP(rawURL, "Tiledesk <no-reply@example.com>", opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Send(ctx, resetMail)
}

func checkReceived(t *testing.T, m mailtest.Message) {
	t.Helper()
	if m.From != "no-reply@example.com" || len(m.To) != 1 || m.To[0] != "ann@example.com" {
		t.Fatalf("envelope from %q to %v", m.From, m.To)
	}
	if got := m.Header.Get("Subject"); got != "Reset your password Bcc: evil@example.com" {
		t.Fatalf("Subject = %q: a line break in a subject must not start a header", got)
	}
	if m.Header.Get("Bcc") != "" || m.Header.Get("Date") == "" || m.Header.Get("Message-Id") == "" {
		t.Fatalf("headers = %v", m.Header)
	}
	if !strings.Contains(m.Body, resetMail.Link) {
		t.Fatalf("body lost the link: %q", m.Body)
	}
}

func TestSMTPPlainRelay(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	if err := send(t, "smtp://"+srv.Addr, Options{}); err != nil {
		t.Fatal(err)
	}
	checkReceived(t, srv.Next(t, 5*time.Second))
}

func TestSMTPStartTLSWithPassword(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{StartTLS: true, Users: map[string]string{"mailer": "s3cret:/@"}})
	if err := send(t, "smtp://mailer:s3cret%3A%2F%40@"+srv.Addr, Options{TLSConfig: srv.ClientTLS()}); err != nil {
		t.Fatal(err)
	}
	m := srv.Next(t, 5*time.Second)
	checkReceived(t, m)
	if !m.TLS || m.User != "mailer" {
		t.Fatalf("message over TLS %v as %q, want STARTTLS and the URL's user", m.TLS, m.User)
	}
	// A certificate the client does not trust: nothing is sent.
	if err := send(t, "smtp://mailer:s3cret%3A%2F%40@"+srv.Addr, Options{}); err == nil {
		t.Fatal("sent through a server whose certificate is not trusted")
	}
}

func TestSMTPSImplicitTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{ImplicitTLS: true, Users: map[string]string{"mailer": "pw"}})
	if err := send(t, "smtps://mailer:pw@"+srv.Addr, Options{TLSConfig: srv.ClientTLS()}); err != nil {
		t.Fatal(err)
	}
	if m := srv.Next(t, 5*time.Second); !m.TLS || m.User != "mailer" {
		t.Fatalf("TLS %v user %q", m.TLS, m.User)
	}
}

// TestSMTPNoPasswordInClear: a server that offers AUTH but no TLS, reached by an address that is not
// "localhost" by name, gets neither the password nor the message.
func TestSMTPNoPasswordInClear(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{Host: "127.0.0.2", InsecureAuth: true, Users: map[string]string{"mailer": "pw"}})
	if err := send(t, "smtp://mailer:pw@"+srv.Addr, Options{Timeout: 5 * time.Second}); err == nil {
		t.Fatal("the password went over a connection without TLS")
	}
	if auths := srv.Auths(); len(auths) != 0 {
		t.Fatalf("authenticated in clear as %v", auths)
	}
	srv.None(t, 200*time.Millisecond)
}

func TestNewSMTPRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct{ url, from, want string }{
		{"mysql://host", "a@b.co", "scheme"},
		{"smtp://", "a@b.co", "host"},
		{"smtp://host:99999", "a@b.co", "port"},
		{"smtp://host/path", "a@b.co", "write it as"},
		{"smtp://user:hunter2@host?x=1", "a@b.co", "write it as"},
		{"smtp://host", "", "From"},
		{"smtp://host", "not an address", "From"},
	} {
		_, err := NewSMTP(tc.url, tc.from, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSMTP(%q, %q) = %v, want an error about %s", tc.url, tc.from, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

func TestLogWritesTheLink(t *testing.T) {
	var buf bytes.Buffer
	if err := NewLog(slog.New(slog.NewTextHandler(&buf, nil))).Send(context.Background(), resetMail); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "level=INFO") || !strings.Contains(out, resetMail.Link) ||
		!strings.Contains(out, "ann@example.com") {
		t.Fatalf("log = %s", out)
	}
}

// flaky fails its first n sends, then records.
type flaky struct {
	mu    sync.Mutex
	fails int
	sent  []tiledesk.Mail
	block chan struct{} // when set, sends wait for it (or for their context)
}

func (f *flaky) Send(ctx context.Context, m tiledesk.Mail) error {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return errors.New("421 try again later")
	}
	f.sent = append(f.sent, m)
	return nil
}

func (f *flaky) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

func TestQueueRetriesAndDrains(t *testing.T) {
	var buf syncBuffer
	next := &flaky{fails: 1}
	q := NewQueue(next, slog.New(slog.NewTextHandler(&buf, nil)), 10)
	q.retries = []time.Duration{10 * time.Millisecond}
	for i := 0; i < 3; i++ {
		if err := q.Send(context.Background(), resetMail); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	q.Close(ctx)
	if n := next.count(); n != 3 {
		t.Fatalf("sent %d of 3 (one after a retry)", n)
	}
	if err := q.Send(context.Background(), resetMail); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close = %v", err)
	}
}

func TestQueueFullAndGivenUp(t *testing.T) {
	var buf syncBuffer
	next := &flaky{block: make(chan struct{})}
	q := NewQueue(next, slog.New(slog.NewTextHandler(&buf, nil)), 1)
	q.retries = nil
	if err := q.Send(context.Background(), resetMail); err != nil { // taken by the worker, which blocks
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(q.ch) != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := q.Send(context.Background(), resetMail); err != nil { // waits in the queue
		t.Fatal(err)
	}
	if err := q.Send(context.Background(), resetMail); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Send on a full queue = %v, want ErrQueueFull", err)
	}
	// Closing with no time left gives the rest up, each logged with its link.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q.Close(ctx)
	if n := strings.Count(buf.String(), resetMail.Link); n != 2 {
		t.Fatalf("given-up messages logged with their link: %d, want 2\n%s", n, buf.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
