// Package wyomingtest is a Wyoming protocol peer for tests, as net/http/httptest is for HTTP:
// wyoming-faster-whisper and wyoming-piper (Python services) cannot run where the tests run. It
// follows the published protocol: a JSON header line, then data_length bytes of JSON data (sent
// apart from the header, as the Python library does) and payload_length bytes of payload;
// transcribe/audio-start/audio-chunk/audio-stop is answered with transcript, synthesize with
// audio-start, audio-chunk and audio-stop carrying a square tone of 100 ms per character.
package wyomingtest

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"net"
	"sync/atomic"

	"voicebot/backend/voice/wyoming"
)

// Server is a running peer.
type Server struct {
	Addr string
	// Transcript makes the transcript from the audio's sample count and language.
	Transcript func(samples int, lang string) string
	// Requests counts the events of type transcribe and synthesize received.
	Requests atomic.Int64
	ln       net.Listener
}

// Start listens on a loopback port.
func Start(transcript func(samples int, lang string) string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), Transcript: transcript, ln: ln}
	go s.serve()
	return s, nil
}

// Close stops it.
func (s *Server) Close() { s.ln.Close() }

func writeSplit(w *bufio.Writer, typ string, data map[string]any, payload []byte) {
	d, _ := json.Marshal(data)
	h, _ := json.Marshal(map[string]any{"type": typ, "version": "1.5.0", "data_length": len(d), "payload_length": len(payload)})
	w.Write(append(h, '\n'))
	w.Write(d)
	w.Write(payload)
	w.Flush()
}

func (s *Server) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			r, w := bufio.NewReader(c), bufio.NewWriter(c)
			samples, lang := 0, ""
			for {
				e, err := wyoming.Read(r)
				if err != nil {
					return
				}
				switch e.Type {
				case "transcribe":
					s.Requests.Add(1)
					lang, _ = e.Data["language"].(string)
				case "audio-chunk":
					samples += len(e.Payload) / 2
				case "audio-stop":
					writeSplit(w, "transcript", map[string]any{"text": s.Transcript(samples, lang)}, nil)
					return
				case "synthesize":
					s.Requests.Add(1)
					text, _ := e.Data["text"].(string)
					f := map[string]any{"rate": 22050, "width": 2, "channels": 1}
					writeSplit(w, "audio-start", f, nil)
					tone := make([]byte, 2*22050/10*len(text))
					for i := 0; i < len(tone)/2; i++ {
						binary.LittleEndian.PutUint16(tone[2*i:], uint16(int16(8000*((i/25)%2*2-1))))
					}
					for i := 0; i < len(tone); i += 4096 {
						writeSplit(w, "audio-chunk", f, tone[i:min(i+4096, len(tone))])
					}
					writeSplit(w, "audio-stop", map[string]any{}, nil)
					return
				}
			}
		}()
	}
}
