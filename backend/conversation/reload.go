package conversation

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"voicebot/backend/content"
)

// Loader loads a content pack into an engine: parse and validate, train and index, then swap.
// A pack with errors leaves the snapshot in service untouched and is reported in Status. Reloads
// are serialised; each runs off the request path.
type Loader struct {
	engine *Engine
	// OnReload, if set, is called after every attempt with the status (for logs, metrics, the
	// dashboard and the tray).
	OnReload func(Status)

	// reloadMu makes reloads one at a time; it is held through parsing, training, the swap and
	// OnReload. mu guards the fields below and is never held through any of that, so Status
	// answers at once while a reload runs (with the last finished attempt's status).
	reloadMu sync.Mutex
	mu       sync.Mutex
	fsys     fs.FS
	source   string
	version  uint64
	status   Status
	closed   bool
}

// ErrClosed is returned by Reload once the loader is closed.
var ErrClosed = errors.New("the content loader is closed")

// Close waits for a reload under way to finish (with its OnReload) and makes every later Reload
// return ErrClosed at once: the appliance closes the loader before the store that OnReload
// writes to, so that no reload, a watcher's debounced one included, outlives it.
func (l *Loader) Close() {
	l.reloadMu.Lock()
	defer l.reloadMu.Unlock()
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// Status says what content is in service and how the last load went.
type Status struct {
	Source      string               `json:"source"`
	Version     uint64               `json:"version"` // version of the snapshot in service; 0 = none
	LoadedAt    time.Time            `json:"loaded_at"`
	BuildMillis int64                `json:"build_ms"`
	Intents     int                  `json:"intents"`
	Documents   int                  `json:"documents"`
	Languages   []string             `json:"languages"`
	LastAttempt time.Time            `json:"last_attempt"`
	OK          bool                 `json:"ok"`               // the last attempt succeeded
	Errors      []content.Error      `json:"errors,omitempty"` // of the last attempt
	Files       []content.FileStatus `json:"files"`            // of the last attempt
}

// NewLoader loads content from fsys (source names it in messages and the status).
func NewLoader(e *Engine, fsys fs.FS, source string) *Loader {
	return &Loader{engine: e, fsys: fsys, source: source}
}

// SetSource makes the loader read another pack from now on (the next Reload loads it): the
// appliance switches to an editable copy of the content this way.
func (l *Loader) SetSource(fsys fs.FS, source string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fsys, l.source = fsys, source
}

// Status returns the status of the last finished attempt. It never waits for a reload under way.
func (l *Loader) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.status
	st.Errors = append([]content.Error(nil), st.Errors...)
	st.Files = append([]content.FileStatus(nil), st.Files...)
	return st
}

// Reload loads the pack now. It returns the content errors (content.Errors) or a build error;
// in both cases the previous snapshot keeps serving.
func (l *Loader) Reload() error {
	l.reloadMu.Lock()
	defer l.reloadMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	fsys, source, version := l.fsys, l.source, l.version // version changes only under reloadMu
	l.mu.Unlock()

	attempt := time.Now()
	var pack *content.Pack
	var snap *Snapshot
	// A folder deleted or moved away would otherwise be reported as its bot.yaml missing.
	_, err := fs.Stat(fsys, ".")
	if err != nil {
		err = fmt.Errorf("the content folder cannot be read (deleted or moved away?): %w", err)
	} else {
		pack, err = content.Load(fsys, source)
	}
	if err == nil {
		snap, err = BuildSnapshot(pack, version+1, nil)
	}
	if err == nil {
		l.engine.Swap(snap)
	}

	l.mu.Lock()
	l.status.Source = source
	l.status.LastAttempt = attempt
	if pack != nil {
		l.status.Files = pack.Files
	}
	if err == nil {
		l.version = version + 1
		l.status.Version = l.version
		l.status.LoadedAt = snap.BuiltAt
		l.status.BuildMillis = snap.Build.Milliseconds()
		l.status.Intents = pack.IntentCount()
		l.status.Documents = len(pack.Docs)
		l.status.Languages = pack.Bot.Languages
	}
	l.status.OK = err == nil
	l.status.Errors = nil
	if err != nil {
		if ce, ok := err.(content.Errors); ok {
			l.status.Errors = ce
		} else {
			l.status.Errors = []content.Error{{File: source, Msg: err.Error()}}
		}
	}
	st := l.status // Errors and Files are replaced by each attempt, never changed in place
	l.mu.Unlock()

	if err != nil {
		slog.Error("content not loaded; the previous version keeps serving", "source", source, "err", err)
	} else {
		slog.Info("content loaded", "source", source, "version", st.Version, "intents", st.Intents, "documents", st.Documents, "build_ms", st.BuildMillis)
		// Training allocates about 90 MB for the demo, all of it garbage once the snapshot is
		// built; the runtime would hand it back to the system only slowly, and a kiosk's
		// resident memory would stay at the peak. One forced collection and return, half a
		// second after a reload (after the start's burst of work) and one for a run of reloads,
		// brings idle memory back down (docs/BENCHMARKS.md).
		returnMemorySoon()
	}
	if l.OnReload != nil {
		l.OnReload(st)
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", source, err)
	}
	return nil
}

var memoryReturn atomic.Bool

// returnMemorySoon hands the memory freed by a reload back to the system half a second from now,
// once for however many reloads come before then.
func returnMemorySoon() {
	if memoryReturn.CompareAndSwap(false, true) {
		time.AfterFunc(500*time.Millisecond, func() {
			memoryReturn.Store(false)
			debug.FreeOSMemory()
		})
	}
}
