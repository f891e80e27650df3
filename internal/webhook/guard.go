package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// nonPublic names the kinds of address Forbidden refuses, for the messages that refuse one.
const nonPublic = "not public (loopback, private, link-local, unique-local, reserved, multicast or unspecified)"

// ErrForbiddenAddress means a delivery's host resolved to an address that Forbidden names,
// while the policy does not allow private addresses.
var ErrForbiddenAddress = errors.New("the endpoint's address is " + nonPublic)

// reservedIPv4 are IPv4 ranges that no public receiver has, beside those netip classifies:
// "this network", carrier-grade NAT (RFC 6598, private in all but name), the IETF's protocol
// assignments, documentation (RFC 5737), the deprecated 6to4 relay anycast (RFC 7526),
// benchmarking, and the reserved and broadcast block.
var reservedIPv4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("192.88.99.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

// reservedIPv6 are IPv6 ranges that no public receiver has, beside those netip classifies:
// discard-only (RFC 6666), documentation (RFC 3849) and the deprecated site-local addresses
// (RFC 3879).
var reservedIPv6 = []netip.Prefix{
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fec0::/10"),
}

// Prefixes of IPv6 addresses that carry an IPv4 address, which a network on the way may
// turn into a connection to that IPv4 address.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")   // RFC 6052: the IPv4 address in the last 32 bits
	nat64Site = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215: a local NAT64, last 32 bits too
	sixToFour = netip.MustParsePrefix("2002::/16")      // RFC 3056: the IPv4 address in bits 16 to 47
	teredo    = netip.MustParsePrefix("2001::/32")      // RFC 4380: the client's, inverted, in the last 32 bits
	ipv4Compt = netip.MustParsePrefix("::/96")          // RFC 4291's deprecated IPv4-compatible form
)

// Forbidden says whether a webhook must not be sent to addr unless private addresses are
// allowed: a loopback, private (RFC 1918), unique-local (fc00::/7), link-local (169.254.0.0/16,
// fe80::/10, the cloud metadata services among them), reserved (see reservedIPv4 and
// reservedIPv6: documentation, benchmarking, discard and other special-purpose ranges), unspecified
// or multicast address, written as IPv4 or as IPv6. An IPv6 address that carries an IPv4 one
// (IPv4-mapped such as ::ffff:127.0.0.1, IPv4-compatible, NAT64, 6to4, Teredo) is judged by
// the IPv4 address it carries too.
func Forbidden(addr netip.Addr) bool {
	a := addr.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	if a.Is4() {
		return inAny(reservedIPv4, a)
	}
	if inAny(reservedIPv6, a) {
		return true
	}
	if carried, ok := carriedIPv4(a); ok {
		return Forbidden(carried)
	}
	return false
}

// inAny says whether one of prefixes contains a.
func inAny(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// carriedIPv4 is the IPv4 address an IPv6 address carries, in the forms that carry one.
func carriedIPv4(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	switch {
	case nat64.Contains(a), nat64Site.Contains(a), ipv4Compt.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	case teredo.Contains(a):
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), true
	}
	return netip.Addr{}, false
}

// RequestTimeout bounds one attempt of a delivery: connecting, sending and reading the answer.
const RequestTimeout = 10 * time.Second

// newClient is the HTTP client of deliveries. It follows no redirects (a 3xx is a failed
// attempt), uses no proxy, and, unless allowPrivate, checks every address it connects to just
// before connecting, after the name was resolved: a name that resolves to a forbidden address,
// now or only at the time of a delivery, is refused. It keeps up to workers idle connections
// per receiver, one for each delivery that may be sent at once: with fewer, concurrent
// deliveries to one receiver dialled a new connection nearly every time, which took as much of
// a server's CPU as answering the creates that caused them.
func newClient(allowPrivate bool, workers int) *http.Client {
	dialer := &net.Dialer{Timeout: RequestTimeout}
	if !allowPrivate {
		dialer.Control = refuseForbidden
	}
	return &http.Client{
		Timeout: RequestTimeout,
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   RequestTimeout,
			ResponseHeaderTimeout: RequestTimeout,
			MaxIdleConnsPerHost:   max(workers, 2),
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// refuseForbidden is a net.Dialer's Control: it runs with the resolved address of each
// connection, before it is made.
func refuseForbidden(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot read %q", ErrForbiddenAddress, address)
	}
	if Forbidden(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}
