package api

import (
	"strings"

	"golang.org/x/net/idna"

	"github.com/tiledesk-go/tiledesk"
)

// accountEmail is the one spelling of an account's address, or a message saying why the address
// cannot be an account's. The local part (before the last @) must be ASCII; a domain written in
// another script is converted to its IDNA (punycode) form, and must already be in the form IDNA
// registers (lower case, no compatibility characters), since mapping it would fold one spelling into
// another: the Kelvin sign into 'k', fullwidth letters into ASCII. ASCII letters then compare in
// either case (tiledesk.EmailKey).
func accountEmail(email string) (string, string) {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return "", "must be a valid email address"
	}
	local, domain := email[:at], email[at+1:]
	if !isASCII(local) {
		return "", "must have a part before @ of ASCII characters only"
	}
	if !isASCII(domain) {
		a, err := idna.Registration.ToASCII(tiledesk.EmailKey(domain))
		if err != nil {
			return "", "must have a domain name that IDNA registers as written (lower case, no compatibility characters)"
		}
		domain = a
	}
	return tiledesk.EmailKey(local + "@" + domain), ""
}

// lookupEmail is the key an address given to sign in (or reset a password) is looked up by: its
// account spelling, or, for an address no account may have, the address ASCII-folded, which finds
// nothing but accounts stored with that very spelling.
func lookupEmail(email string) string {
	if key, bad := accountEmail(email); bad == "" {
		return key
	}
	return tiledesk.EmailKey(email)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// accountEmail reads a required email field that names an account (sign-up, invitation) and returns
// its one spelling.
func (b *body) accountEmail(field string) string {
	email := b.email(field)
	if email == "" {
		return ""
	}
	key, bad := accountEmail(email)
	if bad != "" {
		b.fail(field, bad, email)
	}
	return key
}
