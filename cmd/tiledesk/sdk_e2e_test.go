package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// sdkDir holds the official Node.js SDK, pinned by its lockfile, and the script that calls it.
const sdkDir = "../../test/sdk"

var sdkSummaryRE = regexp.MustCompile(`(?m)^(\d+) passed, 0 failed, (\d+) pending$`)

// TestOfficialSDK runs test/sdk/sdk.js, which calls every method of the official Node.js SDK
// (@tiledesk/tiledesk-client) against a fresh server, on each engine. It needs Node.js and the SDK
// installed (cd test/sdk && npm ci); CI installs both and sets TILEDESK_TEST_REQUIRE_SDK=1, which
// turns their absence into a failure.
func TestOfficialSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(sdkDir, "node_modules", "@tiledesk", "tiledesk-client", "package.json"))
	}
	if err != nil {
		if os.Getenv("TILEDESK_TEST_REQUIRE_SDK") != "" {
			t.Fatalf("the SDK test needs Node.js and the SDK (cd test/sdk && npm ci): %v", err)
		}
		t.Skipf("Node.js or the official SDK is not installed here (cd test/sdk && npm ci): %v", err)
	}
	for engine, db := range engines(t) {
		t.Run(engine, func(t *testing.T) {
			base, logs, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", db}, nil)
			defer stop()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "sdk.js")
			cmd.Dir = sdkDir
			cmd.Env = append(os.Environ(), "TILEDESK_URL="+base)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the SDK's methods against the server (%v):\n%s\n--- the server's log:\n%s", err, out, logs)
			}
			m := sdkSummaryRE.FindSubmatch(out)
			if m == nil {
				t.Fatalf("sdk.js did not end with its summary:\n%s", out)
			}
			if string(m[2]) != "0" {
				t.Fatalf("%s of the SDK's methods call routes not served (every one must work):\n%s", m[2], out)
			}
			t.Logf("official SDK: %s methods passed", m[1])
		})
	}
}
