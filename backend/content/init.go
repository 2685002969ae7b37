package content

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing/fstest"
)

// blankBot, blankIntents and blankKnowledge are the files of a new, nearly empty pack: valid as
// they are (Load accepts them), with comments that say what to write where.
const blankBot = `# The assistant's settings. docs/CONTENT.md explains every key.
name: Assistant
languages: [en]
greeting: "Hello! How can I help?"
fallback:
  - "Sorry, I didn't catch that. Could you say it another way?"
handoff: "I'm sorry I can't help with that. Please ask a member of staff."
`

const blankIntents = `# English intents: templates match exactly (case, accents and punctuation ignored); examples
# and template expansions train the intent model. Add intents below, one per thing visitors ask.
language: en

intents:
  greeting:
    templates:
      - "(hello|hi|hey) [there]"
    examples:
      - "good morning"
      - "hello, is anyone there"
    responses:
      - "Hello! How can I help?"

  # opening_hours:
  #   examples:
  #     - "when are you open"
  #     - "what time do you close"
  #   responses:
  #     - "We're open every day from 9:00 to 17:00."

  thanks:
    examples:
      - "thank you"
      - "thanks a lot"
      - "that was helpful"
    responses:
      - "You're welcome!"

# Phrasings that are not for this assistant: they teach the intent model what to leave to the
# documents and the fallback.
# out_of_scope:
#   - "what is the capital of France"
`

// Blank is a minimal valid pack: bot.yaml, intents/en.yaml with two intents and a commented
// example, and an empty knowledge/ folder for documents (Markdown, text or HTML, answered by
// search when no intent answers). content init --from blank writes it.
func Blank() fs.FS {
	return fstest.MapFS{
		"bot.yaml":        {Data: []byte(blankBot), Mode: 0o644},
		"intents/en.yaml": {Data: []byte(blankIntents), Mode: 0o644},
		"knowledge":       {Mode: fs.ModeDir | 0o755},
	}
}

// ErrNotEmpty is returned by Init for a folder that already has files.
var ErrNotEmpty = errors.New("folder is not empty")

// Init writes the pack in from into dir, which must be missing or empty (nothing is
// overwritten), and returns the number of files written. The copy is editable: files 0644,
// folders 0755.
func Init(dir string, from fs.FS) (int, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return 0, fmt.Errorf("%s: %w (it has %s): choose a new or empty folder, nothing was written", dir, ErrNotEmpty, entries[0].Name())
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	n := 0
	err := fs.WalkDir(from, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := fs.ReadFile(from, p)
		if err != nil {
			return err
		}
		n++
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return n, fmt.Errorf("write the pack into %s: %w", dir, err)
	}
	return n, nil
}
