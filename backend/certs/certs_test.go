package certs

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"regexp"
	"testing"
	"time"
)

// TestCAAndServerCertificate: the CA is a CA that may sign only end certificates; the server
// certificate it issues is for server authentication, names the hosts given, verifies under
// the CA (and under no other), ends no later than the CA, and reads back from its PEM.
func TestCAAndServerCertificate(t *testing.T) {
	now := time.Now()
	ca, err := NewCA("kiosk", now)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Cert.IsCA || !ca.Cert.MaxPathLenZero || ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0 || ca.Cert.NotAfter.Sub(now) < CALifetime-time.Hour {
		t.Fatalf("CA: IsCA %v, MaxPathLenZero %v, usage %v, until %v", ca.Cert.IsCA, ca.Cert.MaxPathLenZero, ca.Cert.KeyUsage, ca.Cert.NotAfter)
	}
	hosts := Hosts{DNS: []string{"kiosk.local", "localhost"}, IPs: []net.IP{net.ParseIP("198.18.0.1").To4(), net.IPv6loopback}}
	srv, err := Issue(ca, hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Cert.IsCA || len(srv.Cert.ExtKeyUsage) != 1 || srv.Cert.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Fatalf("server certificate: IsCA %v, ext usage %v", srv.Cert.IsCA, srv.Cert.ExtKeyUsage)
	}
	for _, h := range []string{"kiosk.local", "198.18.0.1", "::1", "localhost"} {
		if err := srv.Cert.VerifyHostname(h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	if srv.Cert.VerifyHostname("198.18.0.2") == nil {
		t.Error("an address not given verifies")
	}
	if !SignedBy(srv.Cert, ca.Cert, now) {
		t.Fatal("not signed by the CA")
	}
	other, _ := NewCA("other", now)
	if SignedBy(srv.Cert, other.Cert, now) {
		t.Fatal("verifies under another CA")
	}
	if HostsOf(srv.Cert).Key() != hosts.Key() || Renewal(srv.Cert, hosts, now) != "" {
		t.Fatalf("a fresh certificate wants renewal: %q", Renewal(srv.Cert, hosts, now))
	}
	back, err := Parse(srv.CertPEM, srv.KeyPEM)
	if err != nil || !back.Cert.Equal(srv.Cert) {
		t.Fatalf("PEM round trip: %v", err)
	}
	if _, err := tls.X509KeyPair(srv.CertPEM, ca.KeyPEM); err == nil {
		t.Fatal("the server certificate pairs with the CA's key")
	}
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(Fingerprint(ca.Cert)) {
		t.Fatalf("fingerprint %q", Fingerprint(ca.Cert))
	}
	// Near the CA's end, a server certificate ends with it.
	late, err := Issue(ca, hosts, ca.Cert.NotAfter.Add(-10*24*time.Hour))
	if err != nil || !late.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Fatalf("a certificate outliving its CA: %v %v", late.Cert.NotAfter, err)
	}
}

// TestRenewal: a 90-day certificate is kept until 30 days before it ends, and issued again
// when the names differ (an address more or less, whatever the order).
func TestRenewal(t *testing.T) {
	now := time.Now()
	ca, _ := NewCA("kiosk", now)
	hosts := Hosts{DNS: []string{"kiosk.local"}, IPs: []net.IP{net.ParseIP("198.18.0.1").To4(), net.ParseIP("198.18.0.3").To4()}}
	c, _ := Issue(ca, hosts, now)
	if r := Renewal(c.Cert, hosts, c.Cert.NotAfter.Add(-31*24*time.Hour)); r != "" {
		t.Errorf("31 days before: %q", r)
	}
	if r := Renewal(c.Cert, hosts, c.Cert.NotAfter.Add(-29*24*time.Hour)); r == "" {
		t.Error("29 days before: kept")
	}
	swapped := Hosts{DNS: hosts.DNS, IPs: []net.IP{hosts.IPs[1], hosts.IPs[0]}}
	if r := Renewal(c.Cert, swapped, now); r != "" {
		t.Errorf("the same names in another order: %q", r)
	}
	moved := Hosts{DNS: hosts.DNS, IPs: hosts.IPs[:1]}
	if r := Renewal(c.Cert, moved, now); r == "" {
		t.Error("an address gone: kept")
	}
}
