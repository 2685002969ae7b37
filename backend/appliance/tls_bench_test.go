package appliance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"voicebot/backend/keys"
)

// BenchmarkFirstTurnHTTPSvsHTTP: what HTTPS costs a screen that connects and asks: each
// iteration opens a new connection (no keep-alive) and holds one chat turn over it, once over
// plain HTTP and once over HTTPS (TLS 1.3 handshake with the appliance's ECDSA P-256
// certificate, verified against its CA), interleaved so that both see the same load on the
// shared machine. It reports the median of each and their ratio; the turn is durable (the store
// commits it with synchronous=FULL before the answer).
func BenchmarkFirstTurnHTTPSvsHTTP(b *testing.B) {
	a, err := Start(context.Background(), Options{DataDir: b.TempDir(), ConfigDir: b.TempDir(), Listen: "127.0.0.1:0", NoDiscovery: true})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close(context.Background())
	key, _, err := a.Keys.Create(context.Background(), keys.Spec{Name: "bench", Scopes: []string{"chat"}, Rate: "1000000/s"}, "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(a.tls.ca.Cert)
	turn := func(scheme string) time.Duration {
		tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: pool}}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		req, _ := http.NewRequest("POST", scheme+"://"+a.Addr()+"/v1/chat", strings.NewReader(`{"text":"what are the opening hours"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		took := time.Since(t0)
		if res.StatusCode != 200 || (scheme == "https") != (res.TLS != nil) {
			b.Fatalf("%s turn: %d", scheme, res.StatusCode)
		}
		return took
	}
	turn("http")
	turn("https")
	var plain, secure []time.Duration
	b.ResetTimer()
	for range b.N {
		plain = append(plain, turn("http"))
		secure = append(secure, turn("https"))
	}
	b.StopTimer()
	med := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	p, s := med(plain), med(secure)
	b.ReportMetric(p, "http_p50_ms")
	b.ReportMetric(s, "https_p50_ms")
	b.ReportMetric(s/p, "https/http")
}
