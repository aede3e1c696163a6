package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tiledesk-go/tiledesk"
)

const userColumns = `id, email, password_hash, firstname, lastname, email_verified, status, phone, description,
	public_email, public_website, attributes, created_at, updated_at, token_generation`

func scanUser(row scanner) (*tiledesk.User, error) {
	var (
		u                                     tiledesk.User
		phone, desc, pubEmail, pubSite, attrs sql.NullString
		created, updated                      int64
	)
	if err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Firstname, &u.Lastname, &u.EmailVerified, &u.Status,
		&phone, &desc, &pubEmail, &pubSite, &attrs, &created, &updated, &u.TokenGeneration); err != nil {
		return nil, err
	}
	u.Phone, u.Description, u.PublicEmail, u.PublicWebsite = phone.String, desc.String, pubEmail.String, pubSite.String
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	if err := scanJSON(attrs, &u.Attributes); err != nil {
		return nil, fmt.Errorf("user attributes: %w", err)
	}
	return &u, nil
}

// CreateUser inserts u and records user.signup, in one transaction. Invitations for its email wait
// for VerifyUserEmail.
func (s *Store) CreateUser(ctx context.Context, u *tiledesk.User) error {
	u.Email = tiledesk.EmailKey(u.Email)
	attrs, err := jsonArg(u.Attributes)
	if err != nil {
		return tiledesk.Invalid("attributes", "attributes must be a JSON object")
	}
	return s.inTx(ctx, func(t *tx) error {
		_, err := t.exec(ctx, `INSERT INTO users (`+userColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			u.ID, u.Email, u.PasswordHash, u.Firstname, u.Lastname, u.EmailVerified, u.Status,
			nullString(u.Phone), nullString(u.Description), nullString(u.PublicEmail), nullString(u.PublicWebsite),
			attrs, ms(u.CreatedAt), ms(u.UpdatedAt), u.TokenGeneration)
		if s.dialect.IsUniqueViolation(err) {
			return tiledesk.Errorf(tiledesk.ECONFLICT, "Email already registered")
		} else if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return t.event(ctx, "", tiledesk.EventUserSignup, u.ID, u)
	})
}

// FindUserByID returns an active user.
func (s *Store) FindUserByID(ctx context.Context, id string) (*tiledesk.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 AND status = $2`,
		id, tiledesk.UserActive))
	return u, notFound(err, "user")
}

// FindUserByEmail returns the active user with that email.
func (s *Store) FindUserByEmail(ctx context.Context, email string) (*tiledesk.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1 AND status = $2`,
		tiledesk.EmailKey(email), tiledesk.UserActive))
	return u, notFound(err, "user")
}

// UpdateUser applies upd to an active user.
func (s *Store) UpdateUser(ctx context.Context, id string, upd tiledesk.UserUpdate) (*tiledesk.User, error) {
	var out *tiledesk.User
	err := s.inTx(ctx, func(t *tx) error {
		u, err := scanUser(t.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 AND status = $2`+
			s.dialect.ForUpdate(), id, tiledesk.UserActive))
		if err != nil {
			return notFound(err, "user")
		}
		set(&u.Firstname, upd.Firstname)
		set(&u.Lastname, upd.Lastname)
		set(&u.Phone, upd.Phone)
		set(&u.Description, upd.Description)
		set(&u.PublicEmail, upd.PublicEmail)
		set(&u.PublicWebsite, upd.PublicWebsite)
		if upd.Attributes != nil {
			u.Attributes = upd.Attributes
		}
		u.UpdatedAt = nextStamp(t.now, u.UpdatedAt)
		attrs, err := jsonArg(u.Attributes)
		if err != nil {
			return tiledesk.Invalid("attributes", "attributes must be a JSON object")
		}
		if _, err := t.exec(ctx, `UPDATE users SET firstname = $2, lastname = $3, phone = $4, description = $5,
			public_email = $6, public_website = $7, attributes = $8, updated_at = $9 WHERE id = $1`,
			u.ID, u.Firstname, u.Lastname, nullString(u.Phone), nullString(u.Description),
			nullString(u.PublicEmail), nullString(u.PublicWebsite), attrs, ms(u.UpdatedAt)); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		out = u
		return t.event(ctx, "", tiledesk.EventUserUpdate, u.ID, u)
	})
	return out, err
}

// SetUserPassword replaces the password hash of an active user whose hash is still oldHash and moves
// its token generation. The comparison is in the UPDATE's WHERE clause, which both engines evaluate
// on the row as locked for the write, so a concurrent change that committed first makes it miss.
func (s *Store) SetUserPassword(ctx context.Context, id, oldHash, newHash string) error {
	return s.inTx(ctx, func(t *tx) error {
		res, err := t.exec(ctx, `UPDATE users SET password_hash = $2, token_generation = token_generation + 1,
			updated_at = `+nextStampSQL("$3")+` WHERE id = $1 AND status = $4 AND password_hash = $5`,
			id, newHash, ms(t.now), tiledesk.UserActive, oldHash)
		if err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tiledesk.NotFound("user")
		}
		// The event tells the websockets open on older tokens that they are revoked.
		u, err := scanUser(t.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
		if err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		return t.event(ctx, "", tiledesk.EventUserUpdate, u.ID, u)
	})
}

// set assigns *v to *dst when v is given: the "nil means unchanged" of update structs.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
