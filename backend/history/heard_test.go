package history

// Voice turns in the history: what was heard goes with the visitor's message, a repair's offered
// reading with the bot's, and both come back from the transcript and the export.

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"voicebot/backend/conversation"
)

// TestVoiceTurnRoundTrip puts a typed turn, a voice turn answered and a voice turn repaired through
// the SessionStore, reopens the store and reads them back.
func TestVoiceTurnRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	ctx := context.Background()
	db, _, h := open(t, path)
	now := time.Now()
	st := &conversation.State{ID: conversation.NewSessionID(), Lang: "en", Created: now, Updated: now}
	heard := &conversation.Heard{Transcript: "what time do you open", Confidence: 0.82, Alternatives: []string{"what time do you close", "what type do you own"}}
	repair := &conversation.Heard{Transcript: "where is the phone number", Confidence: 0.31, Alternatives: []string{"where is the cafe"}}
	turns := []*conversation.Turn{
		{Visitor: "is there wifi", Reply: conversation.Reply{Text: "Yes.", Lang: "en", Kind: conversation.KindIntent, Intent: "wifi", Confidence: 1}},
		{Visitor: heard.Transcript, Heard: heard, Reply: conversation.Reply{Text: "We open at ten.", Lang: "en", Kind: conversation.KindIntent, Intent: "opening_hours", Confidence: 0.9, Heard: heard}},
		{Visitor: repair.Transcript, Heard: repair, Reply: conversation.Reply{Text: "Sorry, I didn't catch that. Did you ask about the phone number?", Lang: "en", Kind: conversation.KindRepair, Offer: "what is the phone number", Heard: repair}},
	}
	for i, turn := range turns {
		st.Turns = i + 1
		turn.At = now
		if err := h.Put(ctx, st, turn); err != nil {
			t.Fatalf("put turn %d: %v", i+1, err)
		}
	}
	db.Close()

	db2, _, h2 := open(t, path)
	defer db2.Close()
	msgs, err := h2.Messages(ctx, st.ID)
	if err != nil || len(msgs) != 6 {
		t.Fatalf("transcript: %d messages, %v", len(msgs), err)
	}
	if msgs[0].Heard != nil || msgs[1].Heard != nil || msgs[1].Offer != "" {
		t.Errorf("the typed turn reads as spoken: %+v / %+v", msgs[0], msgs[1])
	}
	if !reflect.DeepEqual(msgs[2].Heard, heard) || msgs[2].Text != heard.Transcript {
		t.Errorf("the voice turn: heard %+v, want %+v", msgs[2].Heard, heard)
	}
	if msgs[3].Heard != nil || msgs[3].Offer != "" || msgs[3].Intent != "opening_hours" {
		t.Errorf("the answer to the voice turn: %+v", msgs[3])
	}
	if !reflect.DeepEqual(msgs[4].Heard, repair) {
		t.Errorf("the repaired turn: heard %+v, want %+v", msgs[4].Heard, repair)
	}
	if msgs[5].Kind != conversation.KindRepair || msgs[5].Offer != "what is the phone number" {
		t.Errorf("the repair: kind %q, offer %q", msgs[5].Kind, msgs[5].Offer)
	}
	x, err := h2.Export(ctx, st.ID, "cli", "")
	if err != nil || !reflect.DeepEqual(x.Messages[2].Heard, heard) || x.Messages[5].Offer != "what is the phone number" {
		t.Errorf("export: %v", err)
	}
}
