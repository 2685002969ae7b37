// Package certs is the appliance's own certificate authority: it makes the CA (ECDSA P-256, ten
// years) and the server certificates it signs for the appliance's LAN addresses and mDNS name
// (90 days, renewed a month before expiry or as soon as the addresses change), reads them back
// from PEM, and names a certificate by its SHA-256 fingerprint. It holds no state and writes
// nothing: the appliance keeps the PEM in its encrypted store (backend/appliance/tls.go). Only
// the standard library's crypto/x509 is used; the CA is the product, no ACME.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"slices"
	"strings"
	"time"
)

// Lifetimes and the renewal margin.
const (
	CALifetime     = 10 * 365 * 24 * time.Hour
	ServerLifetime = 90 * 24 * time.Hour
	RenewBefore    = 30 * 24 * time.Hour
)

// Pair is a certificate with its private key, as PEM and parsed.
type Pair struct {
	CertPEM, KeyPEM []byte
	Cert            *x509.Certificate
	TLS             tls.Certificate
}

// Hosts are the names a server certificate is for.
type Hosts struct {
	DNS []string
	IPs []net.IP
}

// Key is a stable text of the hosts (sorted), to compare a certificate's names with the
// machine's addresses.
func (h Hosts) Key() string {
	var parts []string
	for _, d := range h.DNS {
		parts = append(parts, "dns:"+strings.ToLower(d))
	}
	for _, ip := range h.IPs {
		parts = append(parts, "ip:"+ip.String())
	}
	slices.Sort(parts)
	return strings.Join(slices.Compact(parts), ",")
}

// HostsOf are the names a certificate is for.
func HostsOf(c *x509.Certificate) Hosts { return Hosts{DNS: c.DNSNames, IPs: c.IPAddresses} }

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// NewCA makes a certificate authority named after the appliance (name, e.g. the host name).
func NewCA(name string, now time.Time) (*Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: "VoiceBot appliance CA " + name, Organization: []string{"VoiceBot appliance " + name}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CALifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return fromDER(der, key)
}

// Issue signs a server certificate for hosts with the CA.
func Issue(ca *Pair, hosts Hosts, now time.Time) (*Pair, error) {
	if len(hosts.DNS) == 0 && len(hosts.IPs) == 0 {
		return nil, errors.New("a server certificate needs at least one name or address")
	}
	caKey, ok := ca.TLS.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("the CA's key is not an ECDSA key")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	cn := "voicebot"
	if len(hosts.DNS) > 0 {
		cn = hosts.DNS[0]
	}
	notAfter := now.Add(ServerLifetime)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     hosts.DNS,
		IPAddresses:  hosts.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	return fromDER(der, key)
}

func fromDER(der []byte, key *ecdsa.PrivateKey) (*Pair, error) {
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
	return Parse(certPEM, keyPEM)
}

// Parse reads a certificate (the first of the PEM, others are its chain) and its key.
func Parse(certPEM, keyPEM []byte) (*Pair, error) {
	t, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if t.Leaf == nil {
		if t.Leaf, err = x509.ParseCertificate(t.Certificate[0]); err != nil {
			return nil, err
		}
	}
	return &Pair{CertPEM: certPEM, KeyPEM: keyPEM, Cert: t.Leaf, TLS: t}, nil
}

// LoadFiles reads an operator's certificate (with its chain) and key from PEM files.
func LoadFiles(certFile, keyFile string) (*Pair, error) {
	c, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	k, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	p, err := Parse(c, k)
	if err != nil {
		return nil, fmt.Errorf("%s and %s: %w", certFile, keyFile, err)
	}
	return p, nil
}

// Fingerprint is the SHA-256 of a certificate's DER, as colon-separated upper-case hex (the
// form Android, iOS, Windows and browsers show).
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// Renewal says why a server certificate must be issued again ("" when it may stay): it expires
// within RenewBefore (or a third of its life, for a short one), or its names are not hosts.
func Renewal(c *x509.Certificate, hosts Hosts, now time.Time) string {
	margin := RenewBefore
	if life := c.NotAfter.Sub(c.NotBefore); life/3 < margin {
		margin = life / 3
	}
	switch {
	case now.Add(margin).After(c.NotAfter):
		return "expires " + c.NotAfter.UTC().Format(time.RFC3339)
	case HostsOf(c).Key() != hosts.Key():
		return "addresses changed: " + hosts.Key()
	}
	return ""
}

// SignedBy reports whether c verifies as a server certificate under ca.
func SignedBy(c, ca *x509.Certificate, now time.Time) bool {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	_, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err == nil
}

// MachineHosts are this machine's names for its server certificate: its non-loopback,
// non-link-local interface addresses, its mDNS name (host.local), localhost and the loopback
// addresses (so that https on loopback verifies too).
func MachineHosts(mdnsName string) Hosts {
	h := Hosts{DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}}
	if mdnsName != "" {
		h.DNS = append([]string{mdnsName}, h.DNS...)
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() || n.IP.IsLinkLocalMulticast() {
			continue
		}
		ip := n.IP
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		if !slices.ContainsFunc(h.IPs, func(x net.IP) bool { return x.Equal(ip) }) {
			h.IPs = append(h.IPs, ip)
		}
	}
	return h
}

// MDNSName is the machine's mDNS name: its host name's first label, lower case, with .local.
func MDNSName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "voicebot.local"
	}
	host, _, _ = strings.Cut(strings.ToLower(host), ".")
	return host + ".local"
}
