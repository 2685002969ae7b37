package keys

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseKey: any string presented as a key (the Authorization header, the dashboard's sign-in,
// `voicebot keys revoke`) is accepted only in the documented form, vb_ + 32 base62 + a 6-character
// checksum of them, and then its id is its first 8 random characters; anything else is
// ErrMalformed or ErrChecksum, never a panic; and no single changed character of an accepted key
// is accepted (the checksum catches every typo).
func FuzzParseKey(f *testing.F) {
	for range 4 {
		k, err := Generate()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(k, 5, byte('x'))
		f.Add(k[:len(k)-1], 0, byte('A'))
	}
	f.Add("vb_", 0, byte(0))
	f.Add("not-a-key", 3, byte('_'))
	f.Add(strings.Repeat("a", 200), 100, byte('b'))
	f.Add("vb_"+strings.Repeat("0", 38), 4, byte('1'))
	f.Add("vb_"+strings.Repeat("é", 19), 4, byte(0xc3))
	f.Fuzz(func(t *testing.T, key string, at int, with byte) {
		id, err := Parse(key)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrChecksum) {
				t.Fatalf("an error other than malformed or checksum: %v", err)
			}
			if id != "" {
				t.Fatalf("an id %q with an error", id)
			}
			if errors.Is(err, ErrChecksum) && (len(key) != keyLen || !strings.HasPrefix(key, Prefix)) {
				t.Fatalf("%q: a checksum error for a key of the wrong form", key)
			}
			return
		}
		if len(key) != keyLen || !strings.HasPrefix(key, Prefix) || id != key[len(Prefix):len(Prefix)+idLen] {
			t.Fatalf("accepted %q with id %q", key, id)
		}
		for _, c := range key[len(Prefix):] {
			if !strings.ContainsRune(base62, c) {
				t.Fatalf("accepted %q with %q in it", key, c)
			}
		}
		if checksum(key[len(Prefix):len(Prefix)+randomLen]) != key[len(Prefix)+randomLen:] {
			t.Fatalf("accepted %q with a wrong checksum", key)
		}
		i := len(Prefix) + int(uint(at)%uint(keyLen-len(Prefix)))
		if with == key[i] {
			return
		}
		typo := key[:i] + string([]byte{with}) + key[i+1:]
		if _, err := Parse(typo); err == nil {
			t.Fatalf("%q accepted, and so is %q with one character changed", key, typo)
		}
	})
}
