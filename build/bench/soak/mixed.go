package main

// The mixed soak of docs/RELIABILITY.md (make soak): an hour of what a day at the appliance holds,
// against one desktop-build `voicebot serve` with an editable content folder: text turns,
// streamed turns, voice turns (espeak-ng recordings), dashboard pages, a content save every
// minute and a broken save every ten (repaired 5 s later). Every minute it samples RSS,
// goroutines, open files and the p99 of every kind of request, and it passes when RSS and
// goroutines stay flat (under 10% growth from the fifth minute to the last), no request fails,
// and the last minute's p99 is within twice the first's.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"

	"voicebot/build/bench/internal/load"
)

type mixedSample struct {
	At         time.Duration
	Requests   int64
	P99        time.Duration
	RSSBytes   int64
	HeapBytes  int64 // the Go heap in use (go_memstats_heap_inuse_bytes): RSS less this is Wasm, C and stacks
	Goroutines int64
	OpenFiles  int
	Failed     int64
	Saves      int64
	BrokenSave int64
}

type mixedResult struct {
	Samples []mixedSample
	Kinds   map[string]int64 // requests by kind
	Fails   []string         // the first failures, for the report
	Failed  int64
}

// the spoken questions of the voice worker, recorded once with espeak-ng
var spoken = []string{"what are the opening hours", "how much is a ticket", "is there a cafe"}

func runMixed(bin string, duration, every time.Duration, conns int) (mixedResult, error) {
	res := mixedResult{Kinds: map[string]int64{}}
	dir, err := os.MkdirTemp("", "voicebot-mixed-soak-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	flags := []string{"--data-dir", filepath.Join(dir, "data"), "--config-dir", filepath.Join(dir, "config")}
	content := filepath.Join(dir, "content")
	if out, err := exec.Command(bin, "content", "init", content, "--from", "demo").CombinedOutput(); err != nil {
		return res, fmt.Errorf("content init: %v: %s", err, out)
	}
	out, err := exec.Command(bin, append([]string{"keys", "create", "--name", "soak", "--scopes", "admin", "--rate", "1000000/s"}, flags...)...).Output()
	if err != nil {
		return res, fmt.Errorf("create a key: %w", err)
	}
	key := strings.TrimSpace(string(out))
	var wavs [][]byte
	for i, q := range spoken {
		f := filepath.Join(dir, fmt.Sprintf("q%d.wav", i))
		if out, err := exec.Command("espeak-ng", "-v", "en-us", "-s", "160", "-w", f, q).CombinedOutput(); err != nil {
			return res, fmt.Errorf("espeak-ng (the voice turns' recordings): %v: %s", err, out)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return res, err
		}
		wavs = append(wavs, b)
	}
	addr, err := load.FreeAddr()
	if err != nil {
		return res, err
	}
	srv := exec.Command(bin, append([]string{"serve", "--listen", addr, "--content", content}, flags...)...)
	srv.Stderr = io.Discard
	if err := srv.Start(); err != nil {
		return res, err
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	base := "http://" + addr
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 30 * time.Second}
	if err := load.WaitReady(client, base, key, 60*time.Second); err != nil {
		return res, err
	}
	// the dashboard: signed in through a one-time link, like an operator's browser
	out, err = exec.Command(bin, append([]string{"dashboard-link", "--base", base}, flags...)...).Output()
	if err != nil {
		return res, fmt.Errorf("dashboard-link: %w", err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if resp, err := browser.Get(strings.TrimSpace(string(out))); err != nil || resp.StatusCode != 200 {
		return res, fmt.Errorf("sign in to the dashboard with the link: %v %v", err, resp)
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var reqs, failed, saves, broken, seq atomic.Int64
	record := func(kind string, t0 time.Time, err error) {
		if ctx.Err() != nil {
			return // cut off by the end of the run
		}
		reqs.Add(1)
		mu.Lock()
		defer mu.Unlock()
		res.Kinds[kind]++
		if err != nil {
			failed.Add(1)
			if len(res.Fails) < 20 {
				res.Fails = append(res.Fails, fmt.Sprintf("%s at %s: %v", kind, time.Since(t0).Round(time.Millisecond), err))
			}
			return
		}
		lat = append(lat, time.Since(t0))
	}
	var wg sync.WaitGroup
	worker := func(pace time.Duration, fn func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				fn(i)
				select {
				case <-ctx.Done():
				case <-time.After(pace):
				}
			}
		}()
	}
	for c := 0; c < conns; c++ {
		session := ""
		worker(20*time.Millisecond, func(i int) {
			n := seq.Add(1)
			q := questions[n%int64(len(questions))]
			if n%4 == 0 {
				q = fmt.Sprintf("%s (visitor %d)", q, n)
			}
			if i%5 == 0 {
				session = ""
			}
			t0 := time.Now()
			sid, _, err := load.Chat(ctx, client, base, key, session, q)
			record("text turn", t0, err)
			session = sid
		})
	}
	worker(200*time.Millisecond, func(i int) {
		t0 := time.Now()
		record("streamed turn", t0, stream(ctx, client, base, key, questions[i%len(questions)]))
	})
	worker(2*time.Second, func(i int) {
		t0 := time.Now()
		record("voice turn", t0, voice(ctx, client, base, key, wavs[i%len(wavs)]))
	})
	pages := []string{"/dashboard/", "/dashboard/conversations", "/dashboard/metrics", "/dashboard/teach", "/dashboard/audit", "/dashboard/content", "/dashboard/keys"}
	worker(3*time.Second, func(i int) {
		t0 := time.Now()
		record("dashboard page", t0, get(ctx, browser, base+pages[i%len(pages)], ""))
	})
	// a content save every minute (a knowledge document edited, as an operator would), and every
	// tenth one broken (bot.yaml not YAML) and repaired 5 s later: the version that works stays
	// in service meanwhile
	doc := filepath.Join(content, "knowledge", "en", "soak-notes.md")
	botFile := filepath.Join(content, "bot.yaml")
	good, err := os.ReadFile(botFile)
	if err != nil {
		return res, err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for m := 1; ; m++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			t0 := time.Now()
			if m%10 == 0 {
				err := os.WriteFile(botFile, append(bytes.Clone(good), []byte("\nname: [unclosed\n")...), 0o644)
				broken.Add(1)
				time.Sleep(5 * time.Second)
				if err == nil {
					err = os.WriteFile(botFile, good, 0o644)
				}
				record("broken save", t0, err)
				continue
			}
			body := fmt.Sprintf("---\ntitle: Soak notes\n---\n# Soak notes\n\nThe soak saved this note at minute %d. The gift shop restocks postcards every morning.\n", m)
			err := os.MkdirAll(filepath.Dir(doc), 0o755)
			if err == nil {
				err = os.WriteFile(doc, []byte(body), 0o644)
			}
			saves.Add(1)
			record("content save", t0, err)
		}
	}()

	start := time.Now()
	tick := time.NewTicker(every)
	take := func() {
		mu.Lock()
		window := lat
		lat = nil
		mu.Unlock()
		s := mixedSample{At: time.Since(start).Round(time.Second), Requests: reqs.Load(), P99: pct(window, 0.99), RSSBytes: rss(srv.Process.Pid),
			HeapBytes: int64(metric(client, base, key, "go_memstats_heap_inuse_bytes")), Goroutines: int64(metric(client, base, key, "go_goroutines")), OpenFiles: openFiles(srv.Process.Pid), Failed: failed.Load(), Saves: saves.Load(), BrokenSave: broken.Load()}
		res.Samples = append(res.Samples, s)
		log.Printf("%6s  %8d requests  p99 %6.1f ms  RSS %6.1f MB  Go heap %6.1f MB  goroutines %4d  open files %3d  failed %d  saves %d (%d broken)",
			s.At, s.Requests, ms(s.P99), mb(s.RSSBytes), mb(s.HeapBytes), s.Goroutines, s.OpenFiles, s.Failed, s.Saves, s.BrokenSave)
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			take()
		}
	}
	tick.Stop()
	wg.Wait()
	if n := len(res.Samples); n == 0 || time.Since(start)-res.Samples[n-1].At > every/2 {
		take()
	}
	res.Failed = failed.Load()
	return res, nil
}

// verdict applies the pass rule; it returns what failed, or nothing. Each figure is the median
// of a window of five samples, so that one sample taken while the shared machine was busy (or
// with more requests in flight) does not decide: RSS and goroutines of the five samples after
// the fifth minute against the last five, p99 of the first five against the last five.
func (r mixedResult) verdict() []string {
	var why []string
	if r.Failed > 0 {
		why = append(why, fmt.Sprintf("%d requests failed", r.Failed))
	}
	n := len(r.Samples)
	if n < 15 {
		return append(why, fmt.Sprintf("only %d samples: run for 15 intervals at least", n))
	}
	med := func(from int, f func(mixedSample) float64) float64 {
		var v []float64
		for _, s := range r.Samples[from : from+5] {
			v = append(v, f(s))
		}
		return median(v)
	}
	rssOf := func(s mixedSample) float64 { return float64(s.RSSBytes) }
	gorOf := func(s mixedSample) float64 { return float64(s.Goroutines) }
	p99Of := func(s mixedSample) float64 { return ms(s.P99) }
	if a, b := med(5, rssOf), med(n-5, rssOf); b/a-1 >= 0.10 {
		why = append(why, fmt.Sprintf("RSS grew %.1f%% (median %.1f MB after the fifth interval, %.1f MB at the end)", 100*(b/a-1), a/1e6, b/1e6))
	}
	if a, b := med(5, gorOf), med(n-5, gorOf); b/a-1 >= 0.10 {
		why = append(why, fmt.Sprintf("goroutines grew %.1f%% (median %.0f after the fifth interval, %.0f at the end)", 100*(b/a-1), a, b))
	}
	if a, b := med(0, p99Of), med(n-5, p99Of); b > 2*a {
		why = append(why, fmt.Sprintf("p99 median %.1f ms in the last five intervals, over twice the first five's %.1f ms", b, a))
	}
	return why
}

func (r mixedResult) report(w io.Writer, bin string, duration time.Duration, conns int) {
	fmt.Fprintf(w, "#### `%s`, %s, %d text clients\n\n", bin, duration, conns)
	fmt.Fprintln(w, "| at | requests | p99 ms | RSS MB | Go heap MB | goroutines | open files | failed | content saves (broken) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, s := range r.Samples {
		fmt.Fprintf(w, "| %s | %d | %.1f | %.1f | %.1f | %d | %d | %d | %d (%d) |\n", s.At, s.Requests, ms(s.P99), mb(s.RSSBytes), mb(s.HeapBytes), s.Goroutines, s.OpenFiles, s.Failed, s.Saves, s.BrokenSave)
	}
	fmt.Fprintln(w, "\nRequests by kind:")
	for _, k := range []string{"text turn", "streamed turn", "voice turn", "dashboard page", "content save", "broken save"} {
		fmt.Fprintf(w, "- %s: %d\n", k, r.Kinds[k])
	}
	if why := r.verdict(); len(why) == 0 {
		fmt.Fprintln(w, "\n**Passed**: no request failed; RSS and goroutines grew under 10% from the five intervals after the fifth to the last five; the last five intervals' p99 within twice the first five's (medians of five samples).")
	} else {
		fmt.Fprintf(w, "\n**Failed**: %s.\n", strings.Join(why, "; "))
	}
	for _, f := range r.Fails {
		fmt.Fprintf(w, "- %s\n", f)
	}
}

// plotMixed draws RSS (MB), goroutines and open files on the left axis and p99 (ms) on the
// right, as an SVG.
func plotMixed(path string, r mixedResult) error {
	var x, rssMB, heapMB, gor, files, p99 []float64
	for _, s := range r.Samples {
		x = append(x, s.At.Minutes())
		rssMB = append(rssMB, mb(s.RSSBytes))
		heapMB = append(heapMB, mb(s.HeapBytes))
		gor = append(gor, float64(s.Goroutines))
		files = append(files, float64(s.OpenFiles))
		p99 = append(p99, ms(s.P99))
	}
	if len(x) < 2 {
		return fmt.Errorf("too few samples to plot")
	}
	g := chart.Chart{
		Title:          "mixed soak: RSS and Go heap MB, goroutines, open files (left); p99 ms (right)",
		Background:     chart.Style{Padding: chart.Box{Top: 50, Left: 150, Right: 20, Bottom: 20}},
		Width:          1000,
		Height:         400,
		XAxis:          chart.XAxis{Name: "minutes"},
		YAxis:          chart.YAxis{Name: "MB / count"},
		YAxisSecondary: chart.YAxis{Name: "p99 ms"},
		Series: []chart.Series{
			chart.ContinuousSeries{Name: "RSS MB", XValues: x, YValues: rssMB},
			chart.ContinuousSeries{Name: "Go heap MB", XValues: x, YValues: heapMB},
			chart.ContinuousSeries{Name: "goroutines", XValues: x, YValues: gor},
			chart.ContinuousSeries{Name: "open files", XValues: x, YValues: files},
			chart.ContinuousSeries{Name: "p99 ms", XValues: x, YValues: p99, YAxis: chart.YAxisSecondary},
		},
	}
	g.Elements = []chart.Renderable{chart.LegendLeft(&g)}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return g.Render(chart.SVG, f)
}

// stream asks one question with Accept: text/event-stream and reads the events to "done".
func stream(ctx context.Context, c *http.Client, base, key, text string) error {
	body := fmt.Sprintf(`{"text":%q}`, text)
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/chat", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == "event: done" {
			return nil
		}
	}
	return fmt.Errorf("the stream ended without a done event (%v)", sc.Err())
}

// voice posts a recording to /v1/voice and checks that it was heard and answered.
func voice(ctx context.Context, c *http.Client, base, key string, wav []byte) error {
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/voice?lang=en", bytes.NewReader(wav))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "audio/wav")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	if !bytes.Contains(b, []byte(`"transcript"`)) {
		return fmt.Errorf("no transcript in %s", b)
	}
	return nil
}

func get(ctx context.Context, c *http.Client, url, key string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// metric reads one unlabelled sample from the server's /metrics (0 if it cannot).
func metric(c *http.Client, base, key, name string) float64 {
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

// openFiles counts the process's open file descriptors (/proc/PID/fd).
func openFiles(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0
	}
	return len(ents)
}

// readMixedTable reads the samples back from a report's table (-mixed -from), to judge and plot
// a finished run again.
func readMixedTable(path string) (mixedResult, error) {
	r := mixedResult{Kinds: map[string]int64{}}
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(strings.Trim(line, "| "), " | ")
		if (len(f) != 8 && len(f) != 9) || f[0] == "at" || strings.HasPrefix(f[0], "-") {
			continue
		}
		var heap float64
		if len(f) == 9 { // tables written before the Go heap was sampled have no such column
			heap, _ = strconv.ParseFloat(f[4], 64)
			f = append(f[:4], f[5:]...)
		}
		at, err := time.ParseDuration(f[0])
		if err != nil {
			return r, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		num := func(i int) float64 { v, _ := strconv.ParseFloat(f[i], 64); return v }
		var saves, broken int64
		fmt.Sscanf(f[7], "%d (%d)", &saves, &broken)
		s := mixedSample{At: at, Requests: int64(num(1)), P99: time.Duration(num(2) * 1e6), RSSBytes: int64(num(3) * 1e6), HeapBytes: int64(heap * 1e6),
			Goroutines: int64(num(4)), OpenFiles: int(num(5)), Failed: int64(num(6)), Saves: saves, BrokenSave: broken}
		r.Samples = append(r.Samples, s)
		r.Failed = s.Failed
	}
	if len(r.Samples) == 0 {
		return r, fmt.Errorf("%s: no table of samples", path)
	}
	return r, nil
}
