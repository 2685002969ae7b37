package appliance

// One running appliance per data folder. The first start listens on a local socket named after
// the data folder; a second start finds it, asks the first to come to the front (the desktop
// window focuses itself) and stops with ErrRunning. The socket is a Unix-domain socket (Linux,
// macOS and Windows 10+ all have them), so it needs no session bus and no open port; a socket
// left by a killed process is noticed (nothing answers) and replaced.

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrRunning means another appliance already runs on the data folder.
var ErrRunning = errors.New("another VoiceBot is already running on this data folder")

// Instance holds the data folder's instance socket while the appliance runs.
type Instance struct {
	ln   net.Listener
	path string

	mu      sync.Mutex
	onFocus func()
}

// instanceSocket is the socket's path: in the data folder, or in the temporary folder under a
// hash of the data folder when that path is too long for a socket address.
func instanceSocket(dataDir string) string {
	p := filepath.Join(dataDir, "voicebot.sock")
	if len(p) < 100 {
		return p
	}
	abs, _ := filepath.Abs(dataDir)
	h := sha256.Sum256([]byte(abs))
	return filepath.Join(os.TempDir(), "voicebot-"+hex.EncodeToString(h[:8])+".sock")
}

// AcquireInstance claims the data folder, or returns an error wrapping ErrRunning after asking
// the running appliance to show itself.
func AcquireInstance(dataDir string) (*Instance, error) { return acquireInstance(dataDir, "focus") }

// HoldInstance claims the data folder for a command that must run with the appliance stopped
// (`voicebot migrate`), keeping it from starting meanwhile; an error wrapping ErrRunning, with
// the running process's id, when it runs. The running appliance is only asked who it is.
func HoldInstance(dataDir string) (*Instance, error) { return acquireInstance(dataDir, "ping") }

func acquireInstance(dataDir, ask string) (*Instance, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	path := instanceSocket(dataDir)
	for attempt := 0; attempt < 2; attempt++ {
		ln, err := net.Listen("unix", path)
		if err == nil {
			in := &Instance{ln: ln, path: path}
			go in.serve()
			return in, nil
		}
		if reply, derr := signalInstance(path, ask); derr == nil {
			return nil, fmt.Errorf("%w (%s)", ErrRunning, reply)
		}
		// Nothing answers: a socket left by a process that was killed. Replace it.
		if rerr := os.Remove(path); rerr != nil && !os.IsNotExist(rerr) {
			return nil, fmt.Errorf("instance socket %s: %w", path, err)
		}
	}
	return nil, fmt.Errorf("instance socket %s: could not claim it", path)
}

// signalInstance sends one command to the running instance and returns its one-line answer.
func signalInstance(path, cmd string) (string, error) {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintln(c, cmd); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

// OnFocus sets what a second start's "focus" request does (the desktop shows its window).
func (in *Instance) OnFocus(f func()) {
	in.mu.Lock()
	in.onFocus = f
	in.mu.Unlock()
}

func (in *Instance) serve() {
	for {
		c, err := in.ln.Accept()
		if err != nil {
			return // closed
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			line, err := bufio.NewReader(io.LimitReader(c, 1024)).ReadString('\n')
			if err != nil {
				return
			}
			switch strings.TrimSpace(line) {
			case "focus":
				in.mu.Lock()
				f := in.onFocus
				in.mu.Unlock()
				if f != nil {
					f()
					fmt.Fprintf(c, "pid %d brought its window to the front\n", os.Getpid())
				} else {
					fmt.Fprintf(c, "pid %d runs headless\n", os.Getpid())
				}
			case "ping":
				fmt.Fprintf(c, "pid %d is running\n", os.Getpid())
			default:
				fmt.Fprintln(c, "unknown command")
			}
		}()
	}
}

// Release frees the data folder.
func (in *Instance) Release() {
	if in == nil {
		return
	}
	if err := in.ln.Close(); err != nil {
		slog.Debug("instance socket", "err", err)
	}
	_ = os.Remove(in.path)
}
