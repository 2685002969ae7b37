package postgres

// Notifications between the appliances of one database: a key revoked or rotated on one is
// announced on KeyChannel when its transaction commits (apikeys.go), and every appliance
// listening drops the key from its verified-key cache at once, rather than after keys.CacheTTL.

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen calls fn with the payload of each notification on channel until ctx ends, on a
// connection of its own. When the connection is lost it reconnects (after a second, then up to
// 30 s apart) and calls resync first, since notifications sent meanwhile are lost: the caller
// forgets what it cached.
func (db *DB) Listen(ctx context.Context, channel string, fn func(payload string), resync func()) {
	wait := time.Second
	for first := true; ctx.Err() == nil; first = false {
		err := db.listenOnce(ctx, channel, fn, func() {
			wait = time.Second
			if !first {
				resync()
			}
		})
		if ctx.Err() != nil {
			return
		}
		slog.Warn("store notifications: connection lost, reconnecting", "channel", channel, "err", redactErr(err, ""), "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, channel string, fn func(string), listening func()) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// the connection leaves the pool: it stays LISTENing until it is closed
	c := conn.Hijack()
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	listening()
	for {
		n, err := c.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}
