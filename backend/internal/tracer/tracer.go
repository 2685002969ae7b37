// Package tracer keeps a package's OpenTelemetry tracer for the provider in force. Asking a
// provider for a tracer at every span goes through its mutex and map (the global one's too),
// which 16 concurrent turns, eight spans each, contended for; a tracer taken once at start stays
// bound to the first global provider ever set (the global delegates once), while an appliance
// started again in the same process sets a new one. Named keeps the tracer it got and asks again
// only when the provider changes. It imports only OpenTelemetry's trace API, so the engine can
// use it without the HTTP packages that otel's global brings.
package tracer

import (
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// Named is one package's tracer.
type Named struct {
	name   string
	cached atomic.Pointer[held]
}

type held struct {
	tp trace.TracerProvider
	t  trace.Tracer
}

// New names a package's tracer (its import path, by OpenTelemetry's convention).
func New(name string) *Named { return &Named{name: name} }

// For returns the package's tracer of the provider tp.
func (n *Named) For(tp trace.TracerProvider) trace.Tracer {
	if h := n.cached.Load(); h != nil && h.tp == tp {
		return h.t
	}
	t := tp.Tracer(n.name)
	n.cached.Store(&held{tp: tp, t: t})
	return t
}
