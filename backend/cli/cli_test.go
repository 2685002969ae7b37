package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := Root()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// TestEvalNLUJSONContract checks the keys other tools read from `eval nlu --json`.
func TestEvalNLUJSONContract(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	test := filepath.Join(dir, "test.csv")
	os.WriteFile(train, []byte("text,label\nwhen do you open,hours\nopening hours,hours\nwhat time do you close,hours\nhow much is a ticket,tickets\nticket price,tickets\nentry cost,tickets\n"), 0o644)
	os.WriteFile(test, []byte("text,label\nwhen do you close,hours\nhow much for a ticket,tickets\n"), 0o644)
	out, err := run(t, "", "eval", "nlu", "--train", train, "--test", test, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("stdout is not one JSON object: %q", out)
	}
	for _, k := range []string{"in_scope_accuracy", "oos_recall", "macro_f1", "train_seconds", "p50_us", "p99_us", "n_test"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing key %s in %s", k, out)
		}
	}
	if m["oos_recall"] != nil {
		t.Errorf("oos_recall must be null without oos rows: %v", m["oos_recall"])
	}
	if _, err := run(t, "", "eval", "nlu", "--train", filepath.Join(dir, "nope.csv"), "--test", test); err == nil {
		t.Error("missing training file: no error")
	}
}

func TestEvalRetrievalJSONContract(t *testing.T) {
	dir := t.TempDir()
	c := filepath.Join(dir, "c.jsonl")
	q := filepath.Join(dir, "q.jsonl")
	r := filepath.Join(dir, "r.tsv")
	os.WriteFile(c, []byte(`{"_id":"1","title":"Lens","text":"The lens weighs six tonnes."}`+"\n"), 0o644)
	os.WriteFile(q, []byte(`{"_id":"a","text":"lens weight"}`+"\n"), 0o644)
	os.WriteFile(r, []byte("query-id\tcorpus-id\tscore\na\t1\t1\n"), 0o644)
	out, err := run(t, "", "eval", "retrieval", "--corpus", c, "--queries", q, "--qrels", r, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("stdout is not one JSON object: %q", out)
	}
	for _, k := range []string{"ndcg_at_10", "recall_at_100", "mrr_at_10", "index_seconds", "p50_us", "p99_us"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing key %s", k)
		}
	}
}

func TestChatOnTheDemo(t *testing.T) {
	out, err := run(t, "what are the opening hours\nand on sunday?\n/quit\n", "chat")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Mira: Hello", "Tuesday to Friday", "On Sundays we're open 10:00 to 15:00", "intent opening_hours"} {
		if !strings.Contains(out, want) {
			t.Errorf("chat output lacks %q:\n%s", want, out)
		}
	}
	if _, err := run(t, "", "chat", "--content", t.TempDir()); err == nil || !strings.Contains(err.Error(), "bot.yaml") {
		t.Errorf("empty content folder: %v", err)
	}
}
