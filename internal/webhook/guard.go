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

// ErrForbiddenAddress means a delivery's host resolved to an address that Forbidden names,
// while the policy does not allow private addresses.
var ErrForbiddenAddress = errors.New("the endpoint's address is loopback, private or link-local")

// sharedAddressSpace is 100.64.0.0/10 (RFC 6598), carrier-grade NAT: private in all but name.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// Forbidden says whether a webhook must not be sent to addr unless private addresses are
// allowed: a loopback, private (RFC 1918), unique-local (fc00::/7), link-local (169.254.0.0/16,
// fe80::/10, the cloud metadata services among them), shared (100.64.0.0/10), unspecified or
// multicast address, written as IPv4 or as IPv6, IPv4-mapped forms such as ::ffff:127.0.0.1
// included.
func Forbidden(addr netip.Addr) bool {
	a := addr.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || sharedAddressSpace.Contains(a)
}

// RequestTimeout bounds one attempt of a delivery: connecting, sending and reading the answer.
const RequestTimeout = 10 * time.Second

// newClient is the HTTP client of deliveries. It follows no redirects (a 3xx is a failed
// attempt), uses no proxy, and, unless allowPrivate, checks every address it connects to just
// before connecting, after the name was resolved: a name that resolves to a forbidden address,
// now or only at the time of a delivery, is refused.
func newClient(allowPrivate bool) *http.Client {
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
			MaxIdleConnsPerHost:   2,
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
