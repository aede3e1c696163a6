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
	node := sdkNode(t)
	for engine, db := range engines(t) {
		t.Run(engine, func(t *testing.T) {
			out := runSDKScript(t, node, db, "sdk.js")
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

// TestOfficialChat21Client runs test/sdk/chat21.js: the official chat21 client the widget and the
// agent app embed (Chat21Client, shipped with the SDK) chats through the server as a visitor and
// an agent, on each engine.
func TestOfficialChat21Client(t *testing.T) {
	node := sdkNode(t)
	for engine, db := range engines(t) {
		t.Run(engine, func(t *testing.T) {
			out := runSDKScript(t, node, db, "chat21.js")
			if !regexp.MustCompile(`(?m)^\d+ passed, 0 failed$`).Match(out) {
				t.Fatalf("chat21.js did not end with its summary:\n%s", out)
			}
		})
	}
}

// sdkNode finds Node.js and the installed SDK, or skips (fails under TILEDESK_TEST_REQUIRE_SDK).
func sdkNode(t *testing.T) string {
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
	return node
}

// runSDKScript runs a script of test/sdk against a fresh server on db, and returns its output; a
// script that fails fails the test, with the server's log.
func runSDKScript(t *testing.T, node, db, script string) []byte {
	t.Helper()
	base, logs, stop := start(t, []string{"--addr", "127.0.0.1:0", "--db", db}, nil)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = sdkDir
	cmd.Env = append(os.Environ(), "TILEDESK_URL="+base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s against the server (%v):\n%s\n--- the server's log:\n%s", script, err, out, logs)
	}
	return out
}
