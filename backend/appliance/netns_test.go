//go:build linux

package appliance

// Tests on a network of their own: two network namespaces joined by a veth pair, the
// appliance's (198.18.N.1) and a client's (198.18.N.2), made as root with `ip` and removed at
// the end. 198.18.0.0/15 is the range reserved for such tests (RFC 2544): nothing sent here
// leaves the machine, and no private-range or public address is used. The appliance runs in
// its namespace as a child process (this test binary re-executed, helperServe); the client's
// side is this process dialing from a thread that entered the client's namespace (nsDialer),
// and, for mDNS, a child process in it (helperBrowse).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"voicebot/backend/certs"
	"voicebot/backend/discovery"
	"voicebot/backend/httpapi"
	"voicebot/backend/internal/testneeds"
	"voicebot/backend/keys"
)

// testNet is the pair of namespaces.
type testNet struct {
	appNS, clientNS string
	appIP, clientIP string
	appDev          string // the appliance side of the veth pair
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v %s", strings.Join(args, " "), err, out)
	}
}

// newTestNet makes the namespaces and the veth pair between them (skipped, or failed under CI,
// when not root or without ip).
func newTestNet(t *testing.T) testNet {
	t.Helper()
	if os.Geteuid() != 0 {
		testneeds.Missing(t, "needs root to make its own network namespaces (ip netns)")
	}
	testneeds.Tools(t, "Debian package iproute2", "ip")
	id := os.Getpid() % 100000
	n := testNet{appNS: fmt.Sprintf("vbapp%d", id), clientNS: fmt.Sprintf("vbcli%d", id)}
	sub := 1 + id%250
	n.appIP, n.clientIP = fmt.Sprintf("198.18.%d.1", sub), fmt.Sprintf("198.18.%d.2", sub)
	va, vc := fmt.Sprintf("vba%d", id), fmt.Sprintf("vbc%d", id)
	n.appDev = va
	ipCmd(t, "netns", "add", n.appNS)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.appNS).Run() })
	ipCmd(t, "netns", "add", n.clientNS)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.clientNS).Run() })
	ipCmd(t, "link", "add", va, "netns", n.appNS, "type", "veth", "peer", "name", vc, "netns", n.clientNS)
	for _, side := range []struct{ ns, dev, ip string }{{n.appNS, va, n.appIP}, {n.clientNS, vc, n.clientIP}} {
		ipCmd(t, "-n", side.ns, "link", "set", "lo", "up")
		ipCmd(t, "-n", side.ns, "addr", "add", side.ip+"/24", "dev", side.dev)
		ipCmd(t, "-n", side.ns, "link", "set", side.dev, "up")
		ipCmd(t, "-n", side.ns, "route", "add", "224.0.0.0/4", "dev", side.dev) // mDNS's multicast
	}
	return n
}

// nsDialer dials from inside a namespace: one goroutine, locked to its thread, enters the
// namespace and makes every connection there (a socket belongs to the namespace it was made
// in). The thread is never unlocked, so it ends with the goroutine instead of serving others.
func nsDialer(t *testing.T, ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	type req struct {
		network, addr string
		res           chan result
	}
	reqs := make(chan req)
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + ns)
		if err == nil {
			err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
			f.Close()
		}
		ready <- err
		if err != nil {
			return
		}
		for r := range reqs {
			c, err := (&net.Dialer{Timeout: 10 * time.Second}).Dial(r.network, r.addr)
			r.res <- result{c, err}
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("enter %s: %v", ns, err)
	}
	t.Cleanup(func() { close(reqs) })
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		r := req{network, addr, make(chan result, 1)}
		reqs <- r
		out := <-r.res
		return out.c, out.err
	}
}

// browseFrom asks for appliances over mDNS from inside a namespace (a child process in it).
func browseFrom(t *testing.T, ns string) []discovery.Found {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "VOICEBOT_HELPER_BROWSE=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browse: %v", err)
	}
	var found []discovery.Found
	if err := json.Unmarshal(out, &found); err != nil {
		t.Fatalf("discovered %s (%v)", out, err)
	}
	return found
}

// TestNewAddressInNetns: an appliance listening on all its addresses, whose machine's address
// changes (the old one removed, a new one given, as a new DHCP lease would), advertises the new
// address over mDNS and serves HTTPS there with a certificate that names it, within a few
// address checks, without a restart.
func TestNewAddressInNetns(t *testing.T) {
	n := newTestNet(t)
	data, conf := t.TempDir(), t.TempDir()
	settings := filepath.Join(conf, "settings.yaml")
	os.WriteFile(settings, []byte("log_level: info\n"), 0o600)
	lanApplianceOn(t, n, "0.0.0.0:8750", data, conf, settings)
	addrOf := func() string {
		found := browseFrom(t, n.clientNS)
		if len(found) != 1 {
			return fmt.Sprint(found)
		}
		return found[0].Address
	}
	waitUntil(t, "advertised at "+n.appIP, func() bool { return addrOf() == n.appIP })

	newIP := strings.TrimSuffix(n.appIP, ".1") + ".3"
	ipCmd(t, "-n", n.appNS, "addr", "del", n.appIP+"/24", "dev", n.appDev)
	ipCmd(t, "-n", n.appNS, "addr", "add", newIP+"/24", "dev", n.appDev)
	ipCmd(t, "-n", n.appNS, "route", "replace", "224.0.0.0/4", "dev", n.appDev)
	t0 := time.Now()
	waitUntil(t, "advertised at the new address "+newIP, func() bool { return addrOf() == newIP })
	t.Logf("advertised at the new address after %v", time.Since(t0).Round(100*time.Millisecond))

	// HTTPS at the new address, its certificate naming it (checked by the TLS client, with the
	// appliance's CA trusted)
	dial := nsDialer(t, n.clientNS)
	plain := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dial}}
	res, err := plain.Get("http://" + net.JoinHostPort(newIP, "8750") + "/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := io.ReadAll(res.Body)
	res.Body.Close()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("/ca.pem at the new address: %d", res.StatusCode)
	}
	secure := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: pool}}}
	waitUntil(t, "a certificate for "+newIP, func() bool {
		res, err := secure.Get("https://" + net.JoinHostPort(newIP, "8750") + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
}

// lanAppliance runs the appliance in the test network's appliance namespace, listening on
// appIP:8750 with the visitor screen, and returns its address.
func lanAppliance(t *testing.T, n testNet, data, conf, settings string) string {
	return lanApplianceOn(t, n, net.JoinHostPort(n.appIP, "8750"), data, conf, settings)
}

// lanApplianceOn is lanAppliance listening on listen (an address inside the namespace), its
// addresses checked every second.
func lanApplianceOn(t *testing.T, n testNet, listen, data, conf, settings string) string {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	cmd := exec.Command("ip", "netns", "exec", n.appNS, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "VOICEBOT_HELPER_SERVE=1", "VOICEBOT_HELPER_DATA="+data, "VOICEBOT_HELPER_CONFIG="+conf, "VOICEBOT_HELPER_ADDR="+addrFile,
		"VOICEBOT_HELPER_LISTEN="+listen, "VOICEBOT_HELPER_UI="+visitorUI(t), "VOICEBOT_HELPER_SETTINGS="+settings, "VOICEBOT_HELPER_ADDR_CHECK=1s")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var addr string
	for deadline := time.Now().Add(60 * time.Second); addr == ""; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(addrFile); err == nil {
			addr = string(b)
		} else if time.Now().After(deadline) {
			t.Fatal("the appliance did not start in its namespace")
		}
	}
	return addr
}

// TestLANOverHTTPSInNetns: an appliance on a non-loopback address (198.18.N.1, in its own
// namespace) seen from another machine (the client's namespace): it is found over mDNS with
// its version and CA fingerprint; /ca.pem comes over plain HTTP and is that CA; the page is
// served over plain HTTP but the API refuses it (https_required); over HTTPS, trusting only
// that CA and checking the address against the certificate, a screen pairs with a one-time
// code and holds a chat turn.
func TestLANOverHTTPSInNetns(t *testing.T) {
	n := newTestNet(t)
	data, conf := t.TempDir(), t.TempDir()
	db, err := OpenStore(context.Background(), Options{DataDir: data, ConfigDir: conf})
	if err != nil {
		t.Fatal(err)
	}
	code, _, err := db.CreatePairing(context.Background(), "hall tablet", "test", "")
	if err != nil {
		t.Fatal(err)
	}
	chatKey, _, err := keys.NewService(db).Create(context.Background(), keys.Spec{Name: "old", Scopes: []string{"chat"}}, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	settings := filepath.Join(conf, "settings.yaml")
	os.WriteFile(settings, []byte("log_level: info\n"), 0o600)
	addr := lanAppliance(t, n, data, conf, settings)
	if addr != net.JoinHostPort(n.appIP, "8750") {
		t.Fatalf("listening on %s", addr)
	}

	// mDNS from the client's namespace.
	browse := func() []discovery.Found { return browseFrom(t, n.clientNS) }
	found := browse()
	if len(found) != 1 {
		t.Fatalf("discovered %+v", found)
	}
	f := found[0]
	if f.Address != n.appIP || f.Port != 8750 || f.URL != "https://"+addr+"/" || f.Name != "Mira" || f.CAFingerprint == "" || !strings.HasSuffix(f.Host, ".local") {
		t.Fatalf("discovered %+v", f)
	}

	// discovery: false in the settings file stops the advertisement, live.
	os.WriteFile(settings, []byte("discovery: false\n"), 0o600)
	waitUntil(t, "no answer with discovery: false", func() bool { return len(browse()) == 0 })

	dial := nsDialer(t, n.clientNS)
	plain := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dial}}
	get := func(c *http.Client, u, key string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	st, caPEM := get(plain, "http://"+addr+"/ca.pem", "")
	blk, _ := pem.Decode(caPEM)
	if st != 200 || blk == nil {
		t.Fatalf("/ca.pem over plain HTTP from the LAN: %d", st)
	}
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || certs.Fingerprint(ca) != f.CAFingerprint {
		t.Fatalf("the CA served is not the one advertised (%v)", err)
	}
	if st, body := get(plain, "http://"+addr+"/", ""); st != 200 || !strings.Contains(string(body), `id="insecure"`) {
		t.Fatalf("the visitor screen over plain HTTP from the LAN: %d", st)
	}
	if st, body := get(plain, "http://"+addr+"/v1/bot", chatKey); st != 403 || !strings.Contains(string(body), httpapi.CodeHTTPSRequired) {
		t.Fatalf("the API over plain HTTP from the LAN: %d %s", st, body)
	}

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	secure := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := secure.Post("https://"+addr+"/v1/pair", "application/json", strings.NewReader(`{"code":"`+code+`"}`))
	if err != nil {
		t.Fatalf("pair over https from the LAN: %v", err)
	}
	var paired httpapi.PairReply
	json.NewDecoder(res.Body).Decode(&paired)
	res.Body.Close()
	if res.StatusCode != 201 || paired.Key == "" {
		t.Fatalf("pair: %d", res.StatusCode)
	}
	if err := res.TLS.PeerCertificates[0].VerifyHostname(n.appIP); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", "https://"+addr+"/v1/chat", strings.NewReader(`{"text":"What are the opening hours?"}`))
	req.Header.Set("Authorization", "Bearer "+paired.Key)
	req.Header.Set("Content-Type", "application/json")
	res, err = secure.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "Tuesday") {
		t.Fatalf("chat over https from the LAN: %d %s", res.StatusCode, body)
	}
}
