package dashboard

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"voicebot/backend/config"
)

// SettingsService is what the Settings page needs of the appliance (the consumer declares it).
type SettingsService interface {
	LiveSettings() config.Settings
	// ChangeSettingsIf applies s if check, run under the lock that serialises changes, accepts the
	// settings in force (a form read before another operator saved must not overwrite them).
	ChangeSettingsIf(check func(current config.Settings) error, s config.Settings, actor, remote string) error
	RestartPending() []string
}

// errSettingsChanged: the page was opened on settings that someone changed since.
var errSettingsChanged = errors.New("the settings were changed by someone else since this page was opened: they are shown as they are now; make your change again")

// settingsVersion names the settings a form was opened on.
func settingsVersion(s config.Settings) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%q|%d|%q|%q|%v|%v|%v|%v", s.RateLimit, s.Retention, s.CORSOrigins, s.LogLevel, s.IntentThreshold, s.KnowledgeMatch, s.NoDiscovery, s.LANPlainHTTP))
	return hex.EncodeToString(h[:8])
}

// SettingsView is what the Settings page shows.
type SettingsView struct {
	Live       config.Settings
	Retention  string
	CORS       string
	Thresholds []Count // the content's intent threshold per language, in thousandths
	Intent     string  // the operator's override, "" for none
	Knowledge  string
	Saved      bool
	Restart    []string
	Version    string // of the settings shown, sent back with the form
}

func (d *Dashboard) settingsView(r *http.Request) SettingsView {
	v := SettingsView{Live: d.Settings.LiveSettings(), Restart: d.Settings.RestartPending(), Saved: r.URL.Query().Get("saved") == "1"}
	v.Version = settingsVersion(v.Live)
	if v.Live.Retention > 0 {
		v.Retention = v.Live.Retention.String()
	}
	v.CORS = strings.Join(v.Live.CORSOrigins, ", ")
	if v.Live.IntentThreshold > 0 {
		v.Intent = strconv.FormatFloat(v.Live.IntentThreshold, 'f', -1, 64)
	}
	if v.Live.KnowledgeMatch > 0 {
		v.Knowledge = strconv.FormatFloat(v.Live.KnowledgeMatch, 'f', -1, 64)
	}
	if snap := d.Engine.Snapshot(); snap != nil {
		for _, l := range snap.Languages() {
			v.Thresholds = append(v.Thresholds, Count{Label: l, N: int(snap.IntentThreshold(l) * 1000)})
		}
	}
	return v
}

func (d *Dashboard) settings(w http.ResponseWriter, r *http.Request, s *signIn) {
	if d.Settings == nil {
		http.NotFound(w, r)
		return
	}
	d.render(w, r, http.StatusOK, settingsPage(d.page("Settings", "Settings", s), d.settingsView(r), ""))
}

func (d *Dashboard) saveSettings(w http.ResponseWriter, r *http.Request, s *signIn) {
	if d.Settings == nil {
		http.NotFound(w, r)
		return
	}
	live := config.Settings{RateLimit: strings.TrimSpace(r.PostFormValue("rate_limit")), LogLevel: r.PostFormValue("log_level")}
	if r.PostFormValue("lan_fields") != "" { // the page's LAN checkboxes: an unchecked box sends nothing
		live.NoDiscovery, live.LANPlainHTTP = r.PostFormValue("discovery") == "", r.PostFormValue("lan_plain_http") != ""
	} else { // a form without them (an older page, a script) leaves them as they are
		cur := d.Settings.LiveSettings()
		live.NoDiscovery, live.LANPlainHTTP = cur.NoDiscovery, cur.LANPlainHTTP
	}
	status := http.StatusBadRequest
	fail := func(msg string) {
		v := d.settingsView(r)
		d.render(w, r, status, settingsPage(d.page("Settings", "Settings", s), v, msg))
	}
	if ret := strings.TrimSpace(r.PostFormValue("retention")); ret != "" {
		dur, err := time.ParseDuration(ret)
		if err != nil || dur < 0 {
			fail("Retention must be a duration such as 720h, or empty to keep conversations.")
			return
		}
		live.Retention = dur
	}
	for _, o := range strings.Split(r.PostFormValue("cors_origins"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			live.CORSOrigins = append(live.CORSOrigins, o)
		}
	}
	for _, x := range []struct {
		name string
		dst  *float64
	}{{"intent_threshold", &live.IntentThreshold}, {"knowledge_match", &live.KnowledgeMatch}} {
		if v := strings.TrimSpace(r.PostFormValue(x.name)); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				fail("Thresholds are numbers from 0 to 1, or empty for the content's own.")
				return
			}
			*x.dst = f
		}
	}
	opened := r.PostFormValue("version") // the page's form always sends it; a script may not
	check := func(cur config.Settings) error {
		if opened != "" && opened != settingsVersion(cur) {
			return errSettingsChanged
		}
		return nil
	}
	if err := d.Settings.ChangeSettingsIf(check, live, s.keyID, remote(r)); err != nil {
		if errors.Is(err, errSettingsChanged) {
			status = http.StatusConflict
		}
		fail("Not saved: " + err.Error())
		return
	}
	http.Redirect(w, r, "/dashboard/settings?saved=1", http.StatusSeeOther)
}
