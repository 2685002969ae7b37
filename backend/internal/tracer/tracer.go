// Package tracer hands out the OpenTelemetry tracer of a package, from the global provider in
// force now. otel.Tracer itself is not fit for every span: a tracer taken once, at start, stays
// bound to the first provider ever set (the global delegates once), and taking one per span goes
// through the global provider's mutex and map, which 16 concurrent turns, eight spans each,
// contended for (turns/s 0.89-0.94 of the commit before tracing, with tracing off). Named keeps
// the tracer it got and asks again only when the global provider changes.
package tracer

import (
	"sync/atomic"

	"go.opentelemetry.io/otel"
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

// Get returns the tracer of the global provider in force now.
func (n *Named) Get() trace.Tracer {
	tp := otel.GetTracerProvider()
	if h := n.cached.Load(); h != nil && h.tp == tp {
		return h.t
	}
	t := tp.Tracer(n.name)
	n.cached.Store(&held{tp: tp, t: t})
	return t
}
