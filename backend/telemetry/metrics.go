// Package telemetry holds the appliance's Prometheus metrics, registered on a registry of its own
// (no global state), so that tests and several servers in one process do not collide.
package telemetry

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the counters and histograms the server updates. Names, units and labels follow
// Prometheus' conventions (base units, _total counters, _seconds, _bytes) and, where one exists,
// OpenTelemetry's semantic conventions (http.server.request.duration with http.request.method,
// http.route and http.response.status_code, and its bucket boundaries); docs/OPERATIONS.md lists
// them all.
type Metrics struct {
	Registry       *prometheus.Registry
	HTTPDuration   *prometheus.HistogramVec // http_request_method, http_route, http_response_status_code
	Turns          *prometheus.CounterVec   // kind, lang
	TurnSeconds    prometheus.Histogram     // engine time of a turn, saving included
	TurnConfidence *prometheus.HistogramVec // kind: how sure the engine was of each answer
	RateLimited    *prometheus.CounterVec   // route
	AuthFailures   *prometheus.CounterVec   // code
	ContentVersion prometheus.Gauge
	ContentErrors  prometheus.Gauge
	Reloads        *prometheus.HistogramVec // result: ok or failed
	CacheHits      prometheus.Counter
	VoiceSeconds   *prometheus.HistogramVec // kind: stt (transcription) or tts (synthesis)
	RealTime       *prometheus.HistogramVec // kind: processing time over audio time
	VoiceHeard     prometheus.Counter       // seconds of microphone audio received by voice streams
	BuildInfo      *prometheus.GaugeVec     // version, revision, goversion: always 1
	CommitSeconds  *prometheus.HistogramVec // result: a group commit of the store's writer
	CommitWrites   prometheus.Histogram     // writes (turns, audit entries, ...) per group commit
	TLSExpiry      *prometheus.GaugeVec     // cert: server or ca; Unix seconds of NotAfter
	Wyoming        *prometheus.HistogramVec // service (describe, asr, tts, handle, ping, bad), outcome: the Wyoming server's requests

	// Rollup aggregates turns per minute for the dashboard.
	Rollup *Rollup

	// Totals since start of the counters the metrics history samples every minute.
	RateLimitedTotal atomic.Int64
	CacheHitsTotal   atomic.Int64
}

// NoteRateLimited counts a refusal by a rate limit.
func (m *Metrics) NoteRateLimited(route string) {
	m.RateLimited.WithLabelValues(route).Inc()
	m.RateLimitedTotal.Add(1)
}

// NoteVoice records one transcription ("stt") or synthesis ("tts") of audio long: its time, and
// its real-time factor (took over audio; under 1 is faster than real time).
func (m *Metrics) NoteVoice(kind string, took, audio time.Duration) {
	m.VoiceSeconds.WithLabelValues(kind).Observe(took.Seconds())
	if audio > 0 {
		m.RealTime.WithLabelValues(kind).Observe(took.Seconds() / audio.Seconds())
	}
}

// NoteRequest records one HTTP request: its method and route pattern (the route as registered,
// "/v1/sessions/{id}/messages", never the path with its values) and status code.
func (m *Metrics) NoteRequest(method, route string, status int, took time.Duration) {
	m.HTTPDuration.WithLabelValues(method, route, strconv.Itoa(status)).Observe(took.Seconds())
}

// NoteReload records one content reload attempt and how long it took.
func (m *Metrics) NoteReload(ok bool, took time.Duration) {
	result := "ok"
	if !ok {
		result = "failed"
	}
	m.Reloads.WithLabelValues(result).Observe(took.Seconds())
}

// NoteCommit records one group commit of the store's writer (store.DB.SetCommitObserver).
func (m *Metrics) NoteCommit(writes int, took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	m.CommitSeconds.WithLabelValues(result).Observe(took.Seconds())
	m.CommitWrites.Observe(float64(writes))
}

// NoteCacheHit counts an answer served from the response cache.
func (m *Metrics) NoteCacheHit() {
	m.CacheHits.Inc()
	m.CacheHitsTotal.Add(1)
}

// httpBuckets are OpenTelemetry's boundaries for http.server.request.duration, in seconds.
var httpBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// New registers the metrics on a new registry, with the Go runtime and process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Rollup:   NewRollup(),
		Registry: r,
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_server_request_duration_seconds",
			Help: "Duration of HTTP server requests (OpenTelemetry http.server.request.duration), by method, route pattern and status code.", Buckets: httpBuckets},
			[]string{"http_request_method", "http_route", "http_response_status_code"}),
		Turns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voicebot_turns_total", Help: "Conversation turns answered, by kind of answer (intent, knowledge, fallback, ...) and language."}, []string{"kind", "lang"}),
		TurnSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "voicebot_turn_duration_seconds", Help: "Time to answer a turn and save it durably.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, 1}}),
		TurnConfidence: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voicebot_turn_confidence_ratio", Help: "How sure the engine was of each answer (0 to 1), by kind of answer.",
			Buckets: []float64{.1, .2, .3, .4, .5, .6, .7, .8, .9, 1}}, []string{"kind"}),
		RateLimited:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voicebot_rate_limited_total", Help: "Requests refused by a rate limit, by route."}, []string{"route"}),
		AuthFailures:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voicebot_auth_failures_total", Help: "Requests refused by authentication or authorisation, by error code."}, []string{"code"}),
		ContentVersion: prometheus.NewGauge(prometheus.GaugeOpts{Name: "voicebot_content_version", Help: "Version of the content snapshot in service (0: none)."}),
		ContentErrors:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "voicebot_content_errors", Help: "Errors of the last content load attempt (0 when it loaded)."}),
		Reloads: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voicebot_content_reload_duration_seconds", Help: "Time to load the content (parse, check, train), by result: ok, or failed (the version that works keeps serving).",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"result"}),
		CacheHits: prometheus.NewCounter(prometheus.CounterOpts{Name: "voicebot_cache_hits_total", Help: "Turns answered from the response cache (the hit ratio: this over voicebot_turns_total)."}),
		VoiceSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voicebot_speech_duration_seconds", Help: "Time to transcribe (stt) or synthesise (tts) one utterance.",
			Buckets: []float64{.01, .025, .05, .1, .15, .25, .5, 1, 2.5}}, []string{"kind"}),
		RealTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voicebot_speech_real_time_factor_ratio", Help: "Processing time over audio time of one transcription (stt) or synthesis (tts); under 1 is faster than real time.",
			Buckets: []float64{.01, .02, .05, .1, .2, .3, .5, 1, 2}}, []string{"kind"}),
		VoiceHeard: prometheus.NewCounter(prometheus.CounterOpts{Name: "voicebot_voice_audio_received_seconds_total", Help: "Seconds of microphone audio received by voice streams."}),
		BuildInfo:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "voicebot_build_info", Help: "The appliance's version, the commit it was built from and the Go version (always 1)."}, []string{"version", "revision", "goversion"}),
	}
	m.CommitSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voicebot_store_commit_duration_seconds",
		Help:    "Time of one group commit of the store's writer (the transaction and its sync), by result: ok or failed.",
		Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, 1}}, []string{"result"})
	m.CommitWrites = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "voicebot_store_commit_writes",
		Help: "Writes (a turn, an audit entry, ...) in one group commit of the store's writer.", Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128}})
	m.Wyoming = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voicebot_wyoming_request_duration_seconds",
		Help:    "Requests to the Wyoming server (Home Assistant), by service (describe, asr, tts, handle, ping; bad: a refused event or connection) and outcome (ok, not_handled, or the error event's code).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"service", "outcome"})
	m.TLSExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "voicebot_tls_certificate_expiry_timestamp_seconds",
		Help: "When the certificate the LAN listener presents (cert=server) and the appliance's own certificate authority (cert=ca) expire, in Unix seconds."}, []string{"cert"})
	m.SetVersion("dev")
	r.MustRegister(m.TLSExpiry, m.Wyoming, m.HTTPDuration, m.Turns, m.TurnSeconds, m.TurnConfidence, m.RateLimited, m.AuthFailures, m.ContentVersion, m.ContentErrors, m.Reloads,
		m.CacheHits, m.VoiceSeconds, m.RealTime, m.VoiceHeard, m.BuildInfo, m.CommitSeconds, m.CommitWrites,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// SetVersion names the appliance's version in voicebot_build_info.
func (m *Metrics) SetVersion(version string) {
	m.BuildInfo.Reset()
	m.BuildInfo.WithLabelValues(version, revision(), runtime.Version()).Set(1)
}

// revision is the commit the binary was built from (the Go toolchain stamps it), or "unknown".
func revision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
