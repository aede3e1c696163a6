package webhook

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/tiledesk-go/tiledesk"
)

func TestGuardRefusesTheServersOwnNetworks(t *testing.T) {
	g, err := ParseAllow("")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
		"::1", "::", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "224.0.0.1", "100.64.0.1",
		"255.255.255.255", "ff02::1"} {
		if g.AllowsAddr(netip.MustParseAddr(a)) {
			t.Errorf("%s allowed by default", a)
		}
	}
	for _, a := range []string{"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"} {
		if !g.AllowsAddr(netip.MustParseAddr(a)) {
			t.Errorf("%s refused", a)
		}
	}
}

func TestGuardAllowList(t *testing.T) {
	g, err := ParseAllow(" 127.0.0.1 , 10.0.0.0/8, hooks.internal ")
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]bool{"127.0.0.1": true, "::ffff:127.0.0.1": true, "127.0.0.2": false,
		"10.9.9.9": true, "192.168.0.1": false} {
		if g.AllowsAddr(netip.MustParseAddr(a)) != want {
			t.Errorf("AllowsAddr(%s) = %v", a, !want)
		}
	}
	for target, refused := range map[string]bool{
		"http://127.0.0.1:8080/x":      false,
		"https://10.1.1.1/x":           false,
		"http://hooks.internal:9000/x": false,
		"http://192.168.0.1/x":         true,
		"http://[::1]/x":               true,
		"http://localhost.localhost/":  false, // 127.0.0.1 is allowed
		"https://example.com/hook":     false,
		"ftp://example.com/":           true,
		"/relative":                    true,
		"https://user:pw@example.com/": true,
		"not a url":                    true,
	} {
		if why := g.CheckTarget(target); (why != "") != refused {
			t.Errorf("CheckTarget(%s) = %q, refused want %v", target, why, refused)
		}
	}
	none, _ := ParseAllow("")
	if why := none.CheckTarget("http://localhost:3000/"); !strings.Contains(why, "--webhook-allow") {
		t.Errorf("localhost without an allow list: %q", why)
	}
	for _, bad := range []string{"10.0.0.0/99", "a b", "user@host"} {
		if _, err := ParseAllow(bad); err == nil {
			t.Errorf("ParseAllow(%q) accepted", bad)
		}
	}
}

// FuzzTargets holds the checks of untrusted targets, allow lists and delivery ids to their word:
// no panic, and what passes is what it claims to be.
func FuzzTargets(f *testing.F) {
	for _, s := range []string{"https://example.com/hook", "http://127.0.0.1:80/", "http://[::ffff:10.0.0.1]/", "http://0x7f000001/",
		"http://localhost./", "10.0.0.0/8,hooks.internal", "65f0c0ffee0000000000000a-12", "-1", "http://%zz/"} {
		f.Add(s)
	}
	g, _ := ParseAllow("")
	f.Fuzz(func(t *testing.T, s string) {
		if why := g.CheckTarget(s); why == "" {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
				t.Fatalf("CheckTarget(%q) passed a target that is no absolute http(s) URL", s)
			}
			if a, err := netip.ParseAddr(u.Hostname()); err == nil && !g.AllowsAddr(a) {
				t.Fatalf("CheckTarget(%q) passed a refused address", s)
			}
		}
		_, _ = ParseAllow(s)
		if seq, ok := tiledesk.ParseDeliveryID("65f0c0ffee0000000000000a", s); ok && tiledesk.DeliveryID("65f0c0ffee0000000000000a", seq) != s {
			t.Fatalf("ParseDeliveryID(%q) = %d, which is another id", s, seq)
		}
	})
}
