package site

import (
	"strings"
	"testing"
)

// TestServiceSecurityKeys: the trusted proxies must be addresses or CIDR blocks, and the
// metrics token is never accepted in parvis.yaml (it is in Git), only the name of its file.
func TestServiceSecurityKeys(t *testing.T) {
	tests := []struct {
		service, fault string
	}{
		{"service: {trustedProxies: [10.0.0.0/8, 192.0.2.7, '2001:db8::/32']}", ""},
		{"service: {trustedProxies: [10.0.0.0/33]}", `service.trustedProxies[0]: "10.0.0.0/33" is not an address or a CIDR block`},
		{"service: {trustedProxies: [10.0.0.1, proxy.example]}", `service.trustedProxies[1]: "proxy.example" is not an address or a CIDR block`},
		{"service: {trustedProxies: ['fe80::1%eth0']}", `service.trustedProxies[0]`},
		{"service: {metricsTokenFile: /etc/parvis/metrics.token}", ""},
		{"service: {metricsToken: s3cr3t-s3cr3t-s3cr3t}", "service.metricsToken: a secret does not belong in parvis.yaml"},
		{"service: {metricsTokenFile: \"a\\nb\"}", "service.metricsTokenFile: must be a path on one line"},
	}
	for _, tt := range tests {
		c, err := ParseConfig([]byte("title: T\n" + tt.service + "\n"))
		switch {
		case tt.fault == "" && err != nil:
			t.Errorf("%s: %v", tt.service, err)
		case tt.fault != "" && (err == nil || !strings.Contains(err.Error(), tt.fault)):
			t.Errorf("%s: fault %v, want %q", tt.service, err, tt.fault)
		case tt.fault == "" && strings.Contains(tt.service, "trustedProxies") && len(c.Service.TrustedProxies) != 3:
			t.Errorf("%s: proxies %v", tt.service, c.Service.TrustedProxies)
		}
	}
}
