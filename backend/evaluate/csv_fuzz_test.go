package evaluate

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzReadIntentCSV: any file given to `voicebot eval nlu` reads as rows or is refused with an
// error that names the file, never a panic; every row read has a label, trimmed; and the rows,
// written back as CSV with the columns text,label,lang, read back the same.
func FuzzReadIntentCSV(f *testing.F) {
	for _, s := range []string{
		"text,label\nwhat time do you open,opening_hours\nhow much,tickets\n",
		"\ufefftext,label,lang\n\"a, b\",x,en\n\"multi\nline\",y,es\n",
		"label,text\n x ,hello\n",
		"text,label\nonly one field\n",
		"text,label\nhello,\n",
		"text\nhello\n",
		"text,label\n\"unclosed,x\n",
		"",
		"TEXT , Label\na,b,c,d\n",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		path := filepath.Join(dir, "in.csv")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		rows, err := ReadIntentCSV(path)
		if err != nil {
			if !strings.HasPrefix(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(rows) == 0 {
			t.Fatal("no rows and no error")
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write([]string{"text", "label", "lang"})
		for _, r := range rows {
			if r.Label == "" || r.Label != strings.TrimSpace(r.Label) || r.Lang != strings.TrimSpace(r.Lang) {
				t.Fatalf("row %+v", r)
			}
			_ = w.Write([]string{r.Text, r.Label, r.Lang})
		}
		w.Flush()
		again := filepath.Join(dir, "again.csv")
		if err := os.WriteFile(again, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		rows2, err := ReadIntentCSV(again)
		if err != nil {
			t.Fatalf("rows written back do not read: %v\n%s", err, buf.Bytes())
		}
		if !slices.Equal(rows, rows2) {
			t.Fatalf("rows written back read differently:\n%q\n%q", rows, rows2)
		}
	})
}
