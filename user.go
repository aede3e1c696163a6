package tiledesk

import (
	"context"
	"time"
)

// User statuses, as the original stores them.
const (
	UserActive  = 100
	UserDeleted = 0
)

// User is a registered account. Email is kept as its EmailKey; PasswordHash is a bcrypt hash and never
// leaves the server. EmailVerified says that someone proved to hold the mailbox (a verification or
// password reset link mailed to it was used): only then do invitations to the address apply.
type User struct {
	ID            string
	Email         string
	PasswordHash  string `json:"-"` // never in events or logs
	Firstname     string
	Lastname      string
	EmailVerified bool
	Status        int
	Phone         string
	Description   string
	PublicEmail   string
	PublicWebsite string
	Attributes    map[string]any
	// TokenGeneration is carried by every token issued to the user; a token that carries another
	// (older) generation is refused. Changing the password and deleting the account move it.
	TokenGeneration int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// FullName is "firstname lastname" as the original builds it (a trailing space when lastname is empty).
func (u *User) FullName() string { return u.Firstname + " " + u.Lastname }

// UserUpdate lists the fields a user may change about themselves; nil means unchanged.
type UserUpdate struct {
	Firstname     *string
	Lastname      *string
	Phone         *string
	Description   *string
	PublicEmail   *string
	PublicWebsite *string
	Attributes    map[string]any // replaces the attributes when non-nil
}

// UserStore keeps accounts.
type UserStore interface {
	// CreateUser inserts u (ID, timestamps and status set by the caller) and records the user.signup
	// event. It returns ECONFLICT when the email is already registered. Pending invitations for the
	// email stay pending: they apply once the email is verified (VerifyUserEmail), so that signing up
	// with someone else's address takes none of their invitations.
	CreateUser(ctx context.Context, u *User) error

	// VerifyUserEmail marks the email of an active user verified, provided it is still email, and in
	// the same transaction turns every pending invitation for that email into a membership
	// (project_user.invite each) and records user.update when the flag changed. It returns the user,
	// or ENOTFOUND when no active user has that id and email.
	VerifyUserEmail(ctx context.Context, id, email string) (*User, error)

	// FindUserByID returns an active user, or ENOTFOUND.
	FindUserByID(ctx context.Context, id string) (*User, error)

	// FindUserByEmail returns the active user with that email, compared by EmailKey (ASCII letters
	// case-insensitively, every other character exactly), or ENOTFOUND.
	FindUserByEmail(ctx context.Context, email string) (*User, error)

	// UpdateUser applies upd to an active user and returns the result, or ENOTFOUND.
	UpdateUser(ctx context.Context, id string, upd UserUpdate) (*User, error)

	// SetUserPassword replaces the password hash of an active user whose hash is still oldHash (the
	// one the caller checked a password or a reset link against), and moves its token generation,
	// which ends every session opened before. It returns ENOTFOUND, changing nothing, when no active
	// user has that id and that hash: of several changes checked against one hash, however
	// concurrent, exactly one succeeds.
	SetUserPassword(ctx context.Context, id, oldHash, newHash string) error

	// DeleteUser anonymises an active user as the original does (status UserDeleted, email
	// "<uuid>@tiledesk.com", names "anonymized", profile and password cleared), moves its token
	// generation, disables its memberships (which grant nothing any more) and records
	// user.delete, in one transaction. It returns the anonymised user, ENOTFOUND, or ErrLastOwner
	// (changing nothing) when the user is the last active owner of a project.
	DeleteUser(ctx context.Context, id string) (*User, error)
}
