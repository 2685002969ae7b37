package conversation

import (
	"context"
	"testing"

	vbembed "voicebot/embed"
)

func benchReply(b *testing.B, utterances []string, wantVia string) {
	e := demoEngine(b)
	ctx := context.Background()
	// check once that the path measured is the one named
	if r, _ := e.Reply(ctx, Request{Text: utterances[0]}); wantVia != "" && r.Via != wantVia {
		b.Fatalf("%q answered via %s, want %s", utterances[0], r.Via, wantVia)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Reply(ctx, Request{SessionID: "bench", Text: utterances[i%len(utterances)]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplyTemplate is a turn answered by an exact template match (the common case).
func BenchmarkReplyTemplate(b *testing.B) {
	benchReply(b, []string{"what are the opening hours", "where are the toilets", "how much is a ticket"}, "template")
}

// BenchmarkReplyModel is a turn the templates miss and the intent model answers.
func BenchmarkReplyModel(b *testing.B) {
	benchReply(b, []string{"do students get a discount", "is it ok to bring my dog inside", "can we come as a group of twenty"}, "model")
}

// BenchmarkReplyKnowledge is a turn answered from the documents, without the response cache.
func BenchmarkReplyKnowledge(b *testing.B) {
	e := demoEngine(b)
	ctx := context.Background()
	qs := []string{"who designed the renovation of the building", "when is the archive open", "can I hire the museum for a wedding"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Snapshot().cache.Purge()
		if r, err := e.Reply(ctx, Request{SessionID: "bench", Text: qs[i%len(qs)]}); err != nil || r.Kind != KindKnowledge {
			b.Fatalf("%v %+v", err, r)
		}
	}
}

// BenchmarkReplyFallback is an out-of-scope turn: every stage runs and none answers.
func BenchmarkReplyFallback(b *testing.B) {
	benchReply(b, []string{"what is the capital of France", "who won the football yesterday"}, "")
}

// BenchmarkReloadDemo is a whole content reload of the demo pack: parse, validate, train both
// languages' intent models, index the documents, swap (budget with the debounce: 1 s).
func BenchmarkReloadDemo(b *testing.B) {
	e := New(NewMemorySessions(10, 0))
	l := NewLoader(e, vbembed.DemoContent(), "demo")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := l.Reload(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResponseCache1000Writes adds 1,000 answers to the response cache (budget: 100 ms).
func BenchmarkResponseCache1000Writes(b *testing.B) {
	s := demoEngine(b).Snapshot()
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "en\x00question number " + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
	}
	r := Reply{Kind: KindKnowledge, Text: "The archive is open on Wednesdays and Thursdays.", Sources: []Source{{Title: "Library", Path: "knowledge/en/library.txt"}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, k := range keys {
			s.cache.Add(k, r)
		}
	}
}

// BenchmarkResponseCache1000Reads reads 1,000 cached answers (budget: 50 ms).
func BenchmarkResponseCache1000Reads(b *testing.B) {
	s := demoEngine(b).Snapshot()
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "en\x00question number " + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
		s.cache.Add(keys[i], Reply{Text: "x"})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, k := range keys {
			if _, ok := s.cache.Get(k); !ok {
				b.Fatal("miss")
			}
		}
	}
}
