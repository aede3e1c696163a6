package tiledesk

import "context"

// Mail is a plain-text message to one recipient about one action: verifying an address, resetting a
// password, joining a project.
type Mail struct {
	To      string
	Subject string
	Text    string
	// Link is the action link the text carries. Where no mail server is configured it is what the
	// log shows, so that whoever runs the server can pass it on.
	Link string
	// ReplyTo is where answers go, when not to the server's sender address.
	ReplyTo string
}

// Mailer sends mail. Send must return quickly: an implementation that talks to a mail server queues
// the message and sends it in the background, so that answers (which must not reveal whether an
// address has an account) take the same time whether or not a message goes out.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}
