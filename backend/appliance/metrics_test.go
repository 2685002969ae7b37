package appliance

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"voicebot/backend/internal/testneeds"
	"voicebot/backend/keys"
	"voicebot/backend/telemetry"
)

// metricFamilies is every family the appliance exports besides the Go runtime's (go_*) and the
// process's (process_*): its type and its labels. TestMetricsFamilies fails on a family missing
// here, so that a new one is named, typed and documented (docs/OPERATIONS.md) on purpose.
var metricFamilies = map[string]struct {
	typ    dto.MetricType
	labels []string
}{
	"http_server_request_duration_seconds":              {dto.MetricType_HISTOGRAM, []string{"http_request_method", "http_response_status_code", "http_route"}},
	"voicebot_turns_total":                              {dto.MetricType_COUNTER, []string{"kind", "lang"}},
	"voicebot_turn_duration_seconds":                    {dto.MetricType_HISTOGRAM, nil},
	"voicebot_turn_confidence_ratio":                    {dto.MetricType_HISTOGRAM, []string{"kind"}},
	"voicebot_rate_limited_total":                       {dto.MetricType_COUNTER, []string{"route"}},
	"voicebot_auth_failures_total":                      {dto.MetricType_COUNTER, []string{"code"}},
	"voicebot_content_version":                          {dto.MetricType_GAUGE, nil},
	"voicebot_content_errors":                           {dto.MetricType_GAUGE, nil},
	"voicebot_content_reload_duration_seconds":          {dto.MetricType_HISTOGRAM, []string{"result"}},
	"voicebot_cache_hits_total":                         {dto.MetricType_COUNTER, nil},
	"voicebot_speech_duration_seconds":                  {dto.MetricType_HISTOGRAM, []string{"kind"}},
	"voicebot_speech_real_time_factor_ratio":            {dto.MetricType_HISTOGRAM, []string{"kind"}},
	"voicebot_voice_audio_received_seconds_total":       {dto.MetricType_COUNTER, nil},
	"voicebot_ready":                                    {dto.MetricType_GAUGE, nil},
	"voicebot_build_info":                               {dto.MetricType_GAUGE, []string{"goversion", "revision", "version"}},
	"voicebot_store_commit_duration_seconds":            {dto.MetricType_HISTOGRAM, []string{"result"}},
	"voicebot_store_commit_writes":                      {dto.MetricType_HISTOGRAM, nil},
	"voicebot_store_database_bytes":                     {dto.MetricType_GAUGE, nil},
	"voicebot_store_wal_bytes":                          {dto.MetricType_GAUGE, nil},
	"voicebot_store_wal_limit_bytes":                    {dto.MetricType_GAUGE, nil},
	"voicebot_store_wal_max_bytes":                      {dto.MetricType_GAUGE, nil},
	"voicebot_store_free_bytes":                         {dto.MetricType_GAUGE, nil},
	"voicebot_store_checkpoints_total":                  {dto.MetricType_COUNTER, []string{"mode"}},
	"voicebot_store_checkpoint_busy_total":              {dto.MetricType_COUNTER, nil},
	"voicebot_store_reclaimed_bytes_total":              {dto.MetricType_COUNTER, nil},
	"voicebot_data_volume_free_bytes":                   {dto.MetricType_GAUGE, nil},
	"voicebot_data_volume_size_bytes":                   {dto.MetricType_GAUGE, nil},
	"voicebot_tls_certificate_expiry_timestamp_seconds": {dto.MetricType_GAUGE, []string{"cert"}},
	"voicebot_api_key_expiry_timestamp_seconds":         {dto.MetricType_GAUGE, []string{"key_id", "name"}},
}

// TestMetricsFamilies scrapes /metrics after real traffic (turns answered and not, a voice turn,
// a refused key, a rate limit, an unknown path) and checks every family's type and labels, that
// none is missing or unlisted, that routes are labelled by their pattern (never a path with ids,
// which would grow the series without bound), and that `promtool check metrics` (Debian's
// prometheus package) finds nothing to say.
func TestMetricsFamilies(t *testing.T) {
	a := startVoice(t, Options{})
	admin := newKey(t, a, keys.Spec{Scopes: []string{"admin"}})
	slow := newKey(t, a, keys.Spec{Scopes: []string{"chat"}, Rate: "1/m"})
	_, lobby, err := a.Keys.Create(context.Background(), keys.Spec{Name: "lobby tablet", Scopes: []string{"chat"}, Expires: 72 * time.Hour}, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	_, gone, _ := a.Keys.Create(context.Background(), keys.Spec{Name: "revoked", Scopes: []string{"chat"}, Expires: time.Hour}, "test", "")
	if err := a.Keys.Revoke(context.Background(), gone.ID, "test", ""); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"What are the opening hours?", "What are the opening hours?", "when was the lighthouse lens made", "when was the lighthouse lens made", "zxqv blorf"} {
		if r := post(t, a, "/v1/chat", admin, `{"text":"`+q+`"}`); r.status != 200 {
			t.Fatalf("chat %q: %d %s", q, r.status, r.body)
		}
	}
	sp := post(t, a, "/v1/audio/speech", admin, `{"input":"What are the opening hours?"}`)
	if sp.status != 200 {
		t.Fatalf("speech: %d %s", sp.status, sp.body)
	}
	if r := do(t, a, "POST", "/v1/voice", admin, string(sp.body), "Content-Type", "audio/wav"); r.status != 200 {
		t.Fatalf("voice: %d %s", r.status, r.body)
	}
	if r := do(t, a, "GET", "/v1/sessions/s_nonexistent/messages", admin, ""); r.status != 404 {
		t.Fatalf("messages of no session: %d", r.status)
	}
	if r := do(t, a, "GET", "/v1/bot", "vb_notakey", ""); r.status != 401 {
		t.Fatalf("a bad key: %d", r.status)
	}
	post(t, a, "/v1/chat", slow, `{"text":"hello"}`)
	if r := post(t, a, "/v1/chat", slow, `{"text":"hello"}`); r.status != 429 {
		t.Fatalf("the second turn of a 1/m key: %d", r.status)
	}
	if r := do(t, a, "GET", "/no/such/path/123", admin, ""); r.status != 404 {
		t.Fatalf("unknown path: %d", r.status)
	}

	r := do(t, a, "GET", "/metrics", admin, "")
	if r.status != 200 {
		t.Fatalf("/metrics: %d", r.status)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("/metrics is not the text format: %v", err)
	}
	for name, want := range metricFamilies {
		f, ok := fams[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if f.GetType() != want.typ {
			t.Errorf("%s is a %s, want %s", name, f.GetType(), want.typ)
		}
		for _, m := range f.GetMetric() {
			var got []string
			for _, l := range m.GetLabel() {
				got = append(got, l.GetName())
			}
			sort.Strings(got)
			if !slices.Equal(got, want.labels) {
				t.Errorf("%s has labels %v, want %v", name, got, want.labels)
				break
			}
		}
	}
	// the key with an end date, and not the revoked one nor the keys without
	if ms := fams["voicebot_api_key_expiry_timestamp_seconds"].GetMetric(); len(ms) != 1 ||
		ms[0].GetLabel()[0].GetValue() != lobby.ID || ms[0].GetLabel()[1].GetValue() != "lobby tablet" || int64(ms[0].GetGauge().GetValue()) != lobby.Expires.Unix() {
		t.Errorf("key expiry series: %v, want one for %s at %d", ms, lobby.ID, lobby.Expires.Unix())
	}
	for name := range fams {
		if _, ok := metricFamilies[name]; !ok && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("%s is exported but not listed in metricFamilies (nor in docs/OPERATIONS.md?)", name)
		}
	}
	// routes by pattern; the catch-all as "other"
	routes := map[string]bool{}
	for _, m := range fams["http_server_request_duration_seconds"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "http_route" {
				routes[l.GetValue()] = true
			}
		}
	}
	for _, want := range []string{"/v1/chat", "/v1/voice", "/v1/sessions/{id}/messages", "other"} {
		if !routes[want] {
			t.Errorf("no request recorded under http_route %q (have %v)", want, routes)
		}
	}
	for rt := range routes {
		if strings.Contains(rt, "s_nonexistent") || strings.Contains(rt, "123") {
			t.Errorf("http_route %q carries a value of the path", rt)
		}
	}
	// the turns seen by kind, a reload, the voice turn's real-time factor
	counted := map[string]float64{}
	for _, m := range fams["voicebot_turns_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "kind" {
				counted[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
	if counted["intent"] < 2 || counted["fallback"] < 1 {
		t.Errorf("voicebot_turns_total by kind: %v, want 2+ intent and a fallback", counted)
	}
	if n := fams["voicebot_cache_hits_total"].GetMetric()[0].GetCounter().GetValue(); n < 1 {
		t.Errorf("the repeated knowledge question was not counted as a cache hit (%v)", n)
	}
	if reloads := fams["voicebot_content_reload_duration_seconds"].GetMetric(); len(reloads) == 0 || reloads[0].GetHistogram().GetSampleCount() < 1 {
		t.Error("the content's first load is not recorded in voicebot_content_reload_duration_seconds")
	}
	if rtf := fams["voicebot_speech_real_time_factor_ratio"].GetMetric(); len(rtf) < 2 {
		t.Errorf("voicebot_speech_real_time_factor_ratio has %d kinds, want stt and tts", len(rtf))
	}

	checkObservabilityQueries(t, fams)

	testneeds.Tools(t, "apt-get install prometheus (it ships promtool)", "promtool")
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = bytes.NewReader(r.body)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// observability is where the Grafana dashboard and the alert rules the appliance ships live.
const observability = "../../build/observability"

// checkObservabilityQueries parses every PromQL expression of the shipped Grafana dashboard and
// alert rules with Prometheus' own parser and checks that each metric it reads is one the
// appliance exports (fams, a scrape after real traffic), so that a renamed metric cannot leave a
// panel empty or an alert silent.
func checkObservabilityQueries(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	var exprs []string
	b, err := os.ReadFile(filepath.Join(observability, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if e, ok := x.(string); ok && k == "expr" {
					exprs = append(exprs, e)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(dash)
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert, Expr string
			}
		}
	}
	b, err = os.ReadFile(filepath.Join(observability, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	if len(exprs) < 20 {
		t.Fatalf("found %d expressions in the dashboard and the rules", len(exprs))
	}
	// A kiosk forwarding to a fleet database (fleet:) also exports its outbox shipper's
	// families, which this appliance (no fleet:) does not: they are taken from the collector a
	// kiosk registers.
	kiosk := telemetry.New()
	kiosk.WatchFleet(func() telemetry.FleetStatus { return telemetry.FleetStatus{} })
	kioskFams, err := kiosk.Registry.Gather()
	if err != nil || len(kioskFams) == 0 {
		t.Fatalf("a kiosk's metrics: %v", err)
	}
	fams = maps.Clone(fams)
	for _, f := range kioskFams {
		if strings.HasPrefix(f.GetName(), "voicebot_fleet_") {
			fams[f.GetName()] = f
		}
	}
	// Grafana's variables, as Grafana fills them in before the query reaches Prometheus
	grafana := strings.NewReplacer("$__rate_interval", "5m", "$instance", ".*", "$job", ".*")
	exported := func(name string) bool {
		if name == "up" { // Prometheus' own, per scrape target
			return true
		}
		for _, suffix := range []string{"", "_bucket", "_count", "_sum"} {
			base, ok := strings.CutSuffix(name, suffix)
			if !ok {
				continue
			}
			if f, ok := fams[base]; ok && (suffix == "" || f.GetType() == dto.MetricType_HISTOGRAM) {
				return true
			}
		}
		return false
	}
	for _, e := range exprs {
		node, err := parser.NewParser(parser.Options{}).ParseExpr(grafana.Replace(e))
		if err != nil {
			t.Errorf("%q does not parse: %v", e, err)
			continue
		}
		parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && !exported(vs.Name) {
				t.Errorf("%q reads %s, which the appliance does not export", e, vs.Name)
			}
			return nil
		})
	}
}

// TestAlertRules: the shipped alert rules load (promtool check rules) and pass their unit tests
// (promtool test rules, one per alert in alerts_test.yml).
func TestAlertRules(t *testing.T) {
	testneeds.Tools(t, "apt-get install prometheus (it ships promtool)", "promtool")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command("promtool", args...)
		cmd.Dir = observability
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
