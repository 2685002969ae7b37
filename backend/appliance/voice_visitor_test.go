//go:build cgo && linux

package appliance

// Spoken visitor questions (issue 13): questions the demo can answer but does not list, and
// off-topic ones, spoken by voices and speeds that neither the demo corpus nor the tuning set
// uses, through POST /v1/voice on the real server. Each recording ends in one of three ways:
// the typed question's answer, a repair ("sorry, could you say that again?", or nothing heard),
// or a different answer. The recognizer's and the choice's settings are tuned on a separate set
// (TestSpokenVisitorTuning: other questions, the tuning voices), never on this one.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"voicebot/backend/text"
)

// spokenVisitorQuestions were written for this test, none of them in the demo pack (phrasings,
// template expansions: checked by notListed, which found 11 until 2026-12-02) nor in the
// engine's typed visitor sets; the typed question's answer, whatever it is, is the one the
// spoken question must get.
var spokenVisitorQuestions = []string{
	// opening hours, tickets, getting here
	"when do the doors close on saturday", "is the museum open this evening", "are you closed on mondays",
	"what are your hours on sunday", "how early can i get in", "are you open on christmas day",
	"how much is it to get in", "what's the price for a student", "do older people pay less",
	"how much for a family", "how expensive are the tickets", "is there a day when entry is free",
	"do residents get in for free", "can i buy tickets on the website", "do you accept cash",
	"where can i get a ticket", "what is the address of the museum", "where is the museum located",
	"what road is the museum on", "what's the best way to get here on the bus", "which bus route stops by the museum",
	"how far is the train station", "is there a tram stop close by", "is there a car park near the museum",
	"where can i park my bike", "how much does parking cost",
	// in the building
	"can i get around in a wheelchair", "is the building accessible for disabled people",
	"do you lend wheelchairs to visitors", "where can i find a toilet", "which floor is the maritime gallery on",
	"where do i hang my coat", "how do i leave the building", "is there a lift to the first floor",
	"where can i ask for information", "can i get something to eat here", "is the cafe open for lunch",
	"do you have vegan food", "does the museum have a shop", "can i buy a poster of the exhibition",
	"until when is the cafe open", "does the shop sell books", "can i leave my suitcase somewhere",
	// tours, guides, rules
	"what time is the tour today", "are there tours for families", "how much is a guided tour",
	"please book me on the highlights tour tomorrow", "do you have audio guides in french",
	"how much is the audio guide", "are photos allowed in the museum", "can i use my camera",
	"is it ok to take selfies", "is my dog welcome inside", "are pets allowed inside",
	"can we eat our own sandwiches", "is there somewhere we can eat a packed lunch", "are drinks allowed in the galleries",
	"can i vape in the museum",
	// what to see
	"what exhibition is on now", "when does the river of light exhibition end",
	"is there a new exhibition this month", "what is there to see in the museum",
	"what are the best things to see", "what is the river of light exhibition about",
	"what's on the second floor",
	// families, groups, services
	"are there activities for kids", "is there a play area for children", "can i take my baby in a pram",
	"do you have discounts for school groups", "how do i book a group visit", "can i use the internet here",
	"what's the name of the wifi network", "i think i left my phone in a gallery", "has anyone found a black umbrella",
	"my son is missing", "how do i sign up for membership", "what does membership cost",
	"what's the phone number", "how do i email the museum", "how much time do people usually spend here",
	"is two hours enough", "i need to speak to someone", "could someone from the staff help me",
	"who am i talking to", "are you a computer", "hello, good morning", "thanks for your help",
	"okay goodbye",
	// the documents
	"how old is the museum", "when did the museum first open", "who designed the museum building",
	"what was the building before it was a museum", "where did the lighthouse lens come from",
	"which lighthouse did the lens come from", "are there ship models in the maritime gallery",
	"what is in the textile mills gallery", "when were the looms used",
	"what activities do you offer school classes", "how do i visit the library",
	"do i need an appointment for the archive", "can i donate my grandfather's medals",
	"would the museum like my old photographs", "can we get married at the museum",
	"can companies hire a room for a meeting", "how can i help as a volunteer",
	"what do volunteers do at the museum", "what happened to the aurora", "how big is the museum",
	"can i bring a big suitcase",
}

// spokenOffTopic are questions the demo has nothing for: they must end in a repair or the
// fallback, never in an answer.
var spokenOffTopic = []string{
	"what's the weather going to be like", "who won the football last night", "tell me a joke",
	"what is the capital of france", "how do i make pancakes", "call my mother",
	"set an alarm for seven", "what is the meaning of life", "how tall is mount everest",
	"order a pizza", "what's in the news today", "turn off the lights",
	"how many legs does a spider have", "recommend a good film", "what time is it in tokyo",
	"sing me a song", "how do you spell necessary", "what's my horoscope",
	"where can i buy cheap flights", "how old is the universe", "what is bitcoin worth",
	"can you fix my computer", "who wrote romeo and juliet", "what is the speed of light",
	"find me a dentist", "how do i lose weight", "what is the best phone to buy",
	"remind me to buy milk", "how far away is the moon", "translate hello into german",
}

// visitorSpeakers are voices and speeds that neither speakers (the demo corpus) nor
// tuningSpeakers use.
var visitorSpeakers = []speaker{
	{"espeak-ng en-gb+m3 150 wpm", func(text, out string) *exec.Cmd {
		return exec.Command("espeak-ng", "-v", "en-gb+m3", "-s", "150", "-w", out, text)
	}},
	{"espeak-ng en-us+f4 185 wpm", func(text, out string) *exec.Cmd {
		return exec.Command("espeak-ng", "-v", "en-us+f4", "-s", "185", "-w", out, text)
	}},
	{"flite kal16 1.0x", func(text, out string) *exec.Cmd {
		return exec.Command("flite", "-voice", "kal16", "-t", text, "-o", out)
	}},
	{"flite slt 0.9x", func(text, out string) *exec.Cmd {
		return exec.Command("flite", "-voice", "slt", "--setf", "duration_stretch=1.1", "-t", text, "-o", out)
	}},
}

// tuningVisitorSpeakers are the tuning voices with two more of espeak-ng's (its voices are the
// hardest for the recognizer, and the test has two of them), none of them the test's.
var tuningVisitorSpeakers = append(append([]speaker(nil), tuningSpeakers...),
	speaker{"espeak-ng en-gb-x-rp+m5 165 wpm", func(text, out string) *exec.Cmd {
		return exec.Command("espeak-ng", "-v", "en-gb-x-rp+m5", "-s", "165", "-w", out, text)
	}},
	speaker{"espeak-ng en-us+m2 195 wpm", func(text, out string) *exec.Cmd {
		return exec.Command("espeak-ng", "-v", "en-us+m2", "-s", "195", "-w", out, text)
	}},
)

// tuningVisitorQuestions and tuningOffTopic are the tuning counterparts: other questions, spoken
// by tuningVisitorSpeakers (TestSpokenVisitorTuning).
var tuningVisitorQuestions = []string{
	"when do you shut on fridays", "are you open late on thursday", "what are the opening times this week",
	"how much does an adult ticket cost", "is it cheaper for children", "do you do a family ticket",
	"can i pay with my phone", "where can someone get a ticket", "where exactly is the museum",
	"what's the nearest bus stop", "can i come by train", "is there parking for cars",
	"is the museum suitable for wheelchair users", "where is the nearest bathroom", "where can i leave my bag",
	"which way to the textile mills gallery", "is there anywhere to get a coffee", "what kind of food does the cafe serve",
	"can i buy souvenirs here", "when does the guided tour start", "are the tours in spanish",
	"can i hire an audio guide", "can i film in the galleries", "which exhibitions are showing now",
	"what is the permanent collection about", "is there anything for toddlers", "do schools get a discount",
	"is the wifi free", "my wallet has gone missing", "can dogs come in", "can i bring food in",
	"what do members get", "how can i get in touch", "how long should i spend here",
	"can i speak to a person please", "what should i call you", "good day to you", "that's very kind, thanks", "bye then",
	"who built the museum building", "when was the lighthouse lens made", "what is in the maritime gallery",
	"who worked in the textile mills", "do you have workshops for schools", "can i research my family in the archive",
	"i want to give an object to the museum", "can i hold a party at the museum", "how do i volunteer",
	"is smoking allowed", "what is the river of light exhibition",
}

var tuningOffTopic = []string{
	"what is the weather today", "play me some jazz", "what is two plus three", "who is the prime minister",
	"book a table at a restaurant", "how do i reset my password", "tell me the football scores",
	"what is the tallest building in the world", "how do i cook rice", "where is the nearest pharmacy",
	"what is the time in new york", "write me a poem",
}

// outcomes counts how spoken questions ended.
type outcomes struct{ total, typed, repair, different int }

func (o *outcomes) add(kind string) {
	o.total++
	switch kind {
	case "typed":
		o.typed++
	case "repair":
		o.repair++
	default:
		o.different++
	}
}

func (o outcomes) String() string {
	return fmt.Sprintf("%d recordings: typed answer %.1f%%, repair %.1f%%, different answer %.1f%%",
		o.total, pct(o.typed, o.total), pct(o.repair, o.total), pct(o.different, o.total))
}

// visitorResult is how the voice path did on the answerable and the off-topic questions.
type visitorResult struct {
	answerable outcomes
	offTopic   outcomes // typed = turned away (fallback or handoff), repair, different = answered
	misses     []string
}

// speakVisitors records every question in every voice and sends each through POST /v1/voice,
// in English.
func speakVisitors(t *testing.T, a *Appliance, answerable, offTopic []string, voices []speaker) visitorResult {
	return speakVisitorsIn(t, a, "en", answerable, offTopic, voices)
}

// speakVisitorsIn is speakVisitors in a language.
func speakVisitorsIn(t *testing.T, a *Appliance, lang string, answerable, offTopic []string, voices []speaker) visitorResult {
	t.Helper()
	key := newKey(t, a, keysSpec("chat", "voice"))
	questions := append(append([]string(nil), answerable...), offTopic...)
	wavs := record(t, questions, voices)
	var res visitorResult
	for qi, q := range questions {
		wantKey := typedAnswer(t, a, q, lang)
		for si, sp := range voices {
			r, got, gotKey := voiceAnswer(t, a, key, lang, wavs[qi][si])
			var end string
			switch {
			case r.status == 422 && r.code() == "no_speech", r.status == 200 && got.Reply.Kind == "repair":
				end = "repair"
			case r.status != 200:
				t.Fatalf("%s %q: %d %s", sp.name, q, r.status, r.body)
			case qi >= len(answerable) && (got.Reply.Kind == "fallback" || got.Reply.Kind == "handoff"):
				end = "typed"
			case qi < len(answerable) && gotKey == wantKey:
				end = "typed"
			default:
				end = "different"
			}
			if qi < len(answerable) {
				res.answerable.add(end)
			} else {
				res.offTopic.add(end)
			}
			if end != "typed" {
				res.misses = append(res.misses, fmt.Sprintf("%s: %s: %q heard %q -> %s (typed: %s)", end, sp.name, q, got.Transcript, gotKey, wantKey))
			}
		}
	}
	t.Logf("answerable questions (%d x %d voices): %s", len(answerable), len(voices), res.answerable)
	t.Logf("off-topic questions (%d x %d voices): %s (typed = fallback)", len(offTopic), len(voices), res.offTopic)
	for _, m := range res.misses {
		t.Log(m)
	}
	return res
}

// typedAnswer is what the text path answers to a question, as answerKey names it.
func typedAnswer(t *testing.T, a *Appliance, q, lang string) string {
	t.Helper()
	want, err := a.Engine.Try(q, lang)
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, s := range want.Sources {
		sources = append(sources, s.Title)
	}
	return answerKey(want.Kind, want.Intent, sources)
}

// voiceAnswer sends a recording through POST /v1/voice and returns the response's status, body
// and answer (as answerKey names it).
func voiceAnswer(t *testing.T, a *Appliance, key, lang, wav string) (resp, VoiceResult, string) {
	t.Helper()
	body, err := os.ReadFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, a, "POST", "/v1/voice?lang="+lang, key, string(body), "Content-Type", "audio/wav")
	var got VoiceResult
	_ = json.Unmarshal(r.body, &got)
	var sources []string
	for _, s := range got.Reply.Sources {
		sources = append(sources, s.Title)
	}
	return r, got, answerKey(got.Reply.Kind, got.Reply.Intent, sources)
}

// record makes a WAV file of every question in every voice, two processes at a time, and
// returns their paths by question and voice.
func record(t *testing.T, questions []string, voices []speaker) [][]string {
	t.Helper()
	dir := t.TempDir()
	wavs := make([][]string, len(questions))
	jobs := make(chan [2]int)
	errs := make(chan error, 2)
	for w := 0; w < 2; w++ {
		go func() {
			var first error
			for j := range jobs {
				out := filepath.Join(dir, fmt.Sprintf("%d-%d.wav", j[0], j[1]))
				if b, err := voices[j[1]].cmd(questions[j[0]], out).CombinedOutput(); err != nil && first == nil {
					first = fmt.Errorf("%s: %v\n%s", voices[j[1]].name, err, b)
				}
			}
			errs <- first
		}()
	}
	for qi := range questions {
		wavs[qi] = make([]string, len(voices))
		for si := range voices {
			wavs[qi][si] = filepath.Join(dir, fmt.Sprintf("%d-%d.wav", qi, si))
			jobs <- [2]int{qi, si}
		}
	}
	close(jobs)
	for w := 0; w < 2; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	return wavs
}

// The budgets for this set, and the floors held today (docs/BENCHMARKS.md: measured
// 43.3% typed, 22.2% different, 76.7% of the off-topic turned away on 2026-12-02 once the 11
// questions the pack turned out to list were replaced by unlisted ones, 42.9% typed after the
// answer search's lead over the documents, 46.3% typed, 22.9% different, 79.2% turned away
// once everyday words carried no answer; the budgets are not met).
const (
	budgetDifferent, budgetTyped, budgetTurnedAway = 5.0, 85.0, 90.0
	floorDifferent, floorTyped, floorTurnedAway    = 25.0, 44.0, 76.0
)

// notListed fails the test when a question of the sets is one the content lists (a template or
// an example, answered word for word): the sets are of questions visitors ask unprompted.
func notListed(t *testing.T, a *Appliance, lang string, sets ...[]string) {
	t.Helper()
	for _, set := range sets {
		for _, q := range set {
			// As spoken: no punctuation, so no clause of it is read alone ("hello, good
			// morning" is not the greeting template's "good morning").
			r, err := a.Engine.Try(strings.Join(text.Tokens(q), " "), lang)
			if err != nil {
				t.Fatal(err)
			}
			if r.Via == "template" || r.Via == "example" {
				t.Errorf("%q is listed in the demo (%s %s): the set is of questions it does not list", q, r.Via, r.Intent)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// TestSpokenVisitorQuestions measures the spoken visitor questions against the budgets
// and holds the floors above.
func TestSpokenVisitorQuestions(t *testing.T) {
	needSpeechTools(t)
	a := startVoice(t, Options{})
	for _, q := range spokenVisitorQuestions {
		if strings.ContainsAny(q, "0123456789") {
			t.Fatalf("%q: spell numbers out, a speaker says them", q)
		}
	}
	notListed(t, a, "en", spokenVisitorQuestions, spokenOffTopic)
	res := speakVisitors(t, a, spokenVisitorQuestions, spokenOffTopic, visitorSpeakers)
	res.hold(t, visitorFloors{floorDifferent, floorTyped, floorTurnedAway})
}

// visitorFloors are the figures a spoken visitor set must keep: at most different answers, at
// least typed answers and off-topic recordings turned away (percentages).
type visitorFloors struct{ different, typed, turnedAway float64 }

// hold logs the set's figures against the budgets and fails under the floors.
func (res visitorResult) hold(t *testing.T, f visitorFloors) {
	t.Helper()
	different := pct(res.answerable.different, res.answerable.total)
	typed := pct(res.answerable.typed, res.answerable.total)
	away := pct(res.offTopic.typed+res.offTopic.repair, res.offTopic.total)
	t.Logf("issue 13's budgets (set for the English set): different <= %.0f%% (%.1f%%), typed >= %.0f%% (%.1f%%), off-topic turned away >= %.0f%% (%.1f%%)",
		budgetDifferent, different, budgetTyped, typed, budgetTurnedAway, away)
	if different > f.different {
		t.Errorf("different answers: %.1f%% of the answerable recordings, held at <= %.0f%%", different, f.different)
	}
	if typed < f.typed {
		t.Errorf("typed answer: %.1f%% of the answerable recordings, held at >= %.0f%%", typed, f.typed)
	}
	if away < f.turnedAway {
		t.Errorf("off-topic turned away: %.1f%%, held at >= %.0f%%", away, f.turnedAway)
	}
}

// TestSpokenVisitorTuning is where the settings are chosen (VOICEBOT_VOICE_TUNING=1); it
// asserts nothing.
func TestSpokenVisitorTuning(t *testing.T) {
	if os.Getenv("VOICEBOT_VOICE_TUNING") == "" {
		t.Skip("set VOICEBOT_VOICE_TUNING=1 to measure the voice path on its tuning set")
	}
	needSpeechTools(t)
	a := startVoice(t, Options{})
	notListed(t, a, "en", tuningVisitorQuestions, tuningOffTopic)
	speakVisitors(t, a, tuningVisitorQuestions, tuningOffTopic, tuningVisitorSpeakers)
}

// A phrasing taught from a spoken question is heard by the recognizer's grammar after the
// reload: the same recording then comes back word for word and is answered by the taught intent.
func TestTaughtPhrasingIsHeard(t *testing.T) {
	needSpeechTools(t)
	a := startVoice(t, Options{ContentDir: copyDemoContent(t)})
	admin := newKey(t, a, keysSpec("admin"))
	key := newKey(t, a, keysSpec("chat", "voice"))
	const q = "can i bring my bicycle inside"
	wav := record(t, []string{q}, visitorSpeakers[3:])[0][0]
	body, err := os.ReadFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	ask := func() VoiceResult {
		r := do(t, a, "POST", "/v1/voice?lang=en", key, string(body), "Content-Type", "audio/wav")
		var got VoiceResult
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
			t.Fatalf("voice turn: %d %s", r.status, r.body)
		}
		return got
	}
	before := ask()
	t.Logf("before teaching: heard %q -> %s %s", before.Transcript, before.Reply.Kind, before.Reply.Intent)
	if r := post(t, a, "/v1/content/teach", admin, `{"text":"`+q+`","lang":"en","intent":"parking"}`); r.status != 201 {
		t.Fatalf("teach: %d %s", r.status, r.body)
	}
	var after VoiceResult
	waitUntil(t, "the taught phrasing heard word for word", func() bool {
		after = ask()
		return after.Transcript == q
	})
	if after.Reply.Kind != "intent" || after.Reply.Intent != "parking" {
		t.Errorf("after teaching: heard %q -> %s %s, want parking", after.Transcript, after.Reply.Kind, after.Reply.Intent)
	}
}
