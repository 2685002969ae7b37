package telemetry

// Tracing: OpenTelemetry traces exported over OTLP, off by default. It is on when
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, or the settings file
// names an endpoint (tracing.endpoint), unless OTEL_SDK_DISABLED=true. The OpenTelemetry SDK
// reads the other standard variables itself (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
// OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _INSECURE, OTEL_TRACES_SAMPLER, ...); the protocol is
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL, "grpc" or "http/protobuf"
// (the default). When it is off the global tracer provider stays OpenTelemetry's no-op one, whose
// spans cost a few tens of nanoseconds and record nothing.

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracingConfig is what the settings file may say about tracing; the OTEL_* environment
// variables win over it, as OpenTelemetry's specification has them win over code.
type TracingConfig struct {
	Endpoint string // an OTLP endpoint URL, e.g. http://collector:4318 or http://collector:4317 with Protocol grpc
	Protocol string // "grpc" or "http/protobuf" ("" = http/protobuf)
}

// Tracing is the tracer provider the appliance set up, to flush and stop at shutdown.
type Tracing struct {
	Enabled  bool
	Protocol string
	tp       *sdktrace.TracerProvider
}

// Shutdown flushes the spans not yet exported and stops the exporter (nothing when tracing is
// off).
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.tp == nil {
		return nil
	}
	if otel.GetTracerProvider() == t.tp {
		otel.SetTracerProvider(noop.NewTracerProvider())
	}
	return t.tp.Shutdown(ctx)
}

// TracingEnabled says whether the environment or the settings turn tracing on.
func TracingEnabled(cfg TracingConfig) bool {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || cfg.Endpoint != ""
}

// SetupTracing installs the W3C trace-context propagator (so that a caller's traceparent is
// honoured and passed on to external engines) and, when tracing is on, an OTLP exporter and the
// global tracer provider, with the resource service.name=voicebot (OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES override it) and service.version.
func SetupTracing(ctx context.Context, cfg TracingConfig, version string) (*Tracing, error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if !TracingEnabled(cfg) {
		return &Tracing{}, nil
	}
	protocol := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if protocol == "" {
		protocol = cfg.Protocol
	}
	if protocol == "" {
		protocol = "http/protobuf"
	}
	envEndpoint := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	var exp *otlptrace.Exporter
	var err error
	switch protocol {
	case "grpc":
		var opts []otlptracegrpc.Option
		if !envEndpoint {
			opts = append(opts, otlptracegrpc.WithEndpointURL(cfg.Endpoint))
		}
		exp, err = otlptracegrpc.New(ctx, opts...)
	case "http/protobuf":
		var opts []otlptracehttp.Option
		if !envEndpoint {
			opts = append(opts, otlptracehttp.WithEndpointURL(strings.TrimSuffix(cfg.Endpoint, "/")+"/v1/traces"))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	default:
		return nil, fmt.Errorf("tracing: OTLP protocol %q: use grpc or http/protobuf", protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	// later detectors win: the environment over the defaults
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "voicebot"), attribute.String("service.version", version)),
		resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return &Tracing{Enabled: true, Protocol: protocol, tp: tp}, nil
}
