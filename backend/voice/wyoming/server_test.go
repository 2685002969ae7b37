package wyoming

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestServerIdleAndClose: over TCP on loopback, a client that sends nothing for Limits.Idle is
// disconnected, and Close ends the connections still open and returns.
func TestServerIdleAndClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Backend: echoBackend{}, Limits: Limits{Idle: 300 * time.Millisecond}}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()

	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	_ = idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if n, err := idle.Read(make([]byte, 1)); !errors.Is(err, io.EOF) || n != 0 {
		t.Fatalf("an idle client read %d bytes, %v; want the connection closed", n, err)
	}
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Fatalf("an idle client was closed after %s, before the idle limit", took)
	}

	busy, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := Write(busy, Event{Type: "ping"}); err != nil {
		t.Fatal(err)
	}
	if e, err := Read(bufio.NewReader(busy)); err != nil || e.Type != "pong" {
		t.Fatalf("ping: %v %v", e, err)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a client connected")
	}
	if err := <-served; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve after Close: %v", err)
	}
}
