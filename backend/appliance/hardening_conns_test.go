package appliance

// Connections per remote address are bounded (issue 16): one LAN device cannot hold every file
// descriptor of the appliance; the connection over the bound gets a 429 JSON error at once.

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

func TestConnectionsPerAddressBounded(t *testing.T) {
	prev := maxConnsPerAddress
	maxConnsPerAddress = 4
	t.Cleanup(func() { maxConnsPerAddress = prev })
	a := start(t, Options{})
	addr := a.Addr()
	var held []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	// The fifth is answered at once, before it sends anything.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	status, _ := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if !strings.HasPrefix(status, "HTTP/1.1 429") {
		t.Fatalf("the fifth connection from one address: %q, want a 429", status)
	}
	// One closed, a new one is served.
	held[0].Close()
	held = held[1:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if strings.HasPrefix(line, "HTTP/1.1 200") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a connection closed, a new one: %q", line)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
