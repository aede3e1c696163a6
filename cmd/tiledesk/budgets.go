package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/ratelimit"
)

// budgetFlags registers the flags of the budgets that keep free credentials from multiplying
// (anonymous sign-ins, the writes of guest tokens) and of the failed sign-ins of clients known to
// an account; the function it returns reads them into cfg once the flags are parsed.
func budgetFlags(fs *flag.FlagSet, env func(name, def string) string) func(cfg *config) error {
	var anon, anonProject, guestWrites, known, knownFor, projectMail string
	fs.StringVar(&anon, "anonymous-signin-limit", env("TILEDESK_ANONYMOUS_SIGNIN_LIMIT", "60/10m"),
		"anonymous sign-ins (each a guest membership and a token) per client address; 0 disables (TILEDESK_ANONYMOUS_SIGNIN_LIMIT)")
	fs.StringVar(&anonProject, "anonymous-signin-project-limit", env("TILEDESK_ANONYMOUS_SIGNIN_PROJECT_LIMIT", "600/1m"),
		"anonymous sign-ins per project; 0 disables (TILEDESK_ANONYMOUS_SIGNIN_PROJECT_LIMIT)")
	fs.StringVar(&guestWrites, "guest-write-limit", env("TILEDESK_GUEST_WRITE_LIMIT", "300/1m"),
		"writes of guest tokens per client address, however many tokens it holds; 0 disables (TILEDESK_GUEST_WRITE_LIMIT)")
	fs.StringVar(&projectMail, "project-mail-limit", env("TILEDESK_PROJECT_MAIL_LIMIT", "100/1h"),
		"messages a project's members and bots send through the server (POST /:pid/emails/internal/send); 0 disables (TILEDESK_PROJECT_MAIL_LIMIT)")
	fs.StringVar(&known, "login-known-failure-limit", env("TILEDESK_LOGIN_KNOWN_FAILURE_LIMIT", "10/10m"),
		"failed password checks per account and known client (a device or address that signed in to it within --login-known-for); 0 disables (TILEDESK_LOGIN_KNOWN_FAILURE_LIMIT)")
	fs.StringVar(&knownFor, "login-known-for", env("TILEDESK_LOGIN_KNOWN_FOR", "720h"),
		"how long a sign-in makes its device and address known to the account; 0 knows none (TILEDESK_LOGIN_KNOWN_FOR)")
	return func(cfg *config) error {
		for _, l := range []struct {
			flag, spec string
			dst        *tiledesk.RateLimit
		}{{"anonymous-signin-limit", anon, &cfg.limits.AnonymousSignIns},
			{"anonymous-signin-project-limit", anonProject, &cfg.limits.AnonymousSignInsProject},
			{"guest-write-limit", guestWrites, &cfg.limits.GuestWrites},
			{"login-known-failure-limit", known, &cfg.limits.LoginFailuresKnown},
			{"project-mail-limit", projectMail, &cfg.limits.ProjectMail}} {
			var err error
			if *l.dst, err = ratelimit.ParseLimit(l.flag, l.spec); err != nil {
				return fmt.Errorf("--%s: %w", l.flag, err)
			}
		}
		d, err := time.ParseDuration(knownFor)
		if err != nil || d < 0 {
			return fmt.Errorf("--login-known-for: %q is not a duration such as 720h, or 0", knownFor)
		}
		cfg.limits.KnownFor = d
		return nil
	}
}
