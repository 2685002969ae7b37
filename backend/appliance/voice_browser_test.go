//go:build cgo && linux

package appliance

// The visitor screen's microphone in a real Chromium: the browser's fake microphone plays a WAV
// file made here (a spoken question between silences, looped by Chromium), the page streams it
// to /v1/voice/stream, shows what was heard, the reply, and plays the reply's audio; when the
// loop speaks the question again during the (long) reply, the reply stops: barge-in.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"voicebot/backend/voice"
)

func TestVisitorScreenMicrophone(t *testing.T) {
	needSpeechTools(t)
	exe := chromium(t)
	a := startVoice(t, Options{VisitorUI: os.DirFS(visitorUI(t))})
	key := newKey(t, a, keysSpec("chat", "voice"))
	q := spokenPCM(t, "What are the opening hours?")
	samples := append(append(make([]int16, voice.SampleRate), q...), make([]int16, 3*voice.SampleRate)...)
	b := micTab(t, exe, "visitor-voice", samples)
	defer b.close()
	base := "http://" + a.Addr()
	b.do("open", chromedp.Navigate(base+"/#key="+key), chromedp.WaitVisible(chromedp.ID("mic")))
	b.shot("01-mic")
	b.do("talk", chromedp.Click(chromedp.ID("mic")),
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"visitor") and not(contains(@class,"pending")) and contains(., "what are the opening hours")]`)),
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"bot") and contains(., "Tuesday")]`)))
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.dataset.audioChunks || "0"`))
		if err == nil && n != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reply's audio never played")
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.shot("02-heard-and-answered")
	// The looped recording asks again while the reply is still being spoken.
	for {
		n, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.dataset.bargeIns || "0"`))
		if err == nil && n != "0" {
			break
		}
		// The recording loops every few seconds; on a loaded machine (the whole suite under
		// -race) the first repeats can land between replies, so wait for several loops.
		if time.Now().After(deadline.Add(60 * time.Second)) {
			t.Fatal("no barge-in when the visitor spoke during the reply")
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.shot("03-barge-in")
}

// A question the content does not hold, heard badly, ends in a repair on the visitor screen:
// the reply says it did not catch it and offers the likeliest reading as a suggestion, which a
// tap asks as typed text. The recording (espeak-ng) is one the recognizer mishears.
//
// It runs only when asked (VOICEBOT_BROWSER_REPAIR=1): whether a loop of the fake microphone
// ends in a repair or in the grammar's nearest sentence depends on where the voice detector cuts
// it, and under the whole suite with -race no loop within the tab's 90 s did (the clean-clone CI
// run of d804e37); alone it passed 4 runs of 4 in 6 – 80 s. The repair itself is tested without
// the browser (TestSpokenReadingsChosenByMeaning, TestRepairOffersTheContentsPhrasing,
// TestSpokenVisitorQuestions).
func TestVisitorScreenRepairOffer(t *testing.T) {
	if os.Getenv("VOICEBOT_BROWSER_REPAIR") == "" {
		t.Skip("set VOICEBOT_BROWSER_REPAIR=1 to watch a repair on the visitor screen in Chromium")
	}
	needSpeechTools(t)
	exe := chromium(t)
	a := startVoice(t, Options{VisitorUI: os.DirFS(visitorUI(t))})
	key := newKey(t, a, keysSpec("chat", "voice"))
	rec := record(t, []string{"can i bring my bicycle inside"}, speakers[:1])[0][0]
	b0, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	q, err := voice.DecodeWAV(b0)
	if err != nil {
		t.Fatal(err)
	}
	q = voice.Resample(q, voice.SampleRate)
	// The fake microphone loops the file: the question every few seconds. Where the voice
	// detector cuts it varies a little from loop to loop, and with it what is heard (a fresh
	// decoder's first utterance is decoded again whole); the test waits for a loop that ends in
	// a repair, which most do.
	samples := append(append(make([]int16, voice.SampleRate), q.Samples...), make([]int16, 4*voice.SampleRate)...)
	b := micTab(t, exe, "visitor-repair", samples)
	defer b.close()
	b.do("open", chromedp.Navigate("http://"+a.Addr()+"/#key="+key), chromedp.WaitVisible(chromedp.ID("mic")))
	b.do("talk", chromedp.Click(chromedp.ID("mic")),
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"bot") and contains(@class,"repair") and contains(., "Did you ask")]`)),
		chromedp.WaitVisible(chromedp.Search(`//button[contains(@class,"suggestion")]`)))
	offer := b.text(`#suggestions button.suggestion`)
	repair := b.text(`li.msg.bot.repair`)
	if offer == "" || !strings.Contains(repair, offer) {
		t.Fatalf("the repair %q does not offer %q", repair, offer)
	}
	b.shot("01-repair-offered")
	b.do("tap the offer", chromedp.Click(chromedp.Search(`//button[contains(@class,"suggestion")]`)),
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"visitor") and .="`+offer+`"]`)),
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"visitor") and .="`+offer+`"]/following-sibling::li[contains(@class,"bot") and not(contains(@class,"pending"))]`)))
	b.shot("02-offer-asked")
}

// micTab is a Chromium tab whose fake microphone plays the samples (16 kHz), looped.
func micTab(t *testing.T, exe, name string, samples []int16) *tab {
	t.Helper()
	wav := filepath.Join(t.TempDir(), "mic.wav")
	if err := os.WriteFile(wav, voice.EncodeWAV(voice.Audio{Rate: voice.SampleRate, Samples: samples}), 0o644); err != nil {
		t.Fatal(err)
	}
	return newTab(t, exe, name,
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-audio-capture", wav),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
}
