package appliance

import (
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"voicebot/backend/keys"
)

// otlpReceiver is an OTLP/HTTP trace receiver on a loopback port: what a collector does with
// POST /v1/traces (protobuf), keeping the spans for the test to read. It stands in for an
// OpenTelemetry Collector, which cannot run here.
type otlpReceiver struct {
	mu      sync.Mutex
	spans   []*tracepb.Span
	res     []string // service.name of each batch
	addr    string
	discard bool // count the spans only (a benchmark's millions)
	count   int
}

func newOTLPReceiver(t testing.TB) *otlpReceiver {
	t.Helper()
	rc := &otlpReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc.addr = ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "not an OTLP/HTTP protobuf trace export", http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					rc.res = append(rc.res, kv.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.ScopeSpans {
				rc.count += len(ss.Spans)
				if rc.discard {
					continue
				}
				rc.spans = append(rc.spans, ss.Spans...)
			}
		}
		rc.mu.Unlock()
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rc
}

// trace returns the spans of one trace, by name (a name given twice keeps all).
func (rc *otlpReceiver) trace(id string) map[string][]*tracepb.Span {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string][]*tracepb.Span{}
	for _, s := range rc.spans {
		if hex.EncodeToString(s.TraceId) == id {
			out[s.Name] = append(out[s.Name], s)
		}
	}
	return out
}

// TestTracesOfTurns: with OTEL_EXPORTER_OTLP_ENDPOINT set, a chat turn sent with a caller's
// traceparent, a voice turn and a failing turn each reach an OTLP receiver as a tree of spans:
// the server span (the route pattern, child of the caller's span), the engine's turn under it
// with its stages (match, intent model, store.save; speech.transcribe for the voice turn), and
// the failing turn marked as an error. The response's X-Request-Id is the trace's id, or the
// caller's own X-Request-Id when it sent one.
func TestTracesOfTurns(t *testing.T) {
	rc := newOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+rc.addr)
	t.Setenv("OTEL_SERVICE_NAME", "kiosk-7")
	a := start(t, Options{})
	k := newKey(t, a, keys.Spec{Scopes: []string{"chat", "voice"}})

	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	chat := do(t, a, "POST", "/v1/chat", k, `{"text":"What are the opening hours?"}`, "traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	if chat.status != 200 {
		t.Fatalf("chat: %d %s", chat.status, chat.body)
	}
	if got := chat.header.Get("X-Request-Id"); got != callerTrace {
		t.Errorf("X-Request-Id %q, want the trace id %s", got, callerTrace)
	}
	failing := do(t, a, "POST", "/v1/chat", k, `{"text":"hello","session_id":"not a session id"}`)
	if failing.status != 400 {
		t.Fatalf("a turn with a malformed session id: %d %s", failing.status, failing.body)
	}
	failingTrace := failing.header.Get("X-Request-Id")
	if own := do(t, a, "GET", "/v1/bot", k, "", "X-Request-Id", "desk-42"); own.header.Get("X-Request-Id") != "desk-42" {
		t.Errorf("the caller's X-Request-Id was not echoed: %q", own.header.Get("X-Request-Id"))
	}
	voiceTrace := ""
	if _, err := a.Voice.Recognizer("en"); err == nil {
		sp := post(t, a, "/v1/audio/speech", k, `{"input":"What are the opening hours?"}`)
		v := do(t, a, "POST", "/v1/voice", k, string(sp.body), "Content-Type", "audio/wav")
		if v.status != 200 {
			t.Fatalf("voice: %d %s", v.status, v.body)
		}
		voiceTrace = v.header.Get("X-Request-Id")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil { // flushes the batch of spans
		t.Fatal(err)
	}

	tr := rc.trace(callerTrace)
	server := tr["/v1/chat"]
	if len(server) == 0 {
		server = tr["POST /v1/chat"]
	}
	if len(server) != 1 {
		t.Fatalf("the chat turn's trace has %d server spans; spans: %v", len(server), names(tr))
	}
	if got := hex.EncodeToString(server[0].ParentSpanId); got != callerSpan {
		t.Errorf("the server span's parent is %s, want the caller's span %s", got, callerSpan)
	}
	if server[0].Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("the server span is of kind %v", server[0].Kind)
	}
	turn := tr["conversation.turn"]
	if len(turn) != 1 || string(turn[0].ParentSpanId) != string(server[0].SpanId) {
		t.Fatalf("conversation.turn is not the server span's child: %v", names(tr))
	}
	for _, stage := range []string{"conversation.language", "conversation.match", "store.save"} {
		if len(tr[stage]) == 0 || string(tr[stage][0].ParentSpanId) != string(turn[0].SpanId) {
			t.Errorf("no %s under conversation.turn: %v", stage, names(tr))
		}
	}
	if s := tr["conversation.turn"][0]; attrString(s, "voicebot.intent") != "opening_hours" {
		t.Errorf("conversation.turn's intent attribute: %q", attrString(s, "voicebot.intent"))
	}

	ft := rc.trace(failingTrace)
	if len(ft["conversation.turn"]) != 1 || ft["conversation.turn"][0].GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("the failing turn's conversation.turn span is missing or not an error: %v", names(ft))
	}
	if voiceTrace != "" {
		vt := rc.trace(voiceTrace)
		for _, want := range []string{"speech.transcribe", "conversation.turn", "conversation.hear", "store.save"} {
			if len(vt[want]) == 0 {
				t.Errorf("the voice turn's trace has no %s: %v", want, names(vt))
			}
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.res) == 0 || rc.res[0] != "kiosk-7" {
		t.Errorf("service.name %v, want OTEL_SERVICE_NAME's kiosk-7", rc.res)
	}
}

func names(tr map[string][]*tracepb.Span) []string {
	var out []string
	for n := range tr {
		out = append(out, n)
	}
	return out
}

func attrString(s *tracepb.Span, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

// grpcTraces is an OTLP/gRPC trace receiver: the TraceService a collector serves on 4317.
type grpcTraces struct {
	coltrace.UnimplementedTraceServiceServer
	rc *otlpReceiver
}

func (g grpcTraces) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	g.rc.mu.Lock()
	defer g.rc.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			g.rc.spans = append(g.rc.spans, ss.Spans...)
		}
	}
	return &coltrace.ExportTraceServiceResponse{}, nil
}

// TestTracesOverGRPC: with OTEL_EXPORTER_OTLP_PROTOCOL=grpc the same spans reach a gRPC
// receiver (OTLP's TraceService on a loopback port, standing in for a collector).
func TestTracesOverGRPC(t *testing.T) {
	rc := &otlpReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	coltrace.RegisterTraceServiceServer(srv, grpcTraces{rc: rc})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+ln.Addr().String())
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	a := start(t, Options{})
	k := newKey(t, a, keys.Spec{Scopes: []string{"chat"}})
	r := do(t, a, "POST", "/v1/chat", k, `{"text":"What are the opening hours?"}`)
	if r.status != 200 {
		t.Fatalf("chat: %d %s", r.status, r.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	tr := rc.trace(r.header.Get("X-Request-Id"))
	for _, want := range []string{"POST /v1/chat", "conversation.turn", "store.save"} {
		if len(tr[want]) != 1 {
			t.Errorf("over gRPC, the turn's trace has %d %s spans: %v", len(tr[want]), want, names(tr))
		}
	}
}

// TestTracesFromSettingsFile: otlp_endpoint in the settings file turns tracing on when no OTEL_*
// variable does.
func TestTracesFromSettingsFile(t *testing.T) {
	rc := newOTLPReceiver(t)
	cfg := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(cfg, []byte("otlp_endpoint: http://"+rc.addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := start(t, Options{ConfigFile: cfg})
	k := newKey(t, a, keys.Spec{Scopes: []string{"chat"}})
	r := do(t, a, "POST", "/v1/chat", k, `{"text":"What are the opening hours?"}`)
	if r.status != 200 {
		t.Fatalf("chat: %d %s", r.status, r.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if tr := rc.trace(r.header.Get("X-Request-Id")); len(tr["POST /v1/chat"]) != 1 || len(tr["conversation.turn"]) != 1 {
		t.Errorf("the turn's trace from otlp_endpoint: %v", names(tr))
	}
}
