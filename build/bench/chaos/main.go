// Command chaos is the crash loop of docs/RELIABILITY.md (make chaos): N cycles of starting
// `voicebot serve` on one data folder, loading it with concurrent chat turns over HTTP, killing
// it with SIGKILL at a random moment (mostly under load, sometimes while it starts), and opening
// the store to check it: PRAGMA integrity_check ok, every turn the server acknowledged with a 200
// present with its reply (a turn is all of its rows or none), and each conversation's turn count
// matching its messages. The folder is kept across cycles, so every check covers every earlier
// cycle's turns too.
//
//	go run ./build/bench/chaos -bin build/bin/voicebot-headless -cycles 100 -md docs/soak/chaos.md
//
// It is written in Go rather than as a shell loop because the checks read the encrypted store
// through the appliance's own code (appliance.OpenStore), the way a restart does.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"voicebot/backend/appliance"
	"voicebot/backend/store"
	"voicebot/build/bench/internal/load"
)

func main() {
	bin := flag.String("bin", "build/bin/voicebot-headless", "the voicebot binary")
	cycles := flag.Int("cycles", 100, "start, load, kill -9 and check cycles")
	conns := flag.Int("conns", 8, "concurrent clients")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (kill moments, sessions)")
	mdOut := flag.String("md", "", "also write the report here (markdown)")
	flag.Parse()
	rep, err := Run(Config{Command: []string{*bin}, Cycles: *cycles, Conns: *conns, Seed: *seed, Log: log.Printf})
	var md bytes.Buffer
	rep.Markdown(&md)
	os.Stdout.Write(md.Bytes())
	if *mdOut != "" {
		if werr := os.WriteFile(*mdOut, md.Bytes(), 0o644); werr != nil {
			log.Fatal(werr)
		}
	}
	if err != nil {
		log.Fatal(err)
	}
}

// Config is one crash loop. Command is the voicebot binary and any leading arguments; the loop
// appends "keys create ..." or "serve ..." and the folder flags.
type Config struct {
	Command []string
	Env     []string // added to the environment of every command
	Cycles  int
	Conns   int
	Seed    uint64
	Log     func(format string, args ...any)
}

// Report is what a crash loop saw.
type Report struct {
	Cycles          int
	KilledStarting  int // cycles killed before the server was ready
	Acknowledged    int // turns answered with a 200, in all cycles
	Lost            int // acknowledged turns missing after a restart
	HalfWritten     int // visitor messages without their reply, or session counts that disagree
	IntegrityFailed int // cycles after which integrity_check was not ok
	Refused         int // turns refused with a status other than 200 (not acknowledged)
	Ready           []time.Duration
	Seed            uint64
	Elapsed         time.Duration
}

// Run runs the crash loop and returns its report; the error says what failed first.
func Run(c Config) (rep Report, err error) {
	rep.Seed = c.Seed
	start := time.Now()
	defer func() { rep.Elapsed = time.Since(start) }()
	if c.Log == nil {
		c.Log = func(string, ...any) {}
	}
	dir, err := os.MkdirTemp("", "voicebot-chaos-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	o := appliance.Options{DataDir: filepath.Join(dir, "data"), ConfigDir: filepath.Join(dir, "config")}
	folders := []string{"--data-dir", o.DataDir, "--config-dir", o.ConfigDir}
	cmd := exec.Command(c.Command[0], append(append(slices.Clone(c.Command[1:]), "keys", "create", "--name", "chaos", "--scopes", "chat", "--rate", "1000000/s"), folders...)...)
	cmd.Env = append(os.Environ(), c.Env...)
	out, err := cmd.Output()
	if err != nil {
		return rep, fmt.Errorf("create a key: %w", err)
	}
	key := strings.TrimSpace(string(out))
	rng := rand.New(rand.NewPCG(c.Seed, 0xc4a05))
	acked := map[string]bool{} // every acknowledged visitor text, over all cycles
	for cycle := 1; cycle <= c.Cycles; cycle++ {
		r, err := cycleOnce(c, cycle, key, folders, rng)
		rep.Cycles++
		rep.Refused += r.refused
		if r.killedStarting {
			rep.KilledStarting++
		} else {
			rep.Ready = append(rep.Ready, r.ready)
		}
		for _, t := range r.acked {
			acked[t] = true
		}
		rep.Acknowledged += len(r.acked)
		if err != nil {
			return rep, fmt.Errorf("cycle %d: %w", cycle, err)
		}
		chk, err := check(o, acked)
		if err != nil {
			return rep, fmt.Errorf("cycle %d: open the store after kill -9: %w", cycle, err)
		}
		rep.Lost, rep.HalfWritten = chk.lost, chk.halfWritten
		if !chk.integrityOK {
			rep.IntegrityFailed++
		}
		c.Log("cycle %3d: %4d turns acknowledged (%d in all), killed %s, integrity %s, lost %d, half-written %d",
			cycle, len(r.acked), len(acked), r.when, chk.integrity, chk.lost, chk.halfWritten)
		if !chk.integrityOK || chk.lost > 0 || chk.halfWritten > 0 {
			return rep, fmt.Errorf("cycle %d: integrity %q, %d acknowledged turns lost, %d half-written", cycle, chk.integrity, chk.lost, chk.halfWritten)
		}
	}
	return rep, nil
}

type cycleResult struct {
	acked          []string
	refused        int
	ready          time.Duration
	killedStarting bool
	when           string
}

// cycleOnce starts the server, loads it, kills it with SIGKILL and waits for it to be gone. One
// cycle in ten is killed while the server starts (opening the store, migrating, loading content);
// the others between 50 ms and 2.5 s into the load.
func cycleOnce(c Config, cycle int, key string, folders []string, rng *rand.Rand) (cycleResult, error) {
	var r cycleResult
	addr, err := load.FreeAddr()
	if err != nil {
		return r, err
	}
	srv := exec.Command(c.Command[0], append(append(slices.Clone(c.Command[1:]), "serve", "--listen", addr), folders...)...)
	srv.Env = append(os.Environ(), c.Env...)
	srv.Stderr = io.Discard
	t0 := time.Now()
	if err := srv.Start(); err != nil {
		return r, err
	}
	defer srv.Process.Kill()
	kill := func() error {
		if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
			return err
		}
		srv.Wait()
		return nil
	}
	base := "http://" + addr
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.Conns * 2}, Timeout: 10 * time.Second}
	if rng.IntN(10) == 0 {
		// killed while it starts: somewhere in the first 400 ms, which on this machine covers
		// opening the store and loading the content
		d := time.Duration(rng.Int64N(int64(400 * time.Millisecond)))
		time.Sleep(d - time.Since(t0))
		r.killedStarting = !load.Ready(client, base, key)
		r.when = fmt.Sprintf("%s after start", time.Since(t0).Round(time.Millisecond))
		return r, kill()
	}
	for !load.Ready(client, base, key) {
		if time.Since(t0) > 60*time.Second {
			return r, fmt.Errorf("not ready within 60 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.ready = time.Since(t0)
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < c.Conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			session := ""
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if i%4 == 0 { // a conversation of four turns, then the next visitor
					session = ""
				}
				text := fmt.Sprintf("chaos %d %d %d: what are the opening hours?", cycle, w, i)
				sid, status, _ := load.Chat(context.Background(), client, base, key, session, text)
				if status == 0 {
					return // the server is gone
				}
				mu.Lock()
				if status == 200 {
					r.acked = append(r.acked, text)
					session = sid
				} else {
					r.refused++
				}
				mu.Unlock()
			}
		}(w)
	}
	d := 50*time.Millisecond + time.Duration(rng.Int64N(int64(2450*time.Millisecond)))
	time.Sleep(d)
	r.when = fmt.Sprintf("%s into the load", d.Round(time.Millisecond))
	err = kill()
	close(stop)
	wg.Wait()
	return r, err
}

type checkResult struct {
	integrity   string
	integrityOK bool
	lost        int
	halfWritten int
}

// check opens the store as a restart does and reads it back.
func check(o appliance.Options, acked map[string]bool) (checkResult, error) {
	var r checkResult
	ctx := context.Background()
	b, err := appliance.OpenStore(ctx, o)
	if err != nil {
		return r, err
	}
	defer b.Close()
	db, ok := b.(*store.DB)
	if !ok {
		return r, fmt.Errorf("chaos checks the SQLite store, not %s", b.Describe())
	}
	if err := db.Read().QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&r.integrity); err != nil {
		return r, err
	}
	r.integrityOK = r.integrity == "ok"
	stored := map[string]bool{}
	rows, err := db.Read().QueryContext(ctx, `SELECT text FROM messages WHERE role = 'visitor'`)
	if err != nil {
		return r, err
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return r, err
		}
		stored[s] = true
	}
	rows.Close()
	for t := range acked {
		if !stored[t] {
			r.lost++
		}
	}
	// a visitor message without the reply of its turn, or a session whose turn count is not its
	// messages' last turn, is a turn half written
	err = db.Read().QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM messages v WHERE v.role = 'visitor' AND NOT EXISTS
			(SELECT 1 FROM messages b WHERE b.session_id = v.session_id AND b.turn = v.turn AND b.role = 'bot'))
		+ (SELECT count(*) FROM sessions s WHERE s.turns != (SELECT coalesce(max(turn), 0) FROM messages m WHERE m.session_id = s.id))`).Scan(&r.halfWritten)
	return r, err
}

// Markdown writes the report as docs/RELIABILITY.md shows it.
func (r Report) Markdown(w io.Writer) {
	ready := slices.Clone(r.Ready)
	slices.Sort(ready)
	med, worst := time.Duration(0), time.Duration(0)
	if n := len(ready); n > 0 {
		med, worst = ready[n/2], ready[n-1]
	}
	fmt.Fprintf(w, "| cycles | killed while starting | turns acknowledged | lost | half-written | integrity_check failed | refused (not acknowledged) | ready after start, median / worst | seed | took |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(w, "| %d | %d | %d | %d | %d | %d | %d | %d / %d ms | %d | %s |\n", r.Cycles, r.KilledStarting, r.Acknowledged, r.Lost, r.HalfWritten,
		r.IntegrityFailed, r.Refused, med.Milliseconds(), worst.Milliseconds(), r.Seed, r.Elapsed.Round(time.Second))
}
