package appliance

// The Wyoming server (wyoming: in the settings, --wyoming on serve): the appliance's speech to
// text, text to speech and conversation offered to Home Assistant over the Wyoming protocol
// (backend/voice/wyoming has the protocol). Its turns go through the same engine, refusals,
// metrics and history as the API's, recorded under the key id "wyoming" (the protocol has no
// keys); its requests are counted in voicebot_wyoming_request_duration_seconds.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"voicebot/backend/config"
	"voicebot/backend/conversation"
	"voicebot/backend/httpapi"
	"voicebot/backend/internal/ttlcache"
	"voicebot/backend/voice"
	"voicebot/backend/voice/wyoming"
)

// WyomingKeyID is the key id recorded with the turns Home Assistant asks over Wyoming.
const WyomingKeyID = "wyoming"

// startWyoming listens on the Wyoming address, if one is set, and serves it.
func (a *Appliance) startWyoming(addr string, allowLAN bool) error {
	if addr == "" {
		return nil
	}
	if err := config.CheckWyoming(addr, allowLAN); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("wyoming: listen on %s: %w", addr, err)
	}
	b := &wyomingBackend{a: a, sessions: ttlcache.New[string, string](1000, 30*time.Minute)}
	a.wyoming = &wyoming.Server{Backend: b, Observe: func(service, outcome string, took time.Duration) {
		a.Metrics.Wyoming.WithLabelValues(service, outcome).Observe(took.Seconds())
	}}
	a.wyomingLn = ln
	slog.Info("wyoming server: offering speech and conversation to Home Assistant", "addr", ln.Addr().String())
	go func() { _ = a.wyoming.Serve(ln) }()
	return nil
}

// WyomingAddr is the Wyoming server's address ("" when it is off).
func (a *Appliance) WyomingAddr() string {
	if a.wyomingLn == nil {
		return ""
	}
	return a.wyomingLn.Addr().String()
}

// wyomingBackend is the appliance as the Wyoming server sees it.
type wyomingBackend struct {
	a *Appliance
	// sessions maps Home Assistant's conversation ids to the appliance's session ids, so that a
	// follow-up continues the conversation (as long as the session cache keeps one).
	sessions *ttlcache.Cache[string, string]
}

// lang is the content's language for what Home Assistant asked ("en-US" is en), or "" when
// the content has none such; want "" is the content's default.
func (b *wyomingBackend) lang(want string) (string, error) {
	snap := b.a.Engine.Snapshot()
	if snap == nil {
		return "", &wyoming.Refusal{Code: wyoming.CodeUnavailable, Text: "no content is loaded yet"}
	}
	if want == "" {
		return snap.Pack.Bot.DefaultLanguage, nil
	}
	if served, ok := snap.Pack.Bot.MatchLanguage(want); ok {
		return served, nil // Home Assistant's "de-DE" is a de-DE or a de pack's
	}
	return "", &wyoming.Refusal{Code: wyoming.CodeUnavailable, Text: fmt.Sprintf("language %q is not one of the content's %v", want, snap.Pack.Bot.Languages)}
}

// attributionURL is empty: the appliance has no public home page to link to.
const attributionURL = ""

func artifact(name, desc, version string) wyoming.Artifact {
	return wyoming.Artifact{Name: name, Description: desc, Version: version, Installed: true,
		Attribution: wyoming.Attribution{Name: "VoiceBot", URL: attributionURL}}
}

// Info describes the engines in use and the content's languages.
func (b *wyomingBackend) Info() wyoming.Info {
	v := b.a.Opts.Version
	if v == "" {
		v = "dev"
	}
	info := wyoming.Info{Asr: []wyoming.AsrProgram{}, Tts: []wyoming.TtsProgram{}, Handle: []wyoming.HandleProgram{}, Intent: []any{}, Wake: []any{}}
	var langs []string
	name := "VoiceBot"
	if snap := b.a.Engine.Snapshot(); snap != nil {
		langs = snap.Pack.Bot.Languages
		if snap.Pack.Bot.Name != "" {
			name = snap.Pack.Bot.Name
		}
	}
	engines, _ := b.a.Voice.Engines()
	var models []wyoming.Model
	var voices []wyoming.Voice
	for _, e := range engines {
		// the content's languages the engine serves, as the content names them ("en-GB" by an
		// "en" engine)
		var ls []string
		for _, l := range langs {
			if voice.Serves(e.Languages, l) {
				ls = append(ls, l)
			}
		}
		if len(ls) == 0 {
			continue
		}
		if e.Kind == "stt" {
			models = append(models, wyoming.Model{Artifact: artifact(e.Name, "speech recognition adapted to the content: "+e.Name, v), Languages: ls})
		} else {
			voices = append(voices, wyoming.Voice{Artifact: artifact(e.Name, "speech synthesis: "+e.Name, v), Languages: ls, Speakers: nil})
		}
	}
	if len(models) > 0 {
		info.Asr = append(info.Asr, wyoming.AsrProgram{Artifact: artifact("voicebot-stt", "VoiceBot speech to text (offline)", v), Models: models})
	}
	if len(voices) > 0 {
		info.Tts = append(info.Tts, wyoming.TtsProgram{Artifact: artifact("voicebot-tts", "VoiceBot text to speech (offline)", v), Voices: voices})
	}
	if len(langs) > 0 {
		info.Handle = append(info.Handle, wyoming.HandleProgram{Artifact: artifact("voicebot", "VoiceBot conversation: answers from the content ("+name+")", v),
			Models: []wyoming.Model{{Artifact: artifact(name, "the content's intents and documents", v), Languages: slices.Clone(langs)}}})
	}
	return info
}

// Transcribe recognises an utterance as the API's transcription route does (the engine picks
// among the recogniser's readings).
func (b *wyomingBackend) Transcribe(ctx context.Context, a voice.Audio, want string) (string, string, error) {
	lang, err := b.lang(want)
	if err != nil {
		return "", "", err
	}
	rec, err := b.a.Voice.Recognizer(lang)
	if err != nil {
		return "", "", &wyoming.Refusal{Code: wyoming.CodeUnavailable, Text: err.Error()}
	}
	tr, err := rec.Transcribe(ctx, a, lang)
	if err != nil {
		return "", "", err
	}
	b.a.Metrics.NoteVoice("stt", tr.Took, a.Duration())
	if tr.Text != "" {
		if h, err := b.a.Engine.Hear(*httpapi.SpokenOf(tr), lang); err == nil {
			tr.Text = h.Transcript
		}
	}
	return tr.Text, lang, nil
}

// Synthesize speaks a text in the voice's language, else the text's.
func (b *wyomingBackend) Synthesize(ctx context.Context, text, want, voiceName string) (voice.Audio, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return voice.Audio{}, &wyoming.Refusal{Code: wyoming.CodeBadEvent, Text: "the text is empty"}
	}
	if want == "" {
		want = b.a.Engine.DetectLanguage(text)
	}
	lang, err := b.lang(want)
	if err != nil {
		return voice.Audio{}, err
	}
	syn, err := b.a.Voice.Synthesizer(lang)
	if err != nil {
		return voice.Audio{}, &wyoming.Refusal{Code: wyoming.CodeUnavailable, Text: err.Error()}
	}
	start := time.Now()
	// voiceName is one of info's voices (an engine's name), not a voice of the engine: the
	// engine speaks in its own voice for the language.
	a, err := syn.Synthesize(ctx, text, lang, "")
	if err != nil {
		return voice.Audio{}, err
	}
	b.a.Metrics.NoteVoice("tts", time.Since(start), a.Duration())
	return a, nil
}

// Handle answers one utterance as a chat turn. A fallback (the content has no answer) is
// not-handled, so that Home Assistant can say so; its text is the content's fallback.
func (b *wyomingBackend) Handle(ctx context.Context, text, want, conv string) (wyoming.Handled, error) {
	var lang string
	if want != "" {
		l, err := b.lang(want)
		if err != nil {
			return wyoming.Handled{}, err
		}
		lang = l
	}
	var session string
	if conv != "" {
		session, _ = b.sessions.Get(conv)
	}
	rep, code, msg := b.a.API.RunTurn(ctx, conversation.Request{SessionID: session, Text: text, Lang: lang, KeyID: WyomingKeyID})
	if code == httpapi.CodeSessionErased && session != "" {
		b.sessions.Remove(conv)
		rep, code, msg = b.a.API.RunTurn(ctx, conversation.Request{Text: text, Lang: lang, KeyID: WyomingKeyID})
	}
	if code != "" {
		return wyoming.Handled{}, &wyoming.Refusal{Code: code, Text: msg}
	}
	if conv != "" {
		b.sessions.Add(conv, rep.SessionID)
	}
	return wyoming.Handled{Text: rep.Text, Handled: rep.Kind != "fallback"}, nil
}
