package config

// The settings file is replaced through a temporary file of its own (never a fixed name), synced,
// renamed, and the folder synced (issue 16).

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestSaveIgnoresStaleTmp: a leftover settings.yaml.tmp (a folder, or a link an attacker
// planted to another file) neither breaks the save nor is written through.
func TestSaveIgnoresStaleTmp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(path, []byte("# operator's notes\nrate_limit: 60/m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path+".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, Settings{RateLimit: "120/m"}); err != nil {
		t.Fatalf("save beside a stale link: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me" {
		t.Errorf("the save wrote through the link: %q", b)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink != 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("the settings file: %v %v", fi.Mode(), err)
	}
	s, err := Load(path)
	if err != nil || s.RateLimit != "120/m" {
		t.Errorf("after the save: %+v %v", s, err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "# operator's notes") {
		t.Errorf("comments lost: %s", b)
	}
	os.Remove(path + ".tmp")
	if err := os.Mkdir(path+".tmp", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := SetValue(path, "log_level", "debug"); err != nil {
		t.Errorf("save beside a stale folder: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("temporary files left: %v", names)
	}
}

// TestConcurrentSaves: saves at the same time each replace the file whole; none fails.
func TestConcurrentSaves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.yaml")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- SetValue(path, "log_level", []string{"debug", "info", "warn", "error"}[i%4])
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent save: %v", err)
		}
	}
	if s, err := Load(path); err != nil || s.LogLevel == "" {
		t.Errorf("after concurrent saves: %+v %v", s, err)
	}
}
