package openai

// The OpenAI-compatible peer is an in-test HTTP server (whisper.cpp's server, LocalAI and
// speaches cannot run on this machine) that answers as the published API does:
// /audio/transcriptions takes multipart file+model+language and returns {"text"};
// /audio/speech takes JSON and returns audio in the response_format asked for.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"voicebot/backend/voice"
)

func TestOpenAIClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sk-local" {
			http.Error(w, `{"error":{"message":"bad key"}}`, 401)
			return
		}
		switch r.URL.Path {
		case "/v1/audio/transcriptions":
			f, _, err := r.FormFile("file")
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			b, _ := io.ReadAll(f)
			a, err := voice.DecodeWAV(b)
			if err != nil || r.FormValue("model") != "whisper-large" {
				http.Error(w, "bad request", 400)
				return
			}
			json.NewEncoder(w).Encode(map[string]string{"text": " hola " + r.FormValue("language") + " " + a.Duration().String()})
		case "/v1/audio/speech":
			var req map[string]any
			json.NewDecoder(r.Body).Decode(&req)
			if req["response_format"] != "wav" || req["voice"] != "alloy" {
				http.Error(w, "bad request", 400)
				return
			}
			w.Header().Set("Content-Type", "audio/wav")
			w.Write(voice.EncodeWAV(voice.Audio{Rate: 24000, Samples: make([]int16, 24000)}))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := &Client{Base: srv.URL + "/v1", Langs: []string{"es"}, Model: "whisper-large", Voice: "alloy", APIKey: "sk-local"}
	tr, err := c.Transcribe(context.Background(), voice.Audio{Rate: 16000, Samples: make([]int16, 8000)}, "es")
	if err != nil || tr.Text != "hola es 500ms" {
		t.Fatalf("transcribe: %q %v", tr.Text, err)
	}
	a, err := c.Synthesize(context.Background(), "hola", "es", "")
	if err != nil || a.Duration().Seconds() != 1 {
		t.Fatalf("synthesize: %v %v", a.Duration(), err)
	}
	c.APIKey = "wrong"
	if _, err := c.Synthesize(context.Background(), "hola", "es", ""); err == nil {
		t.Fatal("a refusal was not reported")
	}
}
