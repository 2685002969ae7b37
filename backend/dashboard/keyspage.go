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
	list, err := d.Keys.List(r.Context())
	if err != nil {
		http.Error(w, "could not list the keys", http.StatusInternalServerError)
		return
	}
	d.render(w, r, status, keysPage(d.page("Keys", "Keys", s), list, created, message))
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
