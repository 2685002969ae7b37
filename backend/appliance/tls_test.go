package appliance

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"voicebot/backend/certs"
	"voicebot/backend/keys"
)

// caPool fetches /ca.pem over plain HTTP on loopback, without a key, and returns it as a pool.
func caPool(t *testing.T, a *Appliance) (*x509.CertPool, *x509.Certificate) {
	t.Helper()
	res, err := http.Get("http://" + a.Addr() + "/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("/ca.pem: %d %s", res.StatusCode, b)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("/ca.pem is not a PEM certificate: %q", b)
	}
	if bytes.Contains(b, []byte("PRIVATE")) {
		t.Fatal("/ca.pem carries a private key")
	}
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, ca
}

func httpsClient(pool *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// TestHTTPSBesidePlainHTTP: one port serves HTTPS with a certificate of the appliance's own CA
// (fetched without a key from /ca.pem) and plain HTTP on loopback; a chat turn goes through
// both; TLS 1.1 is refused; the expiry gauges say the certificates' NotAfter.
func TestHTTPSBesidePlainHTTP(t *testing.T) {
	a := start(t, Options{})
	key := newKey(t, a, keys.Spec{Scopes: []string{"chat", "metrics"}})
	pool, ca := caPool(t, a)
	if got := certs.Fingerprint(ca); got != a.CAFingerprint() || len(got) != 95 {
		t.Fatalf("fingerprint of /ca.pem %s, appliance says %s", got, a.CAFingerprint())
	}
	if !ca.IsCA || ca.NotAfter.Before(time.Now().Add(9*365*24*time.Hour)) {
		t.Fatalf("CA: IsCA %v, until %v", ca.IsCA, ca.NotAfter)
	}
	c := httpsClient(pool)
	req, _ := http.NewRequest("POST", "https://"+a.Addr()+"/v1/chat", strings.NewReader(`{"text":"What are the opening hours?"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("https chat: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "Tuesday") {
		t.Fatalf("https chat: %d %s", res.StatusCode, body)
	}
	if res.TLS == nil || res.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("https chat: TLS state %+v", res.TLS)
	}
	leaf := res.TLS.PeerCertificates[0]
	if !certs.SignedBy(leaf, ca, time.Now()) {
		t.Fatal("the server certificate is not the CA's")
	}
	if r := post(t, a, "/v1/chat", key, `{"text":"What are the opening hours?"}`); r.status != 200 {
		t.Fatalf("plain chat on loopback: %d %s", r.status, r.body)
	}
	old := &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10}
	if conn, err := tls.Dial("tcp", a.Addr(), old); err == nil {
		conn.Close()
		t.Fatal("a TLS 1.1 handshake was accepted")
	}
	m := do(t, a, "GET", "/metrics", key, "")
	for cert, when := range map[string]time.Time{"ca": ca.NotAfter, "server": leaf.NotAfter} {
		line := `voicebot_tls_certificate_expiry_timestamp_seconds{cert="` + cert + `"} `
		i := strings.Index(string(m.body), line)
		if i < 0 {
			t.Fatalf("metrics lack %s", line)
		}
		rest := string(m.body[i+len(line):])
		rest, _, _ = strings.Cut(rest, "\n")
		if got, err := strconv.ParseFloat(rest, 64); err != nil || int64(got) != when.Unix() {
			t.Errorf("%s = %s, want %d", line, rest, when.Unix())
		}
	}
}

// TestServerCertificateRenewal: the server certificate is issued again a month before it
// expires and when the machine's addresses change, kept otherwise, and the CA and the
// certificate survive a restart (they live in the store).
func TestServerCertificateRenewal(t *testing.T) {
	data, conf := t.TempDir(), t.TempDir()
	a := start(t, Options{DataDir: data, ConfigDir: conf})
	ctx := context.Background()
	hosts := a.tls.hostsFunc()
	if renewed, err := a.renewServerCert(ctx, time.Now(), hosts); err != nil || renewed {
		t.Fatalf("a fresh certificate was renewed: %v %v", renewed, err)
	}
	moved := hosts
	moved.IPs = append(append([]net.IP(nil), hosts.IPs...), net.ParseIP("198.18.0.9").To4())
	if renewed, err := a.renewServerCert(ctx, time.Now(), moved); err != nil || !renewed {
		t.Fatalf("not issued again for a new address: %v", err)
	}
	cur := a.ServerCertificate()
	if err := cur.VerifyHostname("198.18.0.9"); err != nil {
		t.Fatalf("the new address is not in the certificate: %v", err)
	}
	if err := cur.VerifyHostname(certs.MDNSName()); err != nil {
		t.Fatalf("the mDNS name is not in the certificate: %v", err)
	}
	fp := a.CAFingerprint()
	a.Close(ctx)
	// Restarted: the same CA from the store; the stored certificate (valid, but for 198.18.0.9,
	// which this machine does not have) is issued again for the machine's addresses.
	b := start(t, Options{DataDir: data, ConfigDir: conf})
	if b.CAFingerprint() != fp {
		t.Fatal("the CA changed across a restart")
	}
	got := b.ServerCertificate()
	if got.SerialNumber.Cmp(cur.SerialNumber) == 0 || got.VerifyHostname("198.18.0.9") == nil {
		t.Fatal("a certificate for addresses the machine no longer has was kept at start")
	}
	// Expiry: kept 31 days before, issued again 29 days before.
	if renewed, _ := b.renewServerCert(ctx, got.NotAfter.Add(-31*24*time.Hour), hosts); renewed {
		t.Fatal("renewed 31 days before expiry")
	}
	if renewed, err := b.renewServerCert(ctx, got.NotAfter.Add(-29*24*time.Hour), hosts); err != nil || !renewed {
		t.Fatalf("not renewed 29 days before expiry: %v", err)
	}
	if b.ServerCertificate().NotAfter.Sub(got.NotAfter) < 28*24*time.Hour {
		t.Fatal("the renewed certificate does not last longer")
	}
}

// TestCAKeySealedAtRest: no file of the data or config folder holds a private key in the clear
// (the CA's lives in the encrypted store).
func TestCAKeySealedAtRest(t *testing.T) {
	data, conf := t.TempDir(), t.TempDir()
	a := start(t, Options{DataDir: data, ConfigDir: conf})
	if a.CAFingerprint() == "" {
		t.Fatal("no CA")
	}
	a.Close(context.Background())
	der := a.tls.ca.Cert.Raw
	for _, dir := range []string{data, conf} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte("PRIVATE KEY")) || bytes.Contains(b, []byte("BEGIN CERTIFICATE")) || bytes.Contains(b, der[:64]) {
				t.Errorf("%s holds TLS material in the clear", p)
			}
			return nil
		})
	}
}

// TestOperatorCertificate: tls_cert_file and tls_key_file in the settings file present the
// operator's certificate, live; taking them out goes back to the appliance's own.
func TestOperatorCertificate(t *testing.T) {
	dir := t.TempDir()
	opCA, _ := certs.NewCA("operator", time.Now())
	op, err := certs.Issue(opCA, certs.Hosts{DNS: []string{"kiosk.example"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "op.pem"), filepath.Join(dir, "op.key")
	os.WriteFile(certFile, op.CertPEM, 0o600)
	os.WriteFile(keyFile, op.KeyPEM, 0o600)
	settings := filepath.Join(dir, "settings.yaml")
	os.WriteFile(settings, []byte("tls_cert_file: "+certFile+"\ntls_key_file: "+keyFile+"\n"), 0o600)
	a := start(t, Options{ConfigFile: settings})
	presented := func() *x509.Certificate {
		conn, err := tls.Dial("tcp", a.Addr(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0]
	}
	if got := presented(); !got.Equal(op.Cert) {
		t.Fatalf("presented %s, want the operator's", got.Subject)
	}
	if !a.OperatorCertificate() {
		t.Fatal("OperatorCertificate false")
	}
	os.WriteFile(settings, []byte("log_level: info\n"), 0o600)
	waitUntil(t, "the appliance's own certificate again", func() bool { return !presented().Equal(op.Cert) })
	if got := presented(); !certs.SignedBy(got, a.tls.ca.Cert, time.Now()) {
		t.Fatalf("after the operator's: %s, not the appliance's CA", got.Subject)
	}
}

// TestPlainHTTPFromTheLAN: plain HTTP from another machine's address gets the visitor screen,
// /ca.pem and /healthz, and 403 https_required for the API and the dashboard; over TLS, or
// from loopback, everything is served as before. (The handler chain of the listener, with the
// request's remote address set: a real LAN peer is TestLANOverHTTPSInNetns's.)
func TestPlainHTTPFromTheLAN(t *testing.T) {
	a := start(t, Options{VisitorUI: os.DirFS(visitorUI(t))})
	h := a.lanGate(a.root)
	serve := func(method, path, remote string, secure bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://198.18.0.1:8750"+path, nil)
		r.RemoteAddr = remote
		if secure {
			r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	const lan = "198.18.0.2:40000"
	for _, p := range []string{"/", "/ca.pem", "/healthz"} {
		if w := serve("GET", p, lan, false); w.Code != 200 {
			t.Errorf("plain GET %s from the LAN: %d %s", p, w.Code, w.Body)
		}
	}
	for _, p := range []string{"/v1/bot", "/dashboard/", "/v1/openapi.json"} {
		w := serve("GET", p, lan, false)
		if w.Code != 403 || !strings.Contains(w.Body.String(), `"https_required"`) || !strings.Contains(w.Body.String(), "https://198.18.0.1:8750") {
			t.Errorf("plain GET %s from the LAN: %d %s", p, w.Code, w.Body)
		}
		if w := serve("GET", p, lan, true); w.Code == 403 {
			t.Errorf("GET %s over TLS from the LAN: 403 %s", p, w.Body)
		}
		if w := serve("GET", p, "127.0.0.1:40000", false); w.Code == 403 {
			t.Errorf("plain GET %s from loopback: 403 %s", p, w.Body)
		}
	}
	if w := serve("POST", "/v1/chat", lan, false); w.Code != 403 {
		t.Errorf("plain POST /v1/chat from the LAN: %d", w.Code)
	}
	a.tls.plainLAN.Store(true) // lan_plain_http: true
	if w := serve("GET", "/v1/bot", lan, false); w.Code != 401 {
		t.Errorf("plain GET /v1/bot from the LAN with lan_plain_http: %d %s", w.Code, w.Body)
	}
}
