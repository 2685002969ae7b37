//go:build cgo && linux

package appliance

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"voicebot/backend/certs"
	"voicebot/backend/internal/testneeds"
	"voicebot/backend/store"
	"voicebot/backend/voice"
)

// TestVisitorOverLANHTTPSInChromium is issue 20's must-show: Chromium on another machine of the
// test's own network (the client's namespace) reaches the appliance at 198.18.N.1 over HTTPS,
// with the appliance's CA trusted in its certificate store (NSS, as on a Linux desktop, added
// with certutil from /ca.pem); the operator signs in to the dashboard there, sees the CA's
// fingerprint and makes a pairing QR code on the Keys page; the screen opens the visitor screen
// from that pairing link, and holds a voice
// turn with Chromium's fake microphone (a spoken question made with espeak-ng). The same page
// over plain HTTP at that address says why the microphone is unavailable and how to fix it.
func TestVisitorOverLANHTTPSInChromium(t *testing.T) {
	needSpeechTools(t)
	exe := chromium(t)
	testneeds.Tools(t, "Debian package libnss3-tools", "certutil")
	n := newTestNet(t)
	data, conf := t.TempDir(), t.TempDir()
	db, err := OpenStore(context.Background(), Options{DataDir: data, ConfigDir: conf})
	if err != nil {
		t.Fatal(err)
	}
	signIn, err := store.CreateLink(context.Background(), db, "https://"+net.JoinHostPort(n.appIP, "8750"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	addr := lanAppliance(t, n, data, conf, "")

	// The CA, fetched as a person would from the LAN, trusted in the browser's store.
	plain := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: nsDialer(t, n.clientNS)}}
	res, err := plain.Get("http://" + addr + "/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := io.ReadAll(res.Body)
	res.Body.Close()
	home := t.TempDir()
	caFile := filepath.Join(home, "voicebot-ca.pem")
	os.WriteFile(caFile, caPEM, 0o644)
	nssdb := "sql:" + filepath.Join(home, ".pki", "nssdb")
	os.MkdirAll(filepath.Join(home, ".pki", "nssdb"), 0o700)
	for _, args := range [][]string{{"-N", "-d", nssdb, "--empty-password"}, {"-A", "-d", nssdb, "-t", "C,,", "-n", "voicebot appliance", "-i", caFile}} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v %s", args, err, out)
		}
	}
	// Chromium runs in the client's namespace: a wrapper enters it (the DevTools pipe's file
	// descriptors pass through ip netns exec).
	wrapper := filepath.Join(t.TempDir(), "chromium-in-netns")
	script := fmt.Sprintf("#!/bin/sh\nHOME=%q exec ip netns exec %s %q \"$@\"\n", home, n.clientNS, exe)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	q := spokenPCM(t, "What are the opening hours?")
	samples := append(append(make([]int16, voice.SampleRate), q...), make([]int16, 3*voice.SampleRate)...)
	b := micTab(t, wrapper, "visitor-lan-https", samples)
	defer b.close()
	fp := fingerprintOfPEM(t, caPEM)
	// The operator, on the dashboard over HTTPS: Keys, "Pair a screen".
	b.do("sign in to the dashboard over https", chromedp.Navigate(signIn), chromedp.WaitVisible(chromedp.CSS("h1")))
	b.do("keys page", chromedp.Navigate("https://"+addr+"/dashboard/keys"), chromedp.WaitVisible(chromedp.ID("ca-fingerprint")))
	if got := b.text("#ca-fingerprint"); got != fp {
		t.Fatalf("the Keys page shows the CA fingerprint %q, /ca.pem's is %q", got, fp)
	}
	b.do("pair a screen", chromedp.SendKeys(chromedp.ID("screen"), "hall tablet"),
		chromedp.Click(chromedp.Search(`//button[.="Pair a screen"]`)), chromedp.WaitVisible(chromedp.ID("pairing-link")),
		chromedp.WaitVisible(chromedp.Search(`//img[@alt="QR code of the pairing link"]`)))
	b.shot("00-dashboard-pairing-qr")
	link := b.text("#pairing-link")
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "https" || u.Host != addr {
		t.Fatalf("pairing link %q", link)
	}
	if frag, _ := url.ParseQuery(u.Fragment); frag.Get("ca") != fp || len(frag.Get("pair")) != 26 {
		t.Fatalf("pairing link %q", link)
	}
	b.do("open the pairing link over https", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("mic")))
	if secure, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.isSecureContext && location.protocol === "https:" && !!localStorage.getItem("voicebot.key") && location.hash === ""`)); err != nil || !secure {
		t.Fatalf("not a secure, paired page with the code gone from the address (%v)", err)
	}
	b.shot("01-paired-over-https")
	b.do("talk", chromedp.Click(chromedp.ID("mic")),
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"visitor") and not(contains(@class,"pending")) and contains(., "what are the opening hours")]`)),
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"bot") and contains(., "Tuesday")]`)))
	b.shot("02-voice-turn")

	b.do("the same page over plain http", chromedp.Navigate("http://"+addr+"/"), chromedp.WaitVisible(chromedp.ID("insecure")))
	notice := b.text("#insecure")
	for _, want := range []string{"microphone is not available", "secure connection (HTTPS)", "install the appliance's certificate authority"} {
		if !strings.Contains(notice, want) {
			t.Errorf("the plain-HTTP notice %q does not say %q", notice, want)
		}
	}
	href, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("https-link").href`))
	if err != nil || href != "https://"+addr+"/" {
		t.Errorf("the notice links %q, want https://%s/", href, addr)
	}
	if hidden, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.getElementById("mic").hidden || document.getElementById("chat").hidden`)); !hidden {
		t.Error("the microphone is offered on the plain-HTTP page")
	}
	b.shot("03-plain-http-explains")
}

func fingerprintOfPEM(t *testing.T, b []byte) string {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("/ca.pem: %q", b)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return certs.Fingerprint(c)
}
