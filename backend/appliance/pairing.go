package appliance

// Pairing a screen from the dashboard's Keys page: the page shows a QR code of
// https://<LAN address>:<port>/#pair=<code>&ca=<CA fingerprint>; the screen that opens it trades
// the code for a chat+voice key of its own (POST /v1/pair) and keeps the key in its browser.
//
// Why a code and not the key in the QR code: the QR code is shown on the operator's screen,
// where a passer-by or a screenshot can take it; a code is worth nothing once used (the first
// screen to use it gets the key and the code is spent) or after 10 minutes, where a key would
// stay valid until revoked. The key is made only when a screen claims it, so an unused QR
// code leaves no live key behind, and the key never appears in an image, a URL or the
// browser's history. The fingerprint lets whoever installs the CA on the tablet check that it
// is this appliance's.

import (
	"context"
	"net"
	"strings"
	"time"

	"voicebot/backend/httpapi"
	"voicebot/backend/keys"
	"voicebot/backend/store"
)

// Pair trades a pairing code for a new chat+voice key named after the screen (httpapi.Pairing).
func (a *Appliance) Pair(ctx context.Context, code, remote string) (string, *keys.Key, error) {
	screen, ok, err := a.Store.UsePairing(ctx, code)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		a.audit(store.AuditEntry{Actor: "anonymous", Action: "screen.pairing_refused", Remote: remote})
		return "", nil, httpapi.ErrInvalidPairing
	}
	plain, k, err := a.Keys.Create(ctx, keys.Spec{Name: "screen: " + screen, Scopes: []string{keys.ScopeChat, keys.ScopeVoice}}, "pairing", remote)
	if err != nil {
		return "", nil, err
	}
	if err := a.Store.SetPairingKey(ctx, code, k.ID); err != nil {
		return "", nil, err
	}
	a.audit(store.AuditEntry{Actor: "pairing", Action: "screen.paired", Target: k.ID, Remote: remote, Detail: screen})
	return plain, k, nil
}

// PairingLink is the address a screen opens to pair with a code: the appliance's https
// address on the LAN (ShareAddress's host; loopback when the LAN is off), the code and the CA's fingerprint in the fragment (which
// the browser never sends).
func (a *Appliance) PairingLink(code string) string {
	// Always https, on loopback too (the port serves both): a screen's microphone needs it.
	base := "https://" + strings.TrimPrefix(strings.TrimPrefix(a.ShareAddress(), "http://"), "https://")
	// The code is base32 and the fingerprint hex with colons, both valid in a fragment as they
	// are: unescaped, the QR code stays small enough to scan from a tablet's camera.
	return base + "#pair=" + code + "&ca=" + a.CAFingerprint()
}

// CreatePairing makes a pairing code for a screen (the dashboard's "Pair a screen").
func (a *Appliance) CreatePairing(ctx context.Context, screen, actor, remote string) (string, time.Time, error) {
	return a.Store.CreatePairing(ctx, screen, actor, remote)
}

// PairedScreens lists the screens paired so far.
func (a *Appliance) PairedScreens(ctx context.Context) ([]store.PairedScreen, error) {
	return a.Store.PairedScreens(ctx)
}

// listenHost is the listener's own address when it is one address (not every interface).
func (a *Appliance) listenHost() net.IP {
	host, _, _ := net.SplitHostPort(a.Addr())
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return nil
	}
	return ip
}
