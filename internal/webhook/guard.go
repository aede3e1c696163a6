package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Guard decides which addresses webhook targets may reach, so that a webhook cannot be aimed at the
// server's own network: loopback, private, link-local, unspecified, shared (CGNAT) and multicast
// addresses are refused unless the operator allows them (--webhook-allow). The address is checked
// where the connection is made, after name resolution, so that a name resolving to another
// address on the next lookup (DNS rebinding) gains nothing.
type Guard struct {
	nets  []netip.Prefix
	hosts map[string]bool
}

// ErrRefusedAddress is the error of a target whose address is not allowed.
var ErrRefusedAddress = errors.New("address not allowed for webhooks")

// ParseAllow reads a comma-separated list of CIDRs, addresses and host names that targets may reach
// whatever their address.
func ParseAllow(list string) (*Guard, error) {
	g := &Guard{hosts: map[string]bool{}}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
		case strings.Contains(item, "/"):
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", item)
			}
			g.nets = append(g.nets, p.Masked())
		default:
			if a, err := netip.ParseAddr(strings.Trim(item, "[]")); err == nil {
				g.nets = append(g.nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			if strings.ContainsAny(item, " :@") {
				return nil, fmt.Errorf("%q is neither a CIDR, an address nor a host name", item)
			}
			g.hosts[strings.ToLower(item)] = true
		}
	}
	return g, nil
}

// sharedNets are refused beside what netip classifies: "this network", CGNAT's shared space,
// benchmarking and the limited broadcast address.
var sharedNets = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("255.255.255.255/32"),
}

// AllowsAddr reports whether a target may connect to a.
func (g *Guard) AllowsAddr(a netip.Addr) bool {
	a = a.Unmap()
	if g != nil {
		for _, p := range g.nets {
			if p.Contains(a) {
				return true
			}
		}
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range sharedNets {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// allowsHost reports whether host was allowed by name.
func (g *Guard) allowsHost(host string) bool {
	return g != nil && g.hosts[strings.ToLower(strings.TrimSuffix(host, "."))]
}

// CheckTarget reports why a subscription's target is refused ("" when it is not): it must be an
// absolute http or https URL, and a host given as an address (or localhost) must be allowed.
// Names are checked again, once resolved, at every connection.
func (g *Guard) CheckTarget(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "must be an absolute http or https URL"
	}
	if u.User != nil {
		return "must not carry credentials; the secret authenticates the sender"
	}
	host := u.Hostname()
	if g.allowsHost(host) {
		return ""
	}
	if a, err := netip.ParseAddr(host); err == nil && !g.AllowsAddr(a) {
		return "is an address webhooks may not reach (loopback, private or link-local); the server's --webhook-allow lists the ones allowed"
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		if !g.AllowsAddr(netip.MustParseAddr("127.0.0.1")) {
			return "is the server itself; the server's --webhook-allow lists the addresses allowed"
		}
	}
	return ""
}

// dialContext connects to addr, refusing addresses the guard does not allow once resolved (unless
// the host was allowed by name).
func (g *Guard) dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	checked := *d
	checked.Control = func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrRefusedAddress, address)
		}
		if !g.AllowsAddr(ap.Addr()) {
			return fmt.Errorf("%w: %s", ErrRefusedAddress, ap.Addr())
		}
		return nil
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err == nil && g.allowsHost(host) {
			return d.DialContext(ctx, network, addr)
		}
		return checked.DialContext(ctx, network, addr)
	}
}
