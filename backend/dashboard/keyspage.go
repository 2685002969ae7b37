package dashboard

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"voicebot/backend/keys"
)

func (d *Dashboard) keysList(w http.ResponseWriter, r *http.Request, s *signIn, created *NewKey, message string, status int) {
	d.keysListPairing(w, r, s, created, nil, message, status)
}

func (d *Dashboard) keysListPairing(w http.ResponseWriter, r *http.Request, s *signIn, created *NewKey, pairing *PairingView, message string, status int) {
	list, err := d.Keys.List(r.Context())
	if err != nil {
		http.Error(w, "could not list the keys", http.StatusInternalServerError)
		return
	}
	sv, err := d.screensView(r, list)
	if err != nil {
		http.Error(w, "could not list the paired screens", http.StatusInternalServerError)
		return
	}
	sv.Pairing = pairing
	d.render(w, r, status, keysPage(d.page("Keys", "Keys", s), list, created, message, sv))
}

// ScreensView is the Keys page's part on screens: the appliance's HTTPS (its CA's fingerprint
// and download, the certificate presented), the screens paired and a pairing just made.
type ScreensView struct {
	Enabled       bool
	CAFingerprint string
	ServerExpires string
	ServerNames   string
	Operator      bool
	LAN           bool
	Paired        []PairedRow
	Pairing       *PairingView
}

// PairedRow is a paired screen with its key's state.
type PairedRow struct {
	Screen, KeyID, Paired, LastContact, State string
	Active                                    bool
}

// PairingView is a pairing code just made: its link as a QR code, until when it can be used.
type PairingView struct {
	Screen, Link, QRData, Expires string
}

func (d *Dashboard) screensView(r *http.Request, list []*keys.Key) (ScreensView, error) {
	if d.Screens == nil {
		return ScreensView{}, nil
	}
	sv := ScreensView{Enabled: true, CAFingerprint: d.Screens.CAFingerprint(), Operator: d.Screens.OperatorCertificate(), LAN: d.Screens.LAN()}
	if c := d.Screens.ServerCertificate(); c != nil {
		sv.ServerExpires = c.NotAfter.UTC().Format("2006-01-02")
		names := append([]string(nil), c.DNSNames...)
		for _, ip := range c.IPAddresses {
			names = append(names, ip.String())
		}
		sv.ServerNames = strings.Join(names, ", ")
	}
	paired, err := d.Screens.PairedScreens(r.Context())
	if err != nil {
		return sv, err
	}
	byID := map[string]*keys.Key{}
	for _, k := range list {
		byID[k.ID] = k
	}
	for _, p := range paired {
		row := PairedRow{Screen: p.Screen, KeyID: p.KeyID, Paired: p.Paired.Format("2006-01-02 15:04"), LastContact: "never", State: "unknown key"}
		if k := byID[p.KeyID]; k != nil {
			row.LastContact, row.State, row.Active = lastUsed(k), keyState(k), k.Revoked == nil
		}
		sv.Paired = append(sv.Paired, row)
	}
	return sv, nil
}

// keysPair makes a one-time pairing code for a screen and shows its link as a QR code.
func (d *Dashboard) keysPair(w http.ResponseWriter, r *http.Request, s *signIn) {
	if d.Screens == nil {
		d.keysList(w, r, s, nil, "Pairing is not offered here.", http.StatusNotFound)
		return
	}
	screen := strings.TrimSpace(r.PostFormValue("screen"))
	if screen == "" || len(screen) > 80 {
		d.keysList(w, r, s, nil, "Name the screen (1 to 80 characters), e.g. lobby tablet.", http.StatusBadRequest)
		return
	}
	code, expires, err := d.Screens.CreatePairing(r.Context(), screen, s.keyID, remote(r))
	if err != nil {
		d.keysList(w, r, s, nil, "The pairing code was not made: "+err.Error(), http.StatusInternalServerError)
		return
	}
	link := d.Screens.PairingLink(code)
	pv := &PairingView{Screen: screen, Link: link, Expires: expires.Format("15:04:05")}
	if png, err := qrcode.Encode(link, qrcode.Medium, 320); err == nil {
		pv.QRData = "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	}
	w.Header().Set("Cache-Control", "no-store")
	d.keysListPairing(w, r, s, nil, pv, "", http.StatusCreated)
}

func (d *Dashboard) keysGet(w http.ResponseWriter, r *http.Request, s *signIn) {
	d.keysList(w, r, s, nil, "", http.StatusOK)
}

// newKeyView shows a new key once, with a QR code of it.
func newKeyView(plain, name string) *NewKey {
	png, err := qrcode.Encode(plain, qrcode.Medium, 256)
	nk := &NewKey{Plain: plain, Name: name}
	if err == nil {
		nk.QRData = "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	}
	return nk
}

func (d *Dashboard) keysCreate(w http.ResponseWriter, r *http.Request, s *signIn) {
	spec := keys.Spec{Name: r.PostFormValue("name"), Scopes: r.PostForm["scopes"], Rate: strings.TrimSpace(r.PostFormValue("rate"))}
	for _, o := range strings.Split(r.PostFormValue("origins"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			spec.Origins = append(spec.Origins, o)
		}
	}
	if e := strings.TrimSpace(r.PostFormValue("expires")); e != "" {
		dur, err := time.ParseDuration(e)
		if err != nil || dur <= 0 {
			d.keysList(w, r, s, nil, "Expires must be a duration such as 720h.", http.StatusBadRequest)
			return
		}
		spec.Expires = dur
	}
	plain, k, err := d.Keys.Create(r.Context(), spec, s.keyID, remote(r))
	if err != nil {
		d.keysList(w, r, s, nil, "The key was not created: "+err.Error(), http.StatusBadRequest)
		return
	}
	d.keysList(w, r, s, newKeyView(plain, k.Name), "", http.StatusCreated)
}

func (d *Dashboard) keysRevoke(w http.ResponseWriter, r *http.Request, s *signIn) {
	err := d.Keys.Revoke(r.Context(), r.PathValue("id"), s.keyID, remote(r))
	switch {
	case errors.Is(err, keys.ErrNoKey):
		d.keysList(w, r, s, nil, "No such key.", http.StatusNotFound)
	case err != nil && !errors.Is(err, keys.ErrRevoked):
		d.keysList(w, r, s, nil, "The key was not revoked: "+err.Error(), http.StatusInternalServerError)
	default:
		http.Redirect(w, r, "/dashboard/keys", http.StatusSeeOther)
	}
}

func (d *Dashboard) keysRotate(w http.ResponseWriter, r *http.Request, s *signIn) {
	plain, k, err := d.Keys.Rotate(r.Context(), r.PathValue("id"), s.keyID, remote(r))
	if err != nil {
		d.keysList(w, r, s, nil, "The key was not rotated: "+err.Error(), http.StatusConflict)
		return
	}
	d.keysList(w, r, s, newKeyView(plain, k.Name), "", http.StatusCreated)
}

func keyState(k *keys.Key) string {
	switch {
	case k.Revoked != nil:
		return "revoked " + k.Revoked.Format("2006-01-02")
	case k.Expires != nil && time.Now().After(*k.Expires):
		return "expired"
	case k.Expires != nil:
		return "active until " + k.Expires.Format("2006-01-02")
	}
	return "active"
}

func lastUsed(k *keys.Key) string {
	if k.LastUsed == nil {
		return "never"
	}
	return k.LastUsed.Format("2006-01-02 15:04")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
