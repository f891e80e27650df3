package webhook_test

import (
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/webhook"
)

// The Standard Webhooks specification's published test vector: any receiver library that
// follows it verifies what Sign signs.
func TestSignMatchesTheStandardWebhooksTestVector(t *testing.T) {
	t.Parallel()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_"))
	require.NoError(t, err)
	got := webhook.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`))
	require.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", got)
}

func TestForbiddenAddresses(t *testing.T) {
	t.Parallel()
	for addr, forbidden := range map[string]bool{
		"127.0.0.1":        true,
		"127.8.9.10":       true,
		"::1":              true,
		"10.0.0.1":         true,
		"172.16.5.4":       true,
		"192.168.1.1":      true,
		"169.254.169.254":  true,
		"fe80::1":          true,
		"fd00::1":          true,
		"fc00::1":          true,
		"::ffff:127.0.0.1": true,
		"::ffff:10.1.2.3":  true,
		"100.64.0.1":       true,
		"0.0.0.0":          true,
		"::":               true,
		"224.0.0.1":        true,
		"93.184.215.14":    false,
		"2606:4700::1111":  false,
		"::ffff:8.8.8.8":   false,
		"172.32.0.1":       false,
		// Reserved IPv4 blocks.
		"0.1.2.3":         true,
		"192.0.0.170":     true,
		"198.18.0.1":      true,
		"240.0.0.1":       true,
		"255.255.255.255": true,
		// Documentation, 6to4 relay, discard and deprecated site-local ranges.
		"192.0.2.1":        true,
		"198.51.100.7":     true,
		"203.0.113.200":    true,
		"192.88.99.1":      true,
		"2001:db8::1":      true,
		"100::1":           true,
		"fec0::1":          true,
		"2001:db9::1":      false,
		"100:0:0:1::1":     false,
		"192.0.3.1":        false,
		"203.0.114.1":      false,
		"2002:c000:201::1": true, // 6to4 of 192.0.2.1
		// IPv6 forms that carry an IPv4 address are judged by it.
		"64:ff9b::7f00:1":                      true, // NAT64 of 127.0.0.1
		"64:ff9b::a9fe:a9fe":                   true, // NAT64 of 169.254.169.254
		"64:ff9b::808:808":                     false,
		"64:ff9b:1::a00:1":                     true, // local NAT64 of 10.0.0.1
		"2002:7f00:1::1":                       true, // 6to4 of 127.0.0.1
		"2002:c0a8:101::1":                     true, // 6to4 of 192.168.1.1
		"2002:808:808::1":                      false,
		"2001:0:4136:e378:8000:63bf:f5ff:fffe": true,  // Teredo, client 10.0.0.1 inverted
		"2001:0:4136:e378:8000:63bf:f7f7:f7f7": false, // Teredo, client 8.8.8.8 inverted
		"::7f00:1":                             true,  // IPv4-compatible 127.0.0.1
	} {
		require.Equal(t, forbidden, webhook.Forbidden(netip.MustParseAddr(addr)), addr)
	}
}
