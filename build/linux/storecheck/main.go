// Command storecheck prints what an installed appliance's store holds, without migrating it: the
// schema version (PRAGMA user_version, the number of the last migration applied) and how many
// sessions and messages it keeps, as one JSON line. The package test (build/linux/test-package.sh)
// runs it as the service user, with the service stopped, before and after an upgrade, to see that
// the upgrade kept every row and that the new build migrated the store to its own version.
//
// voicebot's own commands cannot tell this: each opens the store through store.Open, which
// applies the build's migrations first. storecheck finds the key as the appliance does
// (store.LoadKey: VOICEBOT_STORE_KEY, the key file, the OS keyring) and opens the file through
// SQLite's Adiantum VFS with query_only set, so it never changes the store.
//
//	storecheck --data-dir /var/lib/voicebot/data --config-dir /var/lib/voicebot/keys
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
	_ "github.com/ncruces/go-sqlite3/vfs/adiantum" // the store's encryption, as the "adiantum" VFS

	"voicebot/backend/paths"
	"voicebot/backend/store"
)

type report struct {
	Schema   int `json:"schema"`
	Sessions int `json:"sessions"`
	Messages int `json:"messages"`
}

func main() {
	dataDir := flag.String("data-dir", "", "the appliance's data folder (holds voicebot.db)")
	configDir := flag.String("config-dir", "", "the appliance's config folder (holds the store's key file)")
	flag.Parse()
	if *dataDir == "" || *configDir == "" {
		fmt.Fprintln(os.Stderr, "usage: storecheck --data-dir DIR --config-dir DIR")
		os.Exit(2)
	}
	r, err := check(context.Background(), *dataDir, *configDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "storecheck:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

func check(ctx context.Context, dataDir, configDir string) (report, error) {
	var r report
	file := paths.StoreFile(dataDir)
	if _, err := os.Stat(file); err != nil {
		return r, err // LoadKey would make a new key for a store that is not there
	}
	key, _, err := store.LoadKey(paths.KeyFile(configDir, dataDir), file)
	if err != nil {
		return r, err
	}
	db, err := driver.Open("file:"+filepath.ToSlash(file)+"?vfs=adiantum", func(c *sqlite3.Conn) error {
		return c.Exec("PRAGMA hexkey='" + hex.EncodeToString(key) + "'; PRAGMA query_only=1;")
	})
	if err != nil {
		return r, err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&r.Schema); err != nil {
		return r, fmt.Errorf("read %s: %w", file, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages)").Scan(&r.Sessions, &r.Messages); err != nil {
		return r, fmt.Errorf("count rows of %s: %w", file, err)
	}
	return r, nil
}
