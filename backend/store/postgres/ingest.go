package postgres

// Ingest of the kiosks that forward to this database from their local outbox (fleet: in their
// settings; the shipper is backend/fleet, the outbox backend/store/outbox.go). A batch is one
// transaction: the kiosk's row of fleet_appliances is locked, the rows above its high-water
// mark (shipped_seq) are applied in seq order, and the mark moves to the batch's last seq, so
// that a batch shipped twice is applied once. The rows written are stamped with the kiosk's
// appliance name.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"voicebot/backend/store"
)

// FleetAppliance is what the database knows of one kiosk that forwards to it.
type FleetAppliance struct {
	Appliance      string
	ShippedSeq     int64
	ShippedRows    int64
	FirstContactMs int64
	LastContactMs  int64
	LastShipMs     int64
	BacklogRows    int64 // left in its outbox at its last contact
	BacklogBytes   int64
	OldestMs       int64 // when the oldest of them was written (0: none)
}

// Ingest applies a batch of a kiosk's outbox rows (in seq order) in one transaction, skipping
// those at or below the kiosk's high-water mark, and records the contact with the backlog the
// kiosk reports (left after this batch). It returns the high-water mark after the batch: the
// kiosk may delete its rows up to it. An empty batch is a heartbeat. The kiosk is also recorded
// in the fleet's appliances list, as the appliances on this database record themselves.
func (db *DB) Ingest(ctx context.Context, src store.OutboxSource, rows []store.OutboxRow, left store.OutboxBacklog, nowMs int64) (int64, error) {
	appliance := src.Appliance
	if appliance == "" {
		return 0, errors.New("fleet ingest: the appliance has no name")
	}
	var mark int64
	err := db.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO fleet_appliances(appliance, first_contact_ms, last_contact_ms) VALUES ($1, $2, $2)
			ON CONFLICT (appliance) DO NOTHING`, appliance, nowMs); err != nil {
			return err
		}
		var storeID string
		if err := tx.QueryRow(ctx, `SELECT shipped_seq, store_id FROM fleet_appliances WHERE appliance = $1 FOR UPDATE`, appliance).Scan(&mark, &storeID); err != nil {
			return err
		}
		switch {
		case storeID == "" && src.StoreID != "": // the first batch since migration 0006 claims the name
			if _, err := tx.Exec(ctx, `UPDATE fleet_appliances SET store_id = $2 WHERE appliance = $1`, appliance, src.StoreID); err != nil {
				return err
			}
		case storeID != src.StoreID:
			return otherStore(appliance)
		}
		var b pgx.Batch
		applied := int64(0)
		for _, r := range rows {
			if r.Seq <= mark {
				continue // shipped before: the kiosk did not hear that commit
			}
			if err := queueRow(&b, appliance, r); err != nil {
				return fmt.Errorf("outbox row %d (%s): %w", r.Seq, r.Kind, err)
			}
			mark = r.Seq
			applied++
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return err
			}
		}
		shipMs := any(nil)
		if applied > 0 {
			shipMs = nowMs
		}
		_, err := tx.Exec(ctx, `UPDATE fleet_appliances SET shipped_seq = $2, shipped_rows = shipped_rows + $3, last_contact_ms = $4,
			last_ship_ms = coalesce($5, last_ship_ms), backlog_rows = $6, backlog_bytes = $7, oldest_ms = $8 WHERE appliance = $1`,
			appliance, mark, applied, nowMs, shipMs, left.Rows, left.Bytes, left.OldestMs)
		if err != nil {
			return err
		}
		// the fleet's list of appliances (the dashboard's, and its filter by appliance), as a
		// heartbeat of an appliance on this database would
		_, err = tx.Exec(ctx, `INSERT INTO appliances(name, version, started_ms, last_seen_ms)
			VALUES ($1, $2, $3, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
			ON CONFLICT (name) DO UPDATE SET version = excluded.version, started_ms = excluded.started_ms, last_seen_ms = excluded.last_seen_ms`,
			appliance, src.Version, src.StartedMs)
		return err
	})
	return mark, err
}

// queueRow queues the statements that apply one outbox row.
func queueRow(b *pgx.Batch, appliance string, r store.OutboxRow) error {
	switch r.Kind {
	case store.OutboxTurn:
		var e store.TurnEvent
		if err := json.Unmarshal(r.Payload, &e); err != nil {
			return err
		}
		s := e.Session
		b.Queue(`INSERT INTO sessions(id, lang, state, key_id, turns, created_ms, updated_ms, appliance) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (id) DO UPDATE SET lang = excluded.lang, state = excluded.state, turns = excluded.turns, updated_ms = excluded.updated_ms`,
			s.ID, s.Lang, s.State, s.KeyID, s.Turns, s.CreatedMs, s.UpdatedMs, appliance)
		if t := e.Turn; t != nil {
			// a turn the database holds already (a store restored from a backup ships it again,
			// renumbered) is not written twice
			b.Queue(`INSERT INTO messages(session_id, turn, role, text, lang, kind, intent, confidence, sources, latency_us, key_id, created_ms, heard, offer, appliance)
				SELECT * FROM (VALUES ($1::text, $2::integer, 'visitor', $3::text, $4::text, '', '', NULL::double precision, '', NULL::bigint, $5::text, $6::bigint, $7::jsonb, NULL::text, $13::text),
				       ($1, $2, 'bot', $8, $4, $9, $10, $11, $12, $14, $5, $6, NULL, $15, $13)) AS m
				WHERE NOT EXISTS (SELECT 1 FROM messages WHERE session_id = $1 AND turn = $2)`,
				s.ID, s.Turns, t.Visitor, t.Lang, t.KeyID, t.AtMs, t.Heard, t.Text, t.Kind, t.Intent, t.Confidence, t.Sources, appliance, t.LatencyUS, t.Offer)
		}
	case store.OutboxAudit:
		var e store.AuditEntry
		if err := json.Unmarshal(r.Payload, &e); err != nil {
			return err
		}
		// an entry the database holds already (shipped again after a crash or a restore) is not
		// written twice
		b.Queue(`INSERT INTO audit(at_ms, actor, action, target, remote, detail, appliance) SELECT $1, $2, $3, $4, $5, $6, $7
			WHERE NOT EXISTS (SELECT 1 FROM audit WHERE appliance = $7 AND at_ms = $1 AND actor = $2 AND action = $3 AND target = $4 AND detail = $6)`,
			e.AtMs, e.Actor, e.Action, e.Target, e.Remote, e.Detail, appliance)
	case store.OutboxErase:
		var e store.EraseEvent
		if err := json.Unmarshal(r.Payload, &e); err != nil {
			return err
		}
		b.Queue(`DELETE FROM sessions WHERE id = $1 AND appliance = $2`, e.SessionID, appliance)
	case store.OutboxPurge:
		var e store.PurgeEvent
		if err := json.Unmarshal(r.Payload, &e); err != nil {
			return err
		}
		b.Queue(`DELETE FROM sessions WHERE appliance = $1 AND updated_ms < $2`, appliance, e.BeforeMs)
	default:
		return fmt.Errorf("unknown kind")
	}
	return nil
}

// ErrOtherStore: another store ships under the kiosk's name already.
var ErrOtherStore = errors.New("another store ships under this appliance name")

func otherStore(appliance string) error {
	return fmt.Errorf("%w: %q already forwards to the fleet database from another store (two kiosks with one name, say cloned from one image): give this kiosk a name of its own (appliance: in its settings); its outbox keeps every row meanwhile", ErrOtherStore, appliance)
}

// ShippedSeq is a kiosk store's high-water mark: the last outbox seq the database applied (0:
// none). ErrOtherStore when another store ships under the name.
func (db *DB) ShippedSeq(ctx context.Context, appliance, storeID string) (int64, error) {
	var seq int64
	var owner string
	err := db.pool.QueryRow(ctx, `SELECT shipped_seq, store_id FROM fleet_appliances WHERE appliance = $1`, appliance).Scan(&seq, &owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err == nil && owner != "" && owner != storeID {
		return 0, otherStore(appliance)
	}
	return seq, err
}

// FleetAppliances lists the kiosks that forward to this database, by name.
func (db *DB) FleetAppliances(ctx context.Context) ([]FleetAppliance, error) {
	rows, err := db.pool.Query(ctx, `SELECT appliance, shipped_seq, shipped_rows, first_contact_ms, last_contact_ms, last_ship_ms,
		backlog_rows, backlog_bytes, oldest_ms FROM fleet_appliances ORDER BY appliance`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FleetAppliance, error) {
		var a FleetAppliance
		err := r.Scan(&a.Appliance, &a.ShippedSeq, &a.ShippedRows, &a.FirstContactMs, &a.LastContactMs, &a.LastShipMs, &a.BacklogRows, &a.BacklogBytes, &a.OldestMs)
		return a, err
	})
}
