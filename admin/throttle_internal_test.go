package admin

import (
	"net/http"
	"testing"
)

// TestClientKey: an IPv4 client is counted by its address, an IPv6 one by
// its /64 (one host usually holds a whole /64), an IPv4-mapped one as IPv4.
func TestClientKey(t *testing.T) {
	for _, c := range []struct{ remote, want string }{
		{"192.0.2.7:51000", "192.0.2.7/32"},
		{"[::ffff:192.0.2.7]:51000", "192.0.2.7/32"},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9%eth0]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:443", "2001:db8:1:3::/64"},
	} {
		if got := clientKey(&http.Request{RemoteAddr: c.remote}).String(); got != c.want {
			t.Errorf("clientKey(%s) = %s, want %s", c.remote, got, c.want)
		}
	}
}
