package appliance

// HTTPS on the LAN: the appliance's own certificate authority (made on first start, kept in the
// encrypted store, so its private key is sealed by the store key), the server certificate it
// issues for this machine's LAN addresses and mDNS name (renewed a month before expiry and
// issued again when the addresses change, checked every minute), or the operator's own
// certificate (settings tls_cert_file and tls_key_file, live). One port serves both: a
// connection that opens with a TLS handshake gets TLS, any other plain HTTP (protoListener).
// Plain HTTP from loopback is served as before; from another address only the visitor screen
// (which then says why its microphone is off and how to fix it), /ca.pem and /healthz are,
// everything else answering 403 https_required, unless the settings say lan_plain_http: true.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"voicebot/backend/certs"
	"voicebot/backend/httpapi"
	"voicebot/backend/store"
)

// tlsState is the CA and the certificates the listener may present.
type tlsState struct {
	ca        *certs.Pair
	own       atomic.Pointer[certs.Pair] // the appliance's server certificate
	operator  atomic.Pointer[certs.Pair] // the operator's (tls_cert_file), presented when set
	opFiles   string                     // the operator's files as loaded: cert + "\x00" + key (under renewMu)
	plainLAN  atomic.Bool                // lan_plain_http: plain HTTP from the LAN served in full
	mdnsName  string
	renewMu   sync.Mutex // one renewal at a time
	config    *tls.Config
	hostsFunc func() certs.Hosts
}

// LoadCA returns the appliance's certificate authority from the store, making it on first use.
// `voicebot tls ca` calls it too (public: the CLI prints the CA's certificate).
func LoadCA(ctx context.Context, db store.Backend) (*certs.Pair, error) {
	c, k, ok, err := db.TLSMaterial(ctx, "ca")
	if err != nil {
		return nil, fmt.Errorf("read the CA: %w", err)
	}
	if !ok {
		host, _ := os.Hostname()
		ca, err := certs.NewCA(host, time.Now())
		if err != nil {
			return nil, fmt.Errorf("make the CA: %w", err)
		}
		// Another process (the CLI beside the service) may make one at the same moment: the
		// first stored wins, and both read it back.
		if err := db.PutTLSMaterial(ctx, "ca", ca.CertPEM, ca.KeyPEM, true); err != nil {
			return nil, fmt.Errorf("store the CA: %w", err)
		}
		if c, k, ok, err = db.TLSMaterial(ctx, "ca"); err != nil || !ok {
			return nil, fmt.Errorf("read the CA back: %v", err)
		}
	}
	ca, err := certs.Parse(c, k)
	if err != nil {
		return nil, fmt.Errorf("the stored CA is damaged: %w", err)
	}
	return ca, nil
}

// setupTLS loads (or makes) the CA and the server certificate, and the operator's certificate
// when the settings name one.
func (a *Appliance) setupTLS(ctx context.Context, certFile, keyFile string) error {
	ca, err := LoadCA(ctx, a.Store)
	if err != nil {
		return err
	}
	t := &tlsState{ca: ca, mdnsName: certs.MDNSName()}
	t.hostsFunc = func() certs.Hosts { return certs.MachineHosts(t.mdnsName) }
	t.config = &tls.Config{
		MinVersion: tls.VersionTLS12, // Go's default cipher suites; no weak versions
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if p := t.operator.Load(); p != nil {
				return &p.TLS, nil
			}
			if p := t.own.Load(); p != nil {
				return &p.TLS, nil
			}
			return nil, errors.New("no server certificate")
		},
	}
	a.tls = t
	a.Metrics.TLSExpiry.WithLabelValues("ca").Set(float64(ca.Cert.NotAfter.Unix()))
	if c, k, ok, err := a.Store.TLSMaterial(ctx, a.serverCertName()); err != nil {
		return err
	} else if ok {
		if p, err := certs.Parse(c, k); err == nil {
			t.own.Store(p)
		}
	}
	if _, err := a.renewServerCert(ctx, time.Now(), t.hostsFunc()); err != nil {
		return err
	}
	if err := a.setOperatorCert(certFile, keyFile); err != nil {
		return err
	}
	return nil
}

// renewServerCert issues the server certificate again when there is none, it is not the CA's,
// it expires within the renewal margin at now, or its names are not hosts; true when it did.
func (a *Appliance) renewServerCert(ctx context.Context, now time.Time, hosts certs.Hosts) (bool, error) {
	t := a.tls
	t.renewMu.Lock()
	defer t.renewMu.Unlock()
	reason := "first start"
	if cur := t.own.Load(); cur != nil {
		reason = certs.Renewal(cur.Cert, hosts, now)
		if reason == "" && !certs.SignedBy(cur.Cert, t.ca.Cert, now) {
			reason = "not signed by this appliance's CA"
		}
		if reason == "" {
			a.noteServerExpiry()
			return false, nil
		}
	}
	p, err := certs.Issue(t.ca, hosts, now)
	if err != nil {
		return false, fmt.Errorf("issue the server certificate: %w", err)
	}
	if err := a.Store.PutTLSMaterial(ctx, a.serverCertName(), p.CertPEM, p.KeyPEM, false); err != nil {
		return false, fmt.Errorf("store the server certificate: %w", err)
	}
	t.own.Store(p)
	a.noteServerExpiry()
	slog.Info("TLS server certificate issued", "reason", reason, "names", hosts.Key(), "expires", p.Cert.NotAfter.UTC().Format(time.RFC3339))
	a.audit(store.AuditEntry{Actor: "system", Action: "tls.certificate_issued", Target: "server", Detail: reason + "; for " + hosts.Key()})
	return true, nil
}

// setOperatorCert presents the operator's certificate (PEM files) instead of the appliance's;
// empty names go back to the appliance's. A file that does not load is an error and changes
// nothing.
func (a *Appliance) setOperatorCert(certFile, keyFile string) error {
	t := a.tls
	t.renewMu.Lock()
	defer t.renewMu.Unlock()
	files := certFile + "\x00" + keyFile
	if files == t.opFiles {
		return nil
	}
	if (certFile == "") != (keyFile == "") {
		return errors.New("tls_cert_file and tls_key_file go together: set both or neither")
	}
	if certFile == "" {
		t.operator.Store(nil)
	} else {
		p, err := certs.LoadFiles(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("the operator's certificate: %w", err)
		}
		t.operator.Store(p)
		slog.Info("TLS: presenting the operator's certificate", "file", certFile, "subject", p.Cert.Subject.String(), "expires", p.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	t.opFiles = files
	a.noteServerExpiry()
	return nil
}

func (a *Appliance) noteServerExpiry() {
	if c := a.ServerCertificate(); c != nil {
		a.Metrics.TLSExpiry.WithLabelValues("server").Set(float64(c.NotAfter.Unix()))
	}
}

// ServerCertificate is the certificate the listener presents now.
func (a *Appliance) ServerCertificate() *x509.Certificate {
	if p := a.tls.operator.Load(); p != nil {
		return p.Cert
	}
	if p := a.tls.own.Load(); p != nil {
		return p.Cert
	}
	return nil
}

// CACertPEM is the appliance's CA certificate (public), for /ca.pem, the dashboard and the tray.
func (a *Appliance) CACertPEM() []byte { return a.tls.ca.CertPEM }

// CAFingerprint is the SHA-256 fingerprint of the appliance's CA certificate.
func (a *Appliance) CAFingerprint() string { return certs.Fingerprint(a.tls.ca.Cert) }

// OperatorCertificate reports whether the operator's own certificate is presented.
func (a *Appliance) OperatorCertificate() bool { return a.tls.operator.Load() != nil }

// TLSConfig is the listener's TLS configuration (tests and benchmarks dial with it in mind).
func (a *Appliance) TLSConfig() *tls.Config { return a.tls.config }

// watchAddresses checks, every minute (AddressCheckEvery) until ctx ends, the server certificate
// (renewed before it expires, re-issued when the addresses change) and the mDNS advertisement.
func (a *Appliance) watchAddresses(ctx context.Context) {
	every := a.Opts.AddressCheckEvery
	if every <= 0 {
		every = time.Minute
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := a.renewServerCert(ctx, time.Now(), a.tls.hostsFunc()); err != nil && ctx.Err() == nil {
				slog.Error("TLS server certificate not renewed; the current one stays", "err", err)
			}
			a.refreshDiscovery()
		}
	}
}

// serveCA serves the CA's certificate: public, like any CA certificate, so that a device can
// trust it before it has a key.
func (a *Appliance) serveCA(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/x-x509-ca-cert")
	h.Set("Content-Disposition", `attachment; filename="voicebot-ca.pem"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(a.CACertPEM())
}

// lanGate refuses plain HTTP from another machine (what it sends, a key among it, crosses the
// LAN readable) with 403 https_required, but for the visitor screen's files (so that the page
// can say why and link the https address), /ca.pem and /healthz; loopback is served as before.
func (a *Appliance) lanGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil || a.tls.plainLAN.Load() || isLoopback(r.RemoteAddr) {
			next.ServeHTTP(w, r)
			return
		}
		p := r.URL.Path
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			if p == "/" || strings.HasPrefix(p, "/assets/") || p == "/ca.pem" || p == "/healthz" || p == "/favicon.ico" {
				next.ServeHTTP(w, r)
				return
			}
		}
		httpapi.WriteError(w, http.StatusForbidden, httpapi.CodeHTTPSRequired,
			"this appliance serves the LAN over HTTPS only: use https://"+r.Host+r.URL.Path+" (trust its certificate authority first: http://"+r.Host+"/ca.pem, see docs/OPERATIONS.md)")
	})
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// protoListener tells each accepted connection's protocol by its first byte: 0x16 opens a TLS
// handshake (a TLS record of type handshake), anything else is plain HTTP. The connection is
// read in its own goroutine (bounded by a deadline), so a slow client never holds up Accept.
type protoListener struct {
	net.Listener
	config *tls.Config
	conns  chan net.Conn
	errc   chan error
	done   chan struct{}
	once   sync.Once
}

// sniffTimeout bounds the wait for a connection's first byte.
const sniffTimeout = 10 * time.Second

func newProtoListener(inner net.Listener, config *tls.Config) *protoListener {
	l := &protoListener{Listener: inner, config: config, conns: make(chan net.Conn), errc: make(chan error, 1), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *protoListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			l.errc <- err
			return
		}
		go l.classify(c)
	}
}

func (l *protoListener) classify(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(sniffTimeout))
	br := bufio.NewReaderSize(c, 1024)
	first, err := br.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		_ = c.Close()
		return
	}
	var out net.Conn = &peekedConn{Conn: c, r: br}
	if first[0] == 0x16 {
		out = tls.Server(out, l.config)
	}
	select {
	case l.conns <- out:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *protoListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errc:
		l.errc <- err // every later Accept sees it too
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *protoListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// peekedConn reads first what was peeked to tell the protocol.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// serverCertName is the name this appliance's server certificate is stored under: "server" in
// its own store; on a store shared by a fleet (PostgreSQL), one per appliance, by its name in the
// fleet (appliance:, the host name by default; `voicebot migrate` puts a copied store's there),
// beside the fleet's one CA.
func (a *Appliance) serverCertName() string {
	if sh, ok := a.Store.(interface{ Shared() bool }); ok && sh.Shared() {
		return "server@" + a.Opts.Appliance
	}
	return "server"
}
