// Package telemetry holds the appliance's Prometheus metrics, registered on a registry of its own
// (no global state), so that tests and several servers in one process do not collide.
package telemetry

import (
	"time"

	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the counters and histograms the server updates.
type Metrics struct {
	Registry       *prometheus.Registry
	Turns          *prometheus.CounterVec   // kind, lang
	TurnSeconds    prometheus.Histogram     // engine time of a turn, saving included
	Requests       *prometheus.CounterVec   // route, code
	RequestSeconds *prometheus.HistogramVec // route
	RateLimited    *prometheus.CounterVec   // route
	AuthFailures   *prometheus.CounterVec   // code
	ContentVersion prometheus.Gauge
	ContentErrors  prometheus.Gauge
	CacheHits      prometheus.Counter
	VoiceSeconds   *prometheus.HistogramVec // kind: stt (transcription) or tts (synthesis)
	VoiceHeard     prometheus.Counter       // seconds of microphone audio received by voice streams

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

// NoteCacheHit counts an answer served from the response cache.
// NoteVoice records one transcription ("stt") or synthesis ("tts").
func (m *Metrics) NoteVoice(kind string, took time.Duration) {
	m.VoiceSeconds.WithLabelValues(kind).Observe(took.Seconds())
}

func (m *Metrics) NoteCacheHit() {
	m.CacheHits.Inc()
	m.CacheHitsTotal.Add(1)
}

// New registers the metrics on a new registry, with the Go runtime and process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Rollup:         NewRollup(),
		Registry:       r,
		Turns:          prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voicebot_turns_total", Help: "Conversation turns answered, by kind of answer and language."}, []string{"kind", "lang"}),
		TurnSeconds:    prometheus.NewHistogram(prometheus.HistogramOpts{Name: "voicebot_turn_seconds", Help: "Time to answer a turn and save it durably.", Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, 1}}),
		Requests:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voicebot_http_requests_total", Help: "HTTP requests by route and status code."}, []string{"route", "code"}),
		RequestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voicebot_http_request_seconds", Help: "HTTP request duration by route.", Buckets: prometheus.DefBuckets}, []string{"route"}),
		RateLimited:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voicebot_rate_limited_total", Help: "Requests refused by a rate limit, by route."}, []string{"route"}),
		AuthFailures:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voicebot_auth_failures_total", Help: "Requests refused by authentication or authorisation, by error code."}, []string{"code"}),
		ContentVersion: prometheus.NewGauge(prometheus.GaugeOpts{Name: "voicebot_content_version", Help: "Version of the content snapshot in service."}),
		ContentErrors:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "voicebot_content_errors", Help: "Errors of the last content load attempt (0 when it loaded)."}),
		CacheHits:      prometheus.NewCounter(prometheus.CounterOpts{Name: "voicebot_cache_hits_total", Help: "Answers served from the response cache."}),
		VoiceSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voicebot_voice_seconds", Help: "Time to transcribe (stt) or synthesise (tts) one utterance.",
			Buckets: []float64{.01, .025, .05, .1, .15, .25, .5, 1, 2.5}}, []string{"kind"}),
	}
	m.VoiceHeard = prometheus.NewCounter(prometheus.CounterOpts{Name: "voicebot_voice_audio_received_seconds_total", Help: "Seconds of microphone audio received by voice streams."})
	r.MustRegister(m.VoiceSeconds, m.VoiceHeard, m.Turns, m.TurnSeconds, m.Requests, m.RequestSeconds, m.RateLimited, m.AuthFailures, m.ContentVersion, m.ContentErrors, m.CacheHits,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
