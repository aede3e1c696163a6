// Package tiledesk holds the domain of the Tiledesk REST API server: the types every other package
// speaks (projects, users, memberships, departments, events), the store contracts they are kept behind,
// and the one error type whose codes the HTTP layer maps to statuses.
//
// Implementations live in internal packages named after what they wrap (sqlstore, sqlite, postgres,
// api, auth); they import this package and never one another, except that the engine packages plug a
// dialect into sqlstore.
package tiledesk

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer owns the one table that turns them into statuses.
const (
	ECONFLICT     = "conflict"     // a unique value is taken, or the change contradicts current state
	EINTERNAL     = "internal"     // a bug or an unavailable dependency; details are logged, not shown
	EINVALID      = "invalid"      // a field has a bad value; Error.Field names it
	ENOTFOUND     = "not_found"    // no such object in this project
	EFORBIDDEN    = "forbidden"    // the caller is known but may not do this
	EUNAUTHORIZED = "unauthorized" // the caller could not be identified
	ETOOLARGE     = "too_large"    // a value is larger than the server accepts
	ETOOMANY      = "too_many"     // a quota or limit is exhausted
	EUNAVAILABLE  = "unavailable"  // the server cannot serve now (shutting down, maintenance)
	EPRECONDITION = "precondition" // an If-Match style precondition failed
	EUNSUPPORTED  = "unsupported"  // a media type or feature the server does not speak
)

// Error is the domain error: a machine-readable code, a message safe to show to the client, for
// EINVALID the name of the offending field, and for the refusals a client tells apart from others
// of their code the rule that refused (one of the Rule constants, "" otherwise).
type Error struct {
	Code    string
	Message string
	Field   string
	Rule    string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("tiledesk error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("tiledesk error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns an ENOTFOUND error for an object kind, e.g. NotFound("lead").
func NotFound(kind string) *Error {
	return &Error{Code: ENOTFOUND, Message: kind + " not found"}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other error and ""
// for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: the *Error's message, or a generic one for
// internal errors so that causes never leak.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorRule returns the rule an error names (Error.Rule), or "".
func ErrorRule(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Rule
	}
	return ""
}

// ErrorField returns the field an EINVALID error names, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
