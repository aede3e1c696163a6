package mail

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// ErrQueueFull and ErrClosed are Queue.Send's refusals; the message is not sent.
var (
	ErrQueueFull = errors.New("mail: the send queue is full")
	ErrClosed    = errors.New("mail: the send queue is closed")
)

// Queue sends mail in the background, one message at a time, through another Mailer. Send only
// queues: a request never waits on a mail server. A message that cannot be sent after a few tries
// is logged with its link, so that it can still be passed on by hand.
type Queue struct {
	next    tiledesk.Mailer
	log     *slog.Logger
	ch      chan tiledesk.Mail
	ctx     context.Context // ends when Close gives up waiting
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.RWMutex // held for writing once, by Close, so that no Send races the channel's close
	closed  bool
	retries []time.Duration
}

var _ tiledesk.Mailer = (*Queue)(nil)

// NewQueue starts a queue of up to size messages in front of next.
func NewQueue(next tiledesk.Mailer, log *slog.Logger, size int) *Queue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{next: next, log: log, ch: make(chan tiledesk.Mail, size), ctx: ctx, cancel: cancel,
		done: make(chan struct{}), retries: []time.Duration{2 * time.Second, 10 * time.Second}}
	go q.run()
	return q
}

// Send queues m, or refuses it at once when the queue is full or closed.
func (q *Queue) Send(_ context.Context, m tiledesk.Mail) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return ErrClosed
	}
	select {
	case q.ch <- m:
		return nil
	default:
		return ErrQueueFull
	}
}

func (q *Queue) run() {
	defer close(q.done)
	for m := range q.ch {
		q.deliver(m)
	}
}

// deliver sends m, trying again after each pause in q.retries; the last failure is logged.
func (q *Queue) deliver(m tiledesk.Mail) {
	var err error
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(q.ctx, 2*time.Minute)
		err = q.next.Send(ctx, m)
		cancel()
		if err == nil {
			q.log.Info("mail sent", "to", m.To, "subject", m.Subject)
			return
		}
		if attempt == len(q.retries) || q.ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(q.retries[attempt]):
		case <-q.ctx.Done():
		}
	}
	q.log.Error("mail could not be sent; pass the link on by hand", "to", m.To, "subject", m.Subject,
		"link", m.Link, "err", err)
}

// Close stops taking messages and sends those queued until ctx ends; the rest are given up (and
// logged, each with its link).
func (q *Queue) Close(ctx context.Context) {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
	case <-ctx.Done():
		q.cancel()
		<-q.done
	}
	q.cancel()
}
