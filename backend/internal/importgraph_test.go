// Package internal holds no code of its own: this test checks the import rules of
// docs/ARCHITECTURE.md ("Imports flow one way") on the packages as they are.
package internal

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// A rule says what the packages matching pkg must not depend on. A pattern ending in /... also
// matches every package below it. Dependencies are transitive (go list's Deps) unless direct is
// set, when only the package's own imports count (cli reaches dashboard through appliance, as it
// should, but must not import it itself).
type rule struct {
	pkg    string
	direct bool
	not    []string // import paths or patterns it must not depend on
	only   []string // when set, the only packages of this module it may depend on
	except []string // dependencies allowed despite not, each with its reason in the comment
	why    string
}

const mod = "voicebot/"

var rules = []rule{
	{pkg: "voicebot/backend/text", only: []string{}, why: "text is a leaf"},
	{pkg: "voicebot/backend/templates", only: []string{"voicebot/backend/text"}, why: "templates is a leaf over text"},
	{pkg: "voicebot/backend/internal/strictyaml", only: []string{}, why: "strictyaml is a leaf"},
	{pkg: "voicebot/backend/config", only: []string{"voicebot/backend/paths", "voicebot/backend/internal/strictyaml"},
		why: "config is below keys and everything that reads settings (ParseRate lives in config)"},
	{pkg: "voicebot/backend/content/...", not: []string{"voicebot/backend/conversation/..."},
		why: "the engine is built from a content pack, not the other way: content uses backend/templates and backend/text"},
	{pkg: "voicebot/backend/voice/...", not: []string{"voicebot/backend/conversation/..."},
		// wordvec is a leaf of data (the word vectors) that sphinx reads its common English words
		// from; it still lives under conversation/ (see ARCHITECTURE.md).
		except: []string{"voicebot/backend/conversation/wordvec"},
		why:    "voice builds on content, templates and text, never on the engine"},
	{pkg: "voicebot/backend/cli", direct: true, not: []string{"voicebot/backend/dashboard", "voicebot/backend/httpapi"},
		why: "cli reaches the server through appliance; dashboard-link makes its link with store.CreateLink"},
	{pkg: "voicebot/backend/conversation/...", not: []string{"voicebot/backend/store/...", "voicebot/backend/history",
		"voicebot/backend/keys", "voicebot/backend/httpapi", "voicebot/backend/dashboard", "voicebot/backend/appliance",
		"voicebot/backend/voice/...", "net/http", "github.com/a-h/templ/..."},
		why: "the engine never imports a store, HTTP or templ"},
	{pkg: "voicebot/backend/...", not: []string{"voicebot/app/...", "voicebot/backend/cli/...", "github.com/wailsapp/...", "fyne.io/systray/..."},
		why: "nothing under backend imports cli or app, and only app imports Wails and systray"},
}

type pkgInfo struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Error      *struct{ Err string }
}

func matches(pattern, path string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

func TestImportsFlowOneWay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	out, err := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,Deps,Error", mod+"...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkgInfo
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p pkgInfo
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Error != nil {
			t.Fatalf("%s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	for _, r := range rules {
		seen := false
		for _, p := range pkgs {
			if !matches(r.pkg, p.ImportPath) {
				continue
			}
			seen = true
			deps := p.Deps
			if r.direct {
				deps = p.Imports
			}
			for _, d := range deps {
				if d == p.ImportPath || slices.Contains(r.except, d) {
					continue
				}
				bad := slices.ContainsFunc(r.not, func(n string) bool { return matches(n, d) })
				if r.only != nil && strings.HasPrefix(d, mod) && !slices.Contains(r.only, d) {
					bad = true
				}
				if bad {
					how := "depends on"
					if slices.Contains(p.Imports, d) {
						how = "imports"
					}
					t.Errorf("%s %s %s: %s", p.ImportPath, how, d, r.why)
				}
			}
		}
		if !seen {
			t.Errorf("rule for %s matches no package: update the rule with the package map", r.pkg)
		}
	}
}
