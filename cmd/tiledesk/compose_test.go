package main

import (
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// composeFile is what TestComposeFileConfiguresTheServers reads of deploy/compose.yaml.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

type composeService struct {
	Environment     map[string]string `yaml:"environment"`
	Secrets         []string          `yaml:"secrets"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	DependsOn       any               `yaml:"depends_on"`
	Volumes         []string          `yaml:"volumes"`
	Networks        any               `yaml:"networks"` // a list of names, or addresses by name
}

// ipv4 is the service's fixed address on the network, "" when it has none.
func (s composeService) ipv4(network string) string {
	byName, _ := s.Networks.(map[string]any)
	settings, _ := byName[network].(map[string]any)
	addr, _ := settings["ipv4_address"].(string)
	return addr
}

// composeVariable is a ${NAME}, ${NAME:-default} or ${NAME:?message} of a compose file.
var composeVariable = regexp.MustCompile(`\$\{([A-Z_]+)(?::[-?]([^}]*))?\}`)

// TestComposeFileConfiguresTheServers reads the deployment of deploy/compose.yaml, which this
// machine cannot run (no container engine), and holds its servers' settings to the server's own
// reading of them: every TILEDESK_* variable is one the server reads, every value parses, the
// database and Redis are the file's own services, nginx is the trusted proxy, and Docker waits
// longer than the server's drain before it kills.
func TestComposeFileConfiguresTheServers(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	for _, name := range []string{"postgres", "redis", "nginx"} {
		if _, ok := f.Services[name]; !ok {
			t.Fatalf("deploy/compose.yaml has no %s service", name)
		}
	}
	nginx := f.Services["nginx"]
	proxy := nginx.ipv4("backend")
	if !slices.Contains(nginx.Volumes, "./nginx.conf:/etc/nginx/nginx.conf:ro") {
		t.Errorf("nginx does not mount deploy/nginx.conf: %v", nginx.Volumes)
	}
	secret := filepath.Join(t.TempDir(), "jwt_secret")
	if err := os.WriteFile(secret, []byte("a-secret-of-thirty-two-bytes-...\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	servers := 0
	for name, s := range f.Services {
		if !strings.HasPrefix(name, "tiledesk-") {
			continue
		}
		servers++
		if !slices.Contains(nginx.dependsOn(), name) {
			t.Errorf("nginx does not depend on %s", name)
		}
		checkComposeServer(t, name, s, f, proxy, secret)
	}
	if servers != 3 {
		t.Errorf("deploy/compose.yaml runs %d servers, docs/deploy.md describes three", servers)
	}
}

// checkComposeServer parses a server service's environment as the server would.
func checkComposeServer(t *testing.T, name string, s composeService, f composeFile, proxy, secret string) {
	t.Helper()
	env := map[string]string{}
	for k, v := range s.Environment {
		env[k] = composeVariable.ReplaceAllStringFunc(v, func(m string) string {
			sub := composeVariable.FindStringSubmatch(m)
			if sub[1] == "POSTGRES_PASSWORD" {
				return "password"
			}
			return sub[2] // the default
		})
	}
	if want := "/run/secrets/jwt_secret"; env["TILEDESK_JWT_SECRET_FILE"] != want || !slices.Contains(s.Secrets, "jwt_secret") ||
		f.Secrets["jwt_secret"].File == "" {
		t.Errorf("%s: the token secret is not the jwt_secret secret mounted at %s", name, want)
	}
	env["TILEDESK_JWT_SECRET_FILE"] = secret
	read := map[string]bool{}
	cfg, err := parseConfig(nil, func(k string) string { read[k] = true; return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("%s: the server refuses the environment: %v", name, err)
	}
	for k := range env {
		if !read[k] {
			t.Errorf("%s: the server reads no variable %s", name, k)
		}
	}
	if u, err := url.Parse(cfg.db); err != nil || u.Scheme != "postgres" || u.Hostname() != "postgres" {
		t.Errorf("%s: --db %q is not the postgres service", name, cfg.db)
	}
	if u, err := url.Parse(cfg.redisURL); err != nil || u.Hostname() != "redis" {
		t.Errorf("%s: --redis-url %q is not the redis service", name, cfg.redisURL)
	}
	if addr, err := netip.ParseAddr(proxy); err != nil || !slices.ContainsFunc(cfg.trustedProxies, func(p netip.Prefix) bool { return p.Contains(addr) }) {
		t.Errorf("%s: nginx (%s) is not a trusted proxy: %v", name, proxy, cfg.trustedProxies)
	}
	if stop, err := time.ParseDuration(s.StopGracePeriod); err != nil || stop <= cfg.shutdownGrace {
		t.Errorf("%s: Docker kills after %q, not after the server's drain of %v", name, s.StopGracePeriod, cfg.shutdownGrace)
	}
}

// dependsOn is depends_on's service names, in either of its forms.
func (s composeService) dependsOn() []string {
	var names []string
	switch d := s.DependsOn.(type) {
	case []any:
		for _, n := range d {
			if s, ok := n.(string); ok {
				names = append(names, s)
			}
		}
	case map[string]any:
		for n := range d {
			names = append(names, n)
		}
	}
	return names
}
