package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Identity names this store among others without revealing anything of its key: an HMAC of a
// fixed label under the store key (each store has a random key of its own), 128 bits in hex.
// `voicebot migrate` records it in PostgreSQL so that a copy resumed later is the copy of the same
// store, not of another appliance's file.
func (db *DB) Identity() string {
	key, _ := hex.DecodeString(db.hexKey)
	m := hmac.New(sha256.New, key)
	m.Write([]byte("voicebot store identity"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
