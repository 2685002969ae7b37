package wyoming

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"voicebot/backend/voice"
)

// eventSeeds are event streams as a Wyoming server sends them: data inline and apart, payloads,
// and broken ones.
var eventSeeds = []string{
	`{"type":"transcript","data":{"text":"hello"}}` + "\n",
	`{"type":"audio-start","version":"1.5.0","data_length":38}` + "\n" + `{"rate":22050,"width":2,"channels":1}`,
	`{"type":"audio-chunk","data":{"rate":16000,"width":2,"channels":1},"payload_length":4}` + "\n\x01\x00\xff\x7f" + `{"type":"audio-stop"}` + "\n",
	`{"type":"error","data":{"text":"model not loaded"}}` + "\n",
	`{"type":"x","data_length":-1}` + "\n",
	`{"type":"x","payload_length":99999999999}` + "\n",
	`{"type":"x","data_length":4}` + "\nnull",
	`{"type":"x","data":null,"data_length":2}` + "\n{}",
	"{\n",
	"\n",
	`{"type":"audio-start","data":{"rate":-5,"width":2,"channels":1}}` + "\n" + `{"type":"audio-stop"}` + "\n",
}

// FuzzRead: whatever a Wyoming server sends, Read returns events within the protocol's limits
// or an error, never a panic or a read past the limits; every event read is written back by
// Write and read again unchanged (type, data, payload).
func FuzzRead(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(b), maxHeader)
		for range 64 {
			e, err := Read(r)
			if err != nil {
				return
			}
			if len(e.Payload) > maxPayload || len(e.Payload) > len(b) {
				t.Fatalf("a payload of %d bytes from %d bytes of input", len(e.Payload), len(b))
			}
			var buf bytes.Buffer
			if err := Write(&buf, e); err != nil {
				t.Fatalf("an event read cannot be written: %v", err)
			}
			again, err := Read(bufio.NewReaderSize(&buf, maxHeader))
			if err != nil {
				if strings.Contains(err.Error(), "too long") && buf.Len() > maxHeader {
					continue // its data, inline now, makes a header over the limit
				}
				t.Fatalf("written %q, read back: %v", buf.Bytes(), err)
			}
			d1, _ := json.Marshal(e.Data)
			d2, _ := json.Marshal(again.Data)
			if len(e.Data) == 0 {
				d1 = []byte("null")
			}
			if len(again.Data) == 0 {
				d2 = []byte("null")
			}
			if again.Type != e.Type || !bytes.Equal(d1, d2) || !bytes.Equal(again.Payload, e.Payload) {
				t.Fatalf("round trip changed the event: %+v -> %+v", e, again)
			}
		}
	})
}

// serveOnce answers the first connection to a loopback listener with reply, after reading
// what the client sends, and closes it.
func serveOnce(t *testing.T, reply []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		go io.Copy(io.Discard, c)
		c.Write(reply)
	}()
	return ln.Addr().String()
}

// FuzzClientSynthesize: a Wyoming text-to-speech server that answers anything gets, over a real
// loopback connection, an error or audio the rest of the appliance can use (a rate from 8 to
// 48 kHz, whole 16-bit samples), in bounded time; never a panic.
func FuzzClientSynthesize(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		c := &Client{Addr: serveOnce(t, reply), Langs: []string{"en"}, Timeout: 5 * time.Second}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		a, err := c.Synthesize(ctx, "hello", "en", "")
		if time.Since(start) > 6*time.Second {
			t.Fatalf("Synthesize took %s", time.Since(start))
		}
		if err != nil {
			return
		}
		if a.Rate < 8000 || a.Rate > 48000 {
			t.Fatalf("audio at %d Hz accepted", a.Rate)
		}
		if 2*len(a.Samples) > len(reply) {
			t.Fatalf("%d samples from %d bytes", len(a.Samples), len(reply))
		}
		voice.EncodeWAV(a)
		voice.Resample(a, voice.SampleRate)
	})
}

// FuzzClientTranscribe: a speech-to-text server that answers anything gets an error or a
// transcript, in bounded time; never a panic.
func FuzzClientTranscribe(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		c := &Client{Addr: serveOnce(t, reply), Langs: []string{"en"}, Timeout: 5 * time.Second}
		start := time.Now()
		tr, err := c.Transcribe(context.Background(), voice.Audio{Rate: 16000, Samples: make([]int16, 1600)}, "en")
		if time.Since(start) > 6*time.Second {
			t.Fatalf("Transcribe took %s", time.Since(start))
		}
		if err == nil && len(tr.Text) > len(reply) {
			t.Fatalf("a transcript of %d bytes from %d", len(tr.Text), len(reply))
		}
	})
}
