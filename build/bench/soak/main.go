// Command soak runs `voicebot serve` under maximum chat load for a while and records, every
// interval, what a kiosk's disk and memory live: the WAL and database file sizes, the server's
// resident memory, turns per second and client-side p50/p99. It is the storage soak of
// docs/BENCHMARKS.md (make soak-storage), written in Go rather than as a wrk script so that it can
// sample the server's files and /proc between requests and draw the plot.
//
//	go run ./build/bench/soak -bin build/bin/voicebot-headless -duration 10m -conns 16 \
//	    -md docs/soak/storage.md -plot docs/soak/storage.png
//
// With -base OTHER_BIN it alternates runs of both binaries (-rounds, each -duration long) and
// reports the ratio of their throughput and p99: the "against the previous commit, in one
// command" comparison.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"

	"voicebot/build/bench/internal/load"
)

// questions an ordinary visitor asks the demo museum; every fourth turn carries its number, so
// that the response cache does not answer the mix.
var questions = []string{
	"What are the opening hours?",
	"How much is a ticket?",
	"Is there a discount for students?",
	"Where can I park?",
	"Can I bring my dog?",
	"Is there a cafe?",
	"Where do I leave my backpack?",
	"Tell me about the dinosaur gallery",
	"hello",
	"thank you, goodbye",
	"Do you have wheelchair access?",
	"How do I get there by train?",
}

var keepDir string

type sample struct {
	At                time.Duration
	Turns             int64
	TurnsPerSec       float64
	P50, P99          time.Duration
	WALBytes, DBBytes int64
	RSSBytes          int64
	HeapBytes         int64 // Go heap in use (go_memstats_heap_inuse_bytes), SQLite's Wasm memories included
	Errors            int64
}

type result struct {
	Bin       string
	Samples   []sample
	Turns     int64
	PerSec    float64
	P50, P99  time.Duration
	MaxWAL    int64
	WALIdleIn time.Duration // after the load stopped, until the WAL file was empty (-1: not within 10 s)
	IdleRSS   int64         // 15 s after the load stopped
}

func main() {
	bin := flag.String("bin", "build/bin/voicebot-headless", "the voicebot binary to run")
	base := flag.String("base", "", "a second binary (the previous commit) to alternate with, for ratios")
	rounds := flag.Int("rounds", 1, "with -base: runs of each binary, alternated")
	duration := flag.Duration("duration", 10*time.Minute, "load per run")
	conns := flag.Int("conns", 16, "concurrent connections")
	every := flag.Duration("every", 30*time.Second, "sampling interval")
	walBound := flag.Int64("wal-bound", 64<<20, "the WAL bound to check (bytes)")
	mdOut := flag.String("md", "", "write the tables here (markdown)")
	plotOut := flag.String("plot", "", "write a plot of the first run of -bin here (PNG)")
	replot := flag.String("plot-from", "", "only draw -plot from the first table of this markdown (an earlier run's -md)")
	flag.StringVar(&keepDir, "keep", "", "keep the last run's data and settings folders here (to time an upgrade of a loaded store)")
	mixed := flag.Bool("mixed", false, "the mixed soak (make soak): text, streamed and voice turns, dashboard pages and content saves at a steady pace; -bin must be a build with voice (cgo); -plot writes an SVG")
	flag.Parse()
	if *mixed {
		var r mixedResult
		var err error
		if *replot != "" {
			r, err = readMixedTable(*replot) // judge and plot an earlier run again
		} else {
			r, err = runMixed(*bin, *duration, *every, *conns)
		}
		if err != nil {
			log.Fatal(err)
		}
		var md bytes.Buffer
		r.report(&md, *bin, *duration, *conns)
		os.Stdout.Write(md.Bytes())
		if *mdOut != "" && *replot == "" {
			if err := os.WriteFile(*mdOut, md.Bytes(), 0o644); err != nil {
				log.Fatal(err)
			}
		}
		if *plotOut != "" {
			if err := plotMixed(*plotOut, r); err != nil {
				log.Fatal(err)
			}
		}
		if why := r.verdict(); len(why) > 0 {
			log.Fatalf("FAIL: %s", strings.Join(why, "; "))
		}
		return
	}
	if *replot != "" && !*mixed {
		r, err := readTable(*replot)
		if err == nil {
			err = plot(*plotOut, r, *walBound)
		}
		if err != nil {
			log.Fatal(err)
		}
		return
	}

	var runs []result
	for r := 0; r < *rounds; r++ {
		bins := []string{*bin}
		if *base != "" {
			bins = []string{*base, *bin}
			if r%2 == 1 {
				bins = []string{*bin, *base}
			}
		}
		for _, b := range bins {
			log.Printf("run %d: %s, %d connections, %s", r+1, b, *conns, *duration)
			res, err := run(b, *duration, *conns, *every, *walBound)
			if err != nil {
				log.Fatal(err)
			}
			runs = append(runs, res)
		}
	}
	var md bytes.Buffer
	report(&md, runs, *bin, *base, *conns, *duration, *walBound)
	os.Stdout.Write(md.Bytes())
	if *mdOut != "" {
		if err := os.WriteFile(*mdOut, md.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if *plotOut != "" {
		for _, r := range runs {
			if r.Bin == *bin {
				if err := plot(*plotOut, r, *walBound); err != nil {
					log.Fatal(err)
				}
				break
			}
		}
	}
	for _, r := range runs {
		if r.MaxWAL > *walBound {
			log.Printf("FAIL: %s: WAL reached %d bytes, over the bound %d", r.Bin, r.MaxWAL, *walBound)
			if r.Bin == *bin {
				os.Exit(1)
			}
		}
	}
}

// run starts the binary on a fresh data folder, loads it and samples it.
func run(bin string, duration time.Duration, conns int, every time.Duration, walBound int64) (result, error) {
	res := result{Bin: bin, WALIdleIn: -1}
	dir, err := os.MkdirTemp("", "voicebot-soak-")
	if err != nil {
		return res, err
	}
	defer func() {
		if keepDir != "" {
			os.RemoveAll(keepDir)
			if err := os.Rename(dir, keepDir); err == nil {
				log.Printf("data kept in %s", keepDir)
				return
			}
		}
		os.RemoveAll(dir)
	}()
	flags := []string{"--data-dir", filepath.Join(dir, "data"), "--config-dir", filepath.Join(dir, "config")}
	out, err := exec.Command(bin, append([]string{"keys", "create", "--name", "soak", "--scopes", "chat,metrics", "--rate", "1000000/s"}, flags...)...).Output()
	if err != nil {
		return res, fmt.Errorf("create a key: %w", err)
	}
	key := strings.TrimSpace(string(out))
	addr, err := load.FreeAddr()
	if err != nil {
		return res, err
	}
	srv := exec.Command(bin, append([]string{"serve", "--listen", addr}, flags...)...)
	srv.Stderr = io.Discard
	if err := srv.Start(); err != nil {
		return res, err
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	base := "http://" + addr
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns * 2}, Timeout: 30 * time.Second}
	if err := load.WaitReady(client, base, key, 60*time.Second); err != nil {
		return res, err
	}
	db := filepath.Join(dir, "data", "voicebot.db")
	if _, err := os.Stat(db); err != nil {
		return res, fmt.Errorf("the store is not at %s: %w", db, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var all []time.Duration
	var turns, errs, seq atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			session := ""
			for ctx.Err() == nil {
				n := seq.Add(1)
				q := questions[n%int64(len(questions))]
				if n%4 == 0 {
					q = fmt.Sprintf("%s (visitor %d)", q, n)
				}
				if n%3 == 0 { // a third of the turns start a new visitor's conversation
					session = ""
				}
				t0 := time.Now()
				sid, _, err := load.Chat(ctx, client, base, key, session, q)
				if ctx.Err() != nil {
					return
				}
				d := time.Since(t0)
				if err != nil {
					errs.Add(1)
					continue
				}
				session = sid
				turns.Add(1)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}(c)
	}
	start := time.Now()
	tick := time.NewTicker(every)
	last := start
	var lastTurns int64
	take := func() {
		now := time.Now()
		mu.Lock()
		window := lat
		lat = nil
		all = append(all, window...)
		mu.Unlock()
		t := turns.Load()
		s := sample{At: now.Sub(start).Round(time.Second), Turns: t, TurnsPerSec: float64(t-lastTurns) / now.Sub(last).Seconds(),
			WALBytes: size(db + "-wal"), DBBytes: size(db), RSSBytes: rss(srv.Process.Pid), HeapBytes: heapInUse(client, base, key), Errors: errs.Load()}
		s.P50, s.P99 = pct(window, 0.50), pct(window, 0.99)
		res.Samples = append(res.Samples, s)
		log.Printf("%6s  %8d turns  %7.0f/s  p50 %6.1f ms  p99 %6.1f ms  WAL %7.1f MB  db %7.1f MB  RSS %6.1f MB  Go heap %6.1f MB  errors %d",
			s.At, s.Turns, s.TurnsPerSec, ms(s.P50), ms(s.P99), mb(s.WALBytes), mb(s.DBBytes), mb(s.RSSBytes), mb(s.HeapBytes), s.Errors)
		last, lastTurns = now, t
	}
	// The WAL is sampled every 100 ms between the rows, so that a peak between two rows is seen.
	peek := time.NewTicker(100 * time.Millisecond)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-peek.C:
			res.MaxWAL = max(res.MaxWAL, size(db+"-wal"))
		case <-tick.C:
			take()
		}
	}
	tick.Stop()
	peek.Stop()
	wg.Wait()
	if time.Since(last) > every/2 {
		take()
	}
	stopped := time.Now()
	for time.Since(stopped) < 10*time.Second {
		if size(db+"-wal") == 0 {
			res.WALIdleIn = time.Since(stopped)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(15*time.Second - time.Since(stopped))
	res.IdleRSS = rss(srv.Process.Pid)
	res.Turns = turns.Load()
	res.PerSec = float64(res.Turns) / stopped.Sub(start).Seconds()
	res.P50, res.P99 = pct(all, 0.50), pct(all, 0.99)
	for _, s := range res.Samples {
		res.MaxWAL = max(res.MaxWAL, s.WALBytes)
	}
	if errs.Load() > 0 {
		log.Printf("%d turns failed", errs.Load())
	}
	return res, nil
}

// heapInUse reads go_memstats_heap_inuse_bytes from the server's /metrics (0 if it cannot).
func heapInUse(c *http.Client, base, key string) int64 {
	return int64(metric(c, base, key, "go_memstats_heap_inuse_bytes"))
}

func size(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// rss is the process's resident set (VmRSS in /proc/PID/status), in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
func mb(n int64) float64         { return float64(n) / 1e6 }

func report(w io.Writer, runs []result, bin, base string, conns int, duration time.Duration, walBound int64) {
	for i, r := range runs {
		fmt.Fprintf(w, "\n#### Run %d: `%s`, %d connections, %s\n\n", i+1, r.Bin, conns, duration)
		fmt.Fprintln(w, "| at | turns | turns/s | p50 ms | p99 ms | WAL MB | database MB | RSS MB | Go heap MB |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
		for _, s := range r.Samples {
			fmt.Fprintf(w, "| %s | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", s.At, s.Turns, s.TurnsPerSec, ms(s.P50), ms(s.P99), mb(s.WALBytes), mb(s.DBBytes), mb(s.RSSBytes), mb(s.HeapBytes))
		}
		idle := "not within 10 s"
		if r.WALIdleIn >= 0 {
			idle = r.WALIdleIn.Round(10 * time.Millisecond).String()
		}
		fmt.Fprintf(w, "\nWhole run: %d turns, %.0f turns/s, p50 %.1f ms, p99 %.1f ms; WAL at most %.1f MB (bound %.1f MB, sampled every 100 ms); "+
			"WAL truncated to 0 bytes %s after the load stopped; RSS 15 s after the load: %.1f MB.\n",
			r.Turns, r.PerSec, ms(r.P50), ms(r.P99), mb(r.MaxWAL), mb(walBound), idle, mb(r.IdleRSS))
		if n := len(r.Samples); n >= 5 {
			at2 := r.Samples[min(n-1, 3)] // the row at 2 minutes with 30 s rows
			lastRow := r.Samples[n-1]
			fmt.Fprintf(w, "RSS at %s: %.1f MB, at %s: %.1f MB (%+.1f%%).\n", at2.At, mb(at2.RSSBytes), lastRow.At, mb(lastRow.RSSBytes),
				100*(float64(lastRow.RSSBytes)/float64(at2.RSSBytes)-1))
		}
	}
	if base == "" {
		return
	}
	var perNew, perOld, p99New, p99Old []float64
	for _, r := range runs {
		if r.Bin == bin {
			perNew, p99New = append(perNew, r.PerSec), append(p99New, ms(r.P99))
		} else {
			perOld, p99Old = append(perOld, r.PerSec), append(p99Old, ms(r.P99))
		}
	}
	fmt.Fprintf(w, "\n#### `%s` against `%s` (runs alternated; medians)\n\n", bin, base)
	fmt.Fprintln(w, "| | turns/s | p99 ms |")
	fmt.Fprintln(w, "|---|---|---|")
	fmt.Fprintf(w, "| base | %.0f | %.1f |\n| new | %.0f | %.1f |\n| new / base | %.2fx | %.2fx |\n",
		median(perOld), median(p99Old), median(perNew), median(p99New), median(perNew)/median(perOld), median(p99New)/median(p99Old))
}

// readTable reads the samples back from the first table report wrote.
func readTable(path string) (result, error) {
	var r result
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(strings.Trim(line, "| "), " | ")
		if len(f) != 9 || f[0] == "at" || strings.HasPrefix(f[0], "-") {
			if len(r.Samples) > 0 {
				break
			}
			continue
		}
		at, err := time.ParseDuration(f[0])
		if err != nil {
			return r, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		num := func(i int) float64 { v, _ := strconv.ParseFloat(f[i], 64); return v }
		r.Samples = append(r.Samples, sample{At: at, Turns: int64(num(1)), TurnsPerSec: num(2), P50: time.Duration(num(3) * 1e6), P99: time.Duration(num(4) * 1e6),
			WALBytes: int64(num(5) * 1e6), DBBytes: int64(num(6) * 1e6), RSSBytes: int64(num(7) * 1e6), HeapBytes: int64(num(8) * 1e6)})
	}
	if len(r.Samples) == 0 {
		return r, fmt.Errorf("%s: no table of samples", path)
	}
	return r, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// plot draws WAL, database and RSS (MB, left axis) and p99 (ms, right axis) over the run.
func plot(path string, r result, walBound int64) error {
	var x []float64
	series := map[string][]float64{}
	for _, s := range r.Samples {
		x = append(x, s.At.Minutes())
		series["WAL MB"] = append(series["WAL MB"], mb(s.WALBytes))
		series["database MB"] = append(series["database MB"], mb(s.DBBytes))
		series["RSS MB"] = append(series["RSS MB"], mb(s.RSSBytes))
		series["p99 ms"] = append(series["p99 ms"], ms(s.P99))
	}
	bound := []float64{}
	for range x {
		bound = append(bound, mb(walBound))
	}
	g := chart.Chart{
		Title:          "storage soak: MB on the right axis, p99 ms on the left",
		Background:     chart.Style{Padding: chart.Box{Top: 50, Left: 130, Right: 20, Bottom: 20}},
		Width:          1000,
		Height:         400,
		XAxis:          chart.XAxis{Name: "minutes"},
		YAxis:          chart.YAxis{Name: "MB"},
		YAxisSecondary: chart.YAxis{Name: "p99 ms"},
		Series: []chart.Series{
			chart.ContinuousSeries{Name: "WAL bound", XValues: x, YValues: bound, Style: chart.Style{StrokeDashArray: []float64{5, 5}, StrokeColor: chart.ColorRed}},
			chart.ContinuousSeries{Name: "WAL", XValues: x, YValues: series["WAL MB"]},
			chart.ContinuousSeries{Name: "database", XValues: x, YValues: series["database MB"]},
			chart.ContinuousSeries{Name: "RSS", XValues: x, YValues: series["RSS MB"]},
			chart.ContinuousSeries{Name: "p99 ms", XValues: x, YValues: series["p99 ms"], YAxis: chart.YAxisSecondary},
		},
	}
	g.Elements = []chart.Renderable{chart.LegendLeft(&g)}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return g.Render(chart.PNG, f)
}
