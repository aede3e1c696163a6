package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// errShown ends a run that only printed something asked for (--help, --version): it exits 0.
var errShown = errors.New("shown")

// printUsage writes --help.
func printUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `Usage: tiledesk [flags]    serve the Tiledesk REST API
       tiledesk migrate --from FILE --to postgres://...
                           copy a stopped server's SQLite file into PostgreSQL and verify the copy
                           (tiledesk migrate --help)
       tiledesk version    print the version
       tiledesk help       print this help

Every flag can also be set by the environment variable in parentheses; a flag wins over its variable.

Flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
