package appliance

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"voicebot/backend/httpapi"
	"voicebot/backend/store"
)

var pairingLinkRe = regexp.MustCompile(`id="pairing-link" class="key">([^<]+)<`)

// pairOver posts a pairing code to /v1/pair with client c at base.
func pairOver(t *testing.T, c *http.Client, base, code string) resp {
	t.Helper()
	res, err := c.Post(base+"/v1/pair", "application/json", strings.NewReader(`{"code":"`+code+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

// TestPairAScreen: "Pair a screen" on the Keys page shows a QR code of an https link with a
// one-time code and the CA's fingerprint; the screen trades the code over HTTPS (trusting the
// CA from /ca.pem) for a chat+voice key that talks; the code works once, and not after 10
// minutes; the screen is listed with its last contact and unpaired with its key revoked.
func TestPairAScreen(t *testing.T) {
	a := start(t, Options{})
	_, get, post := browserSession(t, a)
	_, page := get("/dashboard/keys")
	if !strings.Contains(page, a.CAFingerprint()) || !strings.Contains(page, `href="/ca.pem"`) {
		t.Fatal("the Keys page shows neither the CA's fingerprint nor its download")
	}
	csrf := csrfRe.FindStringSubmatch(page)[1]
	code, body := post("/dashboard/keys/pair", url.Values{"csrf": {csrf}, "screen": {"lobby tablet"}})
	m := pairingLinkRe.FindStringSubmatch(body)
	if code != 201 || m == nil || !strings.Contains(body, `alt="QR code of the pairing link"`) || !strings.Contains(body, "data:image/png;base64,") {
		t.Fatalf("pair a screen: %d %s", code, body)
	}
	link, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil || link.Scheme != "https" {
		t.Fatalf("pairing link %q: %v", m[1], err)
	}
	frag, _ := url.ParseQuery(link.Fragment)
	pcode, fp := frag.Get("pair"), frag.Get("ca")
	if len(pcode) != 26 || fp != a.CAFingerprint() {
		t.Fatalf("link %s: code %q, fingerprint %q", link, pcode, fp)
	}
	if strings.Contains(body, "vb_") {
		t.Fatal("the pairing page shows a key")
	}

	pool, _ := caPool(t, a)
	c := httpsClient(pool)
	base := "https://" + a.Addr()
	r := pairOver(t, c, base, pcode)
	if r.status != 201 {
		t.Fatalf("pair: %d %s", r.status, r.body)
	}
	var got httpapi.PairReply
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.Key, "vb_") || got.Name != "screen: lobby tablet" || strings.Join(got.Scopes, ",") != "chat,voice" {
		t.Fatalf("paired key %+v", got)
	}
	if r := post2(t, c, base+"/v1/chat", got.Key, `{"text":"What are the opening hours?"}`); r.status != 200 {
		t.Fatalf("the screen's key over https: %d %s", r.status, r.body)
	}
	if r := do(t, a, "GET", "/v1/voice/engines", got.Key, ""); r.status != 200 {
		t.Fatalf("the screen's key lacks voice: %d", r.status)
	}
	if r := do(t, a, "GET", "/v1/sessions", got.Key, ""); r.status != 403 {
		t.Fatalf("the screen's key reads history: %d", r.status)
	}
	if r := pairOver(t, c, base, pcode); r.status != 400 || r.code() != httpapi.CodeInvalidPairing {
		t.Fatalf("the code a second time: %d %s", r.status, r.body)
	}

	// A code past its 10 minutes is refused.
	_, page = get("/dashboard/keys")
	_, body = post("/dashboard/keys/pair", url.Values{"csrf": {csrf}, "screen": {"hall"}})
	late, _ := url.Parse(html.UnescapeString(pairingLinkRe.FindStringSubmatch(body)[1]))
	lateFrag, _ := url.ParseQuery(late.Fragment)
	if err := a.DB.Write(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec(`UPDATE pairings SET expires_ms = ? WHERE screen = 'hall'`, time.Now().Add(-time.Second).UnixMilli())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if r := pairOver(t, c, base, lateFrag.Get("pair")); r.status != 400 || r.code() != httpapi.CodeInvalidPairing {
		t.Fatalf("an expired code: %d %s", r.status, r.body)
	}

	// The Keys page lists the screen with its last contact; Unpair revokes its key.
	if err := a.Keys.FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, page = get("/dashboard/keys")
	i := strings.Index(page, `id="paired"`)
	if i < 0 || !strings.Contains(page[i:], "lobby tablet") || !strings.Contains(page[i:], got.KeyID) || strings.Contains(page[i:strings.Index(page[i:], "</table>")+i], "never") {
		t.Fatalf("paired screens: %s", page[max(i, 0):])
	}
	if code, _ := post("/dashboard/keys/"+got.KeyID+"/revoke", url.Values{"csrf": {csrf}}); code != 200 {
		t.Fatalf("unpair: %d", code)
	}
	if r := post2(t, c, base+"/v1/chat", got.Key, `{"text":"hello"}`); r.status != 401 || r.code() != httpapi.CodeRevokedKey {
		t.Fatalf("an unpaired screen: %d %s", r.status, r.body)
	}
	if _, page = get("/dashboard/keys"); !strings.Contains(page, "revoked") {
		t.Fatal("the unpaired screen is not shown revoked")
	}
}

func post2(t *testing.T, c *http.Client, u, key, body string) resp {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}
