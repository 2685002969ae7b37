package conversation

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"voicebot/backend/content"
	"voicebot/backend/conversation/nlu"
	"voicebot/backend/templates"
	"voicebot/backend/text"
)

// matchTemplate returns the intent with a template that matches exactly. When templates of
// several intents match, the most literal wins, the one that fills the fewest slots: "is there
// a cafe" is the cafe intent's own sentence before it is where_is's "is there a {place}"; among
// equals, the first in file order.
func (lb *langBrain) matchTemplate(toks []string) (*content.Intent, map[string]string, bool) {
	if lb == nil || len(toks) == 0 {
		return nil, nil, false
	}
	var best *content.Intent
	var bestSlots map[string]string
	for _, in := range lb.intents {
		for _, t := range in.Templates {
			if slots, ok := t.Match(toks, lb.lists); ok && (best == nil || len(slots) < len(bestSlots)) {
				best, bestSlots = in, slots
				if len(slots) == 0 {
					return best, bestSlots, true
				}
			}
		}
	}
	return best, bestSlots, best != nil
}

// extractSlots finds values of the intent's slots anywhere in the tokens, longest phrase first,
// and reports how many tokens they cover.
func extractSlots(in *content.Intent, lists templates.Lists, toks []string) (map[string]string, []bool) {
	used := make([]bool, len(toks))
	found := map[string]string{}
	if in == nil {
		return found, used
	}
	type cand struct {
		slot, value string
		at, n       int
	}
	var cands []cand
	for _, name := range in.SlotOrder {
		for _, v := range lists[in.Slots[name].List] {
			for _, ph := range v.Phrases {
				for i := 0; i+len(ph) <= len(toks); i++ {
					if equalTokens(toks[i:i+len(ph)], ph) {
						cands = append(cands, cand{name, v.Value, i, len(ph)})
					}
				}
			}
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].n > cands[j].n })
	for _, c := range cands {
		if _, done := found[c.slot]; done {
			continue
		}
		free := true
		for k := c.at; k < c.at+c.n; k++ {
			free = free && !used[k]
		}
		if !free {
			continue
		}
		for k := c.at; k < c.at+c.n; k++ {
			used[k] = true
		}
		found[c.slot] = c.value
	}
	return found, used
}

func equalTokens(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// followUp answers "and on Sunday?" after an opening-hours answer: an utterance that says little
// but values for the last intent's slots re-asks that intent with those values. An elliptical
// question ("what about for seniors?", "¿y para jubilados?") is read against the last intent too,
// unless the model is sure it asks something else.
func (s *Snapshot) followUp(st *State, lb *langBrain, toks []string, pred nlu.Prediction) (Reply, bool) {
	last := lb.byName[st.LastIntent]
	if last == nil {
		return Reply{}, false
	}
	found, used := extractSlots(last, lb.lists, toks)
	if len(found) == 0 {
		// Elliptical: the model is not sure of another intent (or the last intent's phrasings
		// say all the question adds: saysAll), and what the question adds is not foreign to the
		// intents ("what about the capital of France" is not a follow-up).
		// A question that points back with a pronoun at what the last answer says ("is it
		// free?" after a study room's answer that says so) asks of it, whatever the words'
		// strangeness to the phrasings (followsUp).
		if followsUp(lb, st, last, toks, pred) {
			return s.answerIntent(st, lb, last, cloneMap(st.Slots), 1, "followup", false), true
		}
		return Reply{}, false
	}
	residual := 0
	for i, t := range toks {
		if !used[i] && !text.IsStopword(lb.lang, t) && !fillerWords[text.Base(lb.lang)][t] {
			residual++
		}
	}
	if residual > 0 && !(residual <= 2 && pred.Label == last.Name) {
		return Reply{}, false
	}
	slots := cloneMap(st.Slots)
	if slots == nil {
		slots = map[string]string{}
	}
	for k, v := range found {
		slots[k] = v
	}
	return s.answerIntent(st, lb, last, slots, 1, "followup", false), true
}

// followUpOpenings are how a question that leans on the previous one begins.
var followUpOpenings = map[string][][]string{
	"en": {{"what", "about"}, {"how", "about"}, {"and"}, {"what", "if"}, {"same", "for"}, {"also"}},
	"es": {{"y"}, {"que", "tal"}, {"tambien"}, {"lo", "mismo"}},
	"fr": {{"et"}, {"et", "pour"}, {"qu", "en", "est", "il"}, {"pareil", "pour"}, {"aussi"}}, // "qu'en est-il", folded (text.elided)
	"de": {{"und"}, {"was", "ist", "mit"}, {"wie", "ist", "es", "mit"}, {"auch"}},
	// Not a bare "e" in Italian or Portuguese: "è" and "é" ("is") fold to it, and "è aperto la
	// domenica?" after a ticket question was read as a follow-up of the ticket prices.
	"it": {{"e", "per"}, {"che", "mi", "dici", "di"}, {"anche"}},
	"pt": {{"e", "para"}, {"e", "quanto", "a"}, {"tambem"}},
}

// elliptical reports whether an utterance is a short question that begins as a follow-up does
// ("what about for seniors?", "¿y los domingos?").
func elliptical(lang string, toks []string) bool {
	for _, o := range followUpOpenings[text.Base(lang)] {
		// six words at most, the opening counted as one ("qu'en est-il" is four tokens)
		if len(toks) > len(o) && len(toks)-len(o) <= 5 && hasPrefixWords(toks, o) {
			return true
		}
	}
	return false
}

// courtesies are the words a visitor says next to the assistant's name when calling it by name
// ("hey Mira", "thanks Mira", "thank you Mira"), folded.
var courtesies = map[string]map[string]bool{
	"en": set("hey hi hello hiya ok okay thanks thank you cheers bye goodbye please good morning afternoon evening night"),
	"es": set("hola oye gracias vale adios buenos buenas dias tardes noches por favor"),
	"fr": set("bonjour salut merci ok au revoir bonsoir svp"),
	"de": set("hallo hi hey danke ok tschuss guten morgen tag abend bitte"),
	"it": set("ciao salve grazie ok buongiorno buonasera arrivederci"),
	"pt": set("ola oi obrigado obrigada ok tchau adeus bom dia boa tarde noite"),
}

// withoutName leaves out the assistant's name where a visitor calls it by name: the first
// words after courtesies ("Mira, where is the café?", "hey Mira what time do you close"), or the
// last after one ("thanks Mira", "ok Mira bye" keeps "bye"). "thanks mira" was the bot's
// identity (its answer says "I'm Mira"), "hey mira what time do you close today" a greeting. A
// turn that is the name alone, or a name that is a word of the content (langBrain.name), is
// kept.
func withoutName(lb *langBrain, toks []string) []string {
	n := len(lb.name)
	if n == 0 || len(toks) <= n {
		return toks
	}
	polite := courtesies[text.Base(lb.lang)]
	i := 0
	for i < len(toks) && polite[toks[i]] {
		i++
	}
	if i+n <= len(toks) && slices.Equal(toks[i:i+n], lb.name) {
		return slices.Concat(toks[:i], toks[i+n:])
	}
	if end := len(toks) - n; polite[toks[end-1]] && slices.Equal(toks[end:], lb.name) {
		return toks[:end]
	}
	return toks
}

// pronouns point back at what was just answered ("how much would that be?", "c'est payant ?",
// "was kostet das?"), folded; French "c" is "ce" before a vowel (text.elided).
var pronouns = map[string]map[string]bool{
	"en": set("it that this they them those these"),
	"es": set("eso esto ello"),
	"fr": set("ca cela ceci c ce celui celle ceux celles"),
	"de": set("das dies diese dieser dieses ihn ihm"), // not "es": "gibt es ...?" asks anew
	"it": set("questo questa quello quella cio"),
	"pt": set("isso isto aquilo"),
}

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range text.Tokens(words) {
		m[w] = true
	}
	return m
}

// anaphoric reports whether a short question points back at the last answer with a pronoun and
// asks nothing of its own: no meaningful word, or none the last intent's phrasings or its answer
// (answerSays) do not say ("how much would that be?" after a late check-out; "is it free?"
// after an answer that says "free"; not "is it open today?" after the ticket prices, which asks
// of another intent). A question that begins as a follow-up does is elliptical instead.
func anaphoric(lb *langBrain, st *State, last *content.Intent, toks []string) bool {
	return withPronoun(lb.lang, toks) &&
		(len(contentWords(lb.lang, toks)) == 0 || saysAll(lb, last, toks) || answerSays(lb.lang, last, st.Slots, toks))
}

// withPronoun reports whether a question is short (six words or fewer) and has a pronoun of the
// language.
func withPronoun(lang string, toks []string) bool {
	if len(toks) > 6 {
		return false
	}
	table := pronouns[text.Base(lang)]
	return slices.ContainsFunc(toks, func(t string) bool { return table[t] })
}

// followsUp reports whether a question with no value of the last intent's slots is read against
// that intent: an elliptical or anaphoric one (see both) that the model does not place in another
// intent with confidence (unless the last intent's phrasings say all it adds) and that adds no
// word strange to every intent ("what about the capital of France" is not a follow-up), or one
// that points back at what the last answer says (pointsBack), whose words may be strange.
func followsUp(lb *langBrain, st *State, last *content.Intent, toks []string, pred nlu.Prediction) bool {
	back := pointsBack(lb, st, last, toks) // anaphoric too
	return (back || elliptical(lb.lang, toks) || anaphoric(lb, st, last, toks)) &&
		(!(pred.Label != nlu.OOS && pred.Label != last.Name && pred.Confidence >= elsewhereIntent) || saysAll(lb, last, toks)) &&
		(lb.model == nil || back || len(lb.unlisted(contentWords(lb.lang, lb.model.StrangeWords(strings.Join(toks, " "))))) == 0)
}

// pointsBack reports whether a short question points back with a pronoun at the last answer and
// asks of something that answer says ("is it free?" after "Study rooms are free to book"): the
// visitor asks about what was just said.
func pointsBack(lb *langBrain, st *State, last *content.Intent, toks []string) bool {
	return withPronoun(lb.lang, toks) && answerSays(lb.lang, last, st.Slots, toks)
}

// answerSays reports whether the intent's answers for the slots (as pickResponse chooses among
// them, placeholders left out) say every meaningful word of the question besides a follow-up's
// opening (as it is or as another form, the same stem), and there is one.
func answerSays(lang string, in *content.Intent, slots map[string]string, toks []string) bool {
	words := contentWords(lang, withoutOpening(lang, toks))
	if len(words) == 0 {
		return false
	}
	said := map[string]bool{}
	for _, r := range in.Responses {
		fits := true
		for k, v := range r.When {
			fits = fits && slots[k] == v
		}
		if !fits {
			continue
		}
		for _, w := range text.Tokens(varRe.ReplaceAllString(r.Text, " ")) {
			said[w], said[text.Stem(lang, w)] = true, true
		}
	}
	for _, w := range words {
		if !said[w] && !said[text.Stem(lang, w)] {
			return false
		}
	}
	return true
}

// withoutOpening drops a follow-up opening from the tokens ("and where is the cafe" -> "where
// is the cafe"), or returns them as they are.
func withoutOpening(lang string, toks []string) []string {
	for _, o := range followUpOpenings[text.Base(lang)] {
		if len(toks) > len(o) && hasPrefixWords(toks, o) {
			return toks[len(o):]
		}
	}
	return toks
}

// fillerWords are words a follow-up may carry besides slot values.
var fillerWords = map[string]map[string]bool{
	"en": {"and": true, "what": true, "about": true, "how": true, "also": true, "then": true, "please": true},
	"es": {"y": true, "que": true, "tal": true, "también": true, "tambien": true, "entonces": true, "por": true, "favor": true},
	"fr": {"et": true, "pour": true, "aussi": true, "alors": true, "s": true, "il": true, "vous": true, "plait": true},
	"de": {"und": true, "was": true, "ist": true, "mit": true, "auch": true, "dann": true, "bitte": true},
	"it": {"e": true, "per": true, "anche": true, "allora": true, "favore": true},
	"pt": {"e": true, "para": true, "tambem": true, "entao": true, "favor": true},
}

// answerIntent answers an intent, or asks for what it still needs: a missing required slot
// (a form), or a confirmation.
func (s *Snapshot) answerIntent(st *State, lb *langBrain, in *content.Intent, slots map[string]string, conf float64, via string, confirmed bool) Reply {
	st.LastIntent, st.Topic, st.Slots, st.Misses, st.Pending = in.Name, in.Name, slots, 0, nil
	r := Reply{Kind: KindIntent, Intent: in.Name, Confidence: round3(conf), Slots: slots, Via: via}
	for _, name := range in.SlotOrder {
		sl := in.Slots[name]
		if _, ok := slots[name]; sl.Required && !ok {
			st.Pending = &Pending{Intent: in.Name, Slot: name, Slots: cloneMap(slots)}
			r.Kind, r.Text = KindPrompt, s.render(sl.Prompt, slots)
			return r
		}
	}
	if in.Confirm != "" && !confirmed {
		st.Pending = &Pending{Intent: in.Name, Confirm: true, Slots: cloneMap(slots)}
		r.Kind, r.Text = KindConfirm, s.render(in.Confirm, slots)
		return r
	}
	r.Text = s.render(pickResponse(st, in, slots), slots)
	return r
}

// pickResponse prefers the responses whose conditions say the most about the slots, and rotates
// among equals so that a repeated question does not get the same words every time.
func pickResponse(st *State, in *content.Intent, slots map[string]string) string {
	best := -1
	var cands []string
	for _, r := range in.Responses {
		n := 0
		ok := true
		for k, v := range r.When {
			if slots[k] != v {
				ok = false
				break
			}
			n++
		}
		if !ok {
			continue
		}
		if n > best {
			best, cands = n, nil
		}
		if n == best {
			cands = append(cands, r.Text)
		}
	}
	if len(cands) == 0 {
		return in.Responses[0].Text
	}
	i := st.Rotation[in.Name] % len(cands)
	st.Rotation[in.Name]++
	return cands[i]
}

var varRe = regexp.MustCompile(`\{[^{}]*\}`)

// render fills {slot} and {bot} variables.
func (s *Snapshot) render(tmpl string, slots map[string]string) string {
	return varRe.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[1 : len(m)-1]
		if name == "bot" {
			return s.Pack.Bot.Name
		}
		return slots[name]
	})
}

// continuePending handles the answer to a question the bot asked. It returns done=false when the
// visitor moved on to something else, which is then answered as a new turn.
func (s *Snapshot) continuePending(st *State, lb *langBrain, utt string, toks []string) (Reply, bool) {
	p := st.Pending
	in := lb.byName[p.Intent]
	if in == nil {
		st.Pending = nil
		return Reply{}, false
	}
	answer := yesNo(lb.lang, toks)
	if p.Confirm {
		st.Pending = nil
		switch answer {
		case 1:
			return s.answerIntent(st, lb, in, p.Slots, 1, "confirm", true), true
		case -1:
			return s.cancelled(st, lb, in), true
		}
		return Reply{}, false
	}
	found, _ := extractSlots(in, lb.lists, toks)
	if len(found) > 0 {
		slots := cloneMap(p.Slots)
		if slots == nil {
			slots = map[string]string{}
		}
		for k, v := range found {
			slots[k] = v
		}
		return s.answerIntent(st, lb, in, slots, 1, "form", false), true
	}
	if answer == -1 || isCancel(lb.lang, toks) {
		st.Pending = nil
		return s.cancelled(st, lb, in), true
	}
	if _, _, ok := lb.matchTemplate(toks); ok || p.Asked >= 1 {
		st.Pending = nil // the visitor moved on
		return Reply{}, false
	}
	p.Asked++
	sl := in.Slots[p.Slot]
	return Reply{Kind: KindPrompt, Intent: in.Name, Slots: p.Slots, Text: s.render(sl.Prompt, p.Slots), Via: "form"}, true
}

func (s *Snapshot) cancelled(st *State, lb *langBrain, in *content.Intent) Reply {
	st.Pending = nil
	msg := in.Cancelled
	if msg == "" {
		msg = map[string]string{"es": "De acuerdo, lo dejamos.", "fr": "D'accord, on laisse tomber.", "de": "In Ordnung, dann lassen wir das.",
			"it": "D'accordo, lasciamo perdere.", "pt": "Está bem, deixamos isso."}[text.Base(lb.lang)]
		if msg == "" {
			msg = "All right, let's leave it."
		}
	}
	return Reply{Kind: KindCancelled, Intent: in.Name, Text: msg, Via: "confirm"}
}

var (
	yesWords = map[string][]string{
		"en": {"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "please", "please do", "correct", "right", "go ahead", "do it", "yes please", "of course", "absolutely", "sounds good"},
		"es": {"si", "sí", "vale", "claro", "de acuerdo", "correcto", "adelante", "por favor", "si por favor", "perfecto", "venga", "por supuesto", "ok"},
		"fr": {"oui", "ouais", "d'accord", "bien sûr", "volontiers", "exactement", "c'est ça", "allez-y", "ok", "oui merci"},
		"de": {"ja", "jawohl", "genau", "gerne", "klar", "natürlich", "in ordnung", "okay", "ok", "richtig", "ja bitte"},
		"it": {"sì", "si", "certo", "va bene", "d'accordo", "esatto", "volentieri", "ok", "sì grazie", "perfetto"},
		"pt": {"sim", "claro", "com certeza", "pode ser", "exato", "isso", "ok", "sim obrigado", "sim obrigada", "perfeito"},
	}
	noWords = map[string][]string{
		"en": {"no", "nope", "nah", "no thanks", "no thank you", "dont", "do not", "not now", "cancel", "stop", "never mind", "forget it"},
		"es": {"no", "no gracias", "mejor no", "cancela", "cancelar", "para", "dejalo", "déjalo", "olvidalo", "olvídalo", "ahora no"},
		"fr": {"non", "non merci", "pas maintenant", "annuler", "annule", "laisse tomber", "oublie"},
		"de": {"nein", "nein danke", "lieber nicht", "nicht jetzt", "abbrechen", "vergiss es", "stopp"},
		"it": {"no", "no grazie", "meglio di no", "non ora", "annulla", "lascia perdere", "lascia stare"},
		"pt": {"não", "nao", "não obrigado", "não obrigada", "agora não", "cancelar", "cancela", "esquece", "deixa para lá"},
	}
)

// yesNo reads a short answer: 1 yes, -1 no, 0 neither. The answer may be followed by a few
// words ("yes please", "no, thanks"), never by a new question.
func yesNo(lang string, toks []string) int {
	if len(toks) == 0 || len(toks) > 4 {
		return 0
	}
	for _, w := range noWords[text.Base(lang)] {
		if hasPrefixWords(toks, text.Tokens(w)) {
			return -1
		}
	}
	for _, w := range yesWords[text.Base(lang)] {
		if hasPrefixWords(toks, text.Tokens(w)) {
			return 1
		}
	}
	return 0
}

func isCancel(lang string, toks []string) bool {
	for _, t := range toks {
		if t == "cancel" || t == "cancela" || t == "cancelar" || t == "annuler" || t == "annule" || t == "abbrechen" || t == "annulla" {
			return true
		}
	}
	return false
}

func hasPrefixWords(toks, prefix []string) bool {
	if len(prefix) == 0 || len(prefix) > len(toks) {
		return false
	}
	return equalTokens(toks[:len(prefix)], prefix)
}

// fallback says what the bot can do, and after repeated misses hands off to a person.
func (s *Snapshot) fallback(st *State, lang string) Reply {
	st.Misses++
	st.LastIntent, st.Slots = "", nil
	bot := &s.Pack.Bot
	if st.Misses >= bot.HandoffAfter {
		st.Misses = 0
		return Reply{Kind: KindHandoff, Text: bot.Localized(bot.Handoff, lang)}
	}
	lines := bot.Fallback[lang]
	i := st.Rotation["\x00fallback"] % len(lines)
	st.Rotation["\x00fallback"]++
	return Reply{Kind: KindFallback, Text: lines[i]}
}

func round3(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }

// exampleFor returns the intent that lists the tokens as one of its examples, or nil.
func (lb *langBrain) exampleFor(toks []string) *content.Intent {
	if lb == nil || len(toks) == 0 {
		return nil
	}
	return lb.examples[strings.Join(toks, " ")]
}

// unlisted drops the words that are values of the language's lists (a slot value the model
// never saw in a sentence, such as "lockers" for the cloakroom, is still something the intents
// know about).
func (lb *langBrain) unlisted(words []string) []string {
	out := words[:0:0]
	for _, w := range words {
		if !lb.listed[w] {
			out = append(out, w)
		}
	}
	return out
}

// saysAll reports whether the last intent's phrasings say every meaningful word an elliptical
// question adds: then it asks that intent again, however sure the model is of another one.
// "and for children?" after the ticket prices is sure to be kids_families to the model, but
// the ticket intent's phrasings say "children" ("do children pay"): the price for children is
// asked. Follow-ups of the visitor sets: the third set 48 -> 49 of 55 (this one), the others
// unchanged.
func saysAll(lb *langBrain, last *content.Intent, toks []string) bool {
	return lb.model != nil && lb.model.Says(last.Name, strings.Join(withoutOpening(lb.lang, toks), " "))
}
