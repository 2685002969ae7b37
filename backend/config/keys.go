package config

import (
	"fmt"
	"slices"
	"strings"
)

// KeyCombo is a key combination such as Ctrl+Alt+Shift+Q: modifiers and one key, as the
// desktop window's page matches it against KeyboardEvent (ctrlKey, altKey, shiftKey, metaKey
// and the key's code, e.g. "KeyQ", "Digit1", "F12").
type KeyCombo struct {
	Ctrl  bool   `json:"ctrl"`
	Alt   bool   `json:"alt"`
	Shift bool   `json:"shift"`
	Meta  bool   `json:"meta"`
	Code  string `json:"code"`
}

// ParseKeys reads a combination written as modifiers and a key joined by "+": Ctrl, Alt,
// Shift, Meta (or Super) and a letter, a digit or F1-F12. At least two modifiers are required
// so that a visitor cannot hit it by chance.
func ParseKeys(s string) (KeyCombo, error) {
	var k KeyCombo
	parts := strings.Split(s, "+")
	mods := 0
	for i, p := range parts {
		p = strings.TrimSpace(p)
		last := i == len(parts)-1
		switch strings.ToLower(p) {
		case "ctrl", "control":
			k.Ctrl, mods = true, mods+1
			continue
		case "alt":
			k.Alt, mods = true, mods+1
			continue
		case "shift":
			k.Shift, mods = true, mods+1
			continue
		case "meta", "super", "win":
			k.Meta, mods = true, mods+1
			continue
		}
		if !last {
			return k, fmt.Errorf("key combination %q: %q is not a modifier (Ctrl, Alt, Shift, Meta)", s, p)
		}
		u := strings.ToUpper(p)
		switch {
		case len(u) == 1 && u[0] >= 'A' && u[0] <= 'Z':
			k.Code = "Key" + u
		case len(u) == 1 && u[0] >= '0' && u[0] <= '9':
			k.Code = "Digit" + u
		case slices.Contains([]string{"F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11", "F12"}, u):
			k.Code = u
		default:
			return k, fmt.Errorf("key combination %q: end with a letter, a digit or F1-F12", s)
		}
	}
	if k.Code == "" {
		return k, fmt.Errorf("key combination %q: no key after the modifiers", s)
	}
	mods = 0 // a modifier named twice (Ctrl+Control, Meta+Super) is still one key to hold
	for _, on := range []bool{k.Ctrl, k.Alt, k.Shift, k.Meta} {
		if on {
			mods++
		}
	}
	if mods < 2 {
		return k, fmt.Errorf("key combination %q: use at least two modifiers, e.g. Ctrl+Alt+Shift+Q", s)
	}
	return k, nil
}
