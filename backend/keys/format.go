// Package keys issues and checks the API keys that LAN devices use: `vb_` + 32 random base62
// characters + a 6-character checksum. The checksum lets a typo or a truncated key be refused
// without a database lookup, and the fixed prefix lets a leaked key be recognised by secret
// scanners. Only the SHA-256 of a key is stored; it is compared in constant time.
package keys

import (
	"crypto/rand"
	"errors"
	"hash/crc32"
	"math/big"
	"strings"
)

const (
	// Prefix starts every key.
	Prefix     = "vb_"
	randomLen  = 32 // base62 characters: about 190 bits
	checkLen   = 6
	idLen      = 8 // the public id is the first characters of the random part
	base62     = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	keyLen     = len(Prefix) + randomLen + checkLen
	maxKeySize = 128 // longer input is refused before any work
)

// Errors of a key that is not well formed.
var (
	ErrMalformed = errors.New("key is malformed: a VoiceBot key looks like vb_ followed by 38 letters and digits")
	ErrChecksum  = errors.New("key checksum does not match: the key was mistyped or cut short")
)

// Generate returns a new random key.
func Generate() (string, error) {
	var b strings.Builder
	b.WriteString(Prefix)
	max := big.NewInt(62)
	for i := 0; i < randomLen; i++ {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b.WriteByte(base62[n.Int64()])
	}
	random := b.String()[len(Prefix):]
	b.WriteString(checksum(random))
	return b.String(), nil
}

func checksum(random string) string {
	c := uint64(crc32.ChecksumIEEE([]byte(random)))
	out := make([]byte, checkLen)
	for i := checkLen - 1; i >= 0; i-- {
		out[i] = base62[c%62]
		c /= 62
	}
	return string(out)
}

// Parse checks a key's form and checksum and returns its public id.
func Parse(key string) (id string, err error) {
	if len(key) > maxKeySize || len(key) != keyLen || !strings.HasPrefix(key, Prefix) {
		return "", ErrMalformed
	}
	body := key[len(Prefix):]
	for i := 0; i < len(body); i++ {
		if strings.IndexByte(base62, body[i]) < 0 {
			return "", ErrMalformed
		}
	}
	random, sum := body[:randomLen], body[randomLen:]
	if checksum(random) != sum {
		return "", ErrChecksum
	}
	return random[:idLen], nil
}
