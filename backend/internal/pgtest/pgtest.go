// Package pgtest starts a throwaway PostgreSQL server for a test: a temporary cluster made with
// initdb from Debian's postgresql package (as an unprivileged user when the test runs as root,
// since PostgreSQL refuses to run as root), listening on a free loopback port with its socket in
// the cluster's folder, password authentication (scram-sha-256), and torn down when the test
// ends. Where the package is not installed the test is skipped, saying what to install; under
// CI it fails (backend/internal/testneeds). The store's tests and the fleet tests use it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"voicebot/backend/internal/testneeds"
)

// Server is a running throwaway PostgreSQL server.
type Server struct {
	Port     int
	User     string
	Password string
	Dir      string // the cluster's folder (data/, the socket, the log)
	cmd      *exec.Cmd
	exited   chan struct{}
	dbs      atomic.Int64
	bin      string
	owner    *owner // the cluster's owner when the test runs as root
}

// Install is what a machine without the server needs.
const Install = "Debian: apt-get install postgresql"

// BinDir finds the PostgreSQL server's programs (initdb, postgres): the newest of Debian's
// /usr/lib/postgresql/N/bin, else initdb on the PATH; "" when there is none.
func BinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if fileExists(filepath.Join(d, "initdb")) && fileExists(filepath.Join(d, "postgres")) {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if d := filepath.Dir(p); fileExists(filepath.Join(d, "postgres")) {
			return d
		}
	}
	return ""
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Start starts a server for the test and stops it (and removes its cluster) when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := BinDir()
	if bin == "" {
		testneeds.Missing(tb, "PostgreSQL server not installed: the PostgreSQL store tests need initdb and postgres ("+Install+")")
	}
	s, err := start(bin)
	if err != nil {
		tb.Fatalf("start a throwaway PostgreSQL: %v", err)
	}
	tb.Cleanup(func() { s.Stop() })
	return s
}

func start(bin string) (*Server, error) {
	dir, err := os.MkdirTemp("", "voicebot-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, User: "voicebot", Password: randomHex(16), exited: make(chan struct{}), bin: bin}
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if os.Geteuid() == 0 {
		// PostgreSQL will not run as root: the cluster belongs to nobody.
		u, err := user.Lookup("nobody")
		if err != nil {
			return fail(fmt.Errorf("running as root, and no unprivileged user to run PostgreSQL as: %w", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.owner = &owner{uid: uid, gid: gid}
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(err)
		}
	}
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		return fail(err)
	}
	if s.owner != nil {
		_ = os.Chown(pwfile, s.owner.uid, s.owner.gid)
	}
	initdb := s.command("initdb", "-D", filepath.Join(dir, "data"), "-U", s.User, "--pwfile", pwfile,
		"--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	os.Remove(pwfile)
	for attempt := 0; ; attempt++ {
		s.Port, err = freePort()
		if err != nil {
			return fail(err)
		}
		err = s.run()
		if err == nil || attempt == 2 {
			break
		}
	}
	if err != nil {
		return fail(err)
	}
	return s, nil
}

// command is a PostgreSQL program run as the cluster's owner.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.Dir
	cmd.SysProcAttr = sysProcAttr(s.owner)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

// run starts the server on s.Port and waits until it accepts connections.
func (s *Server) run() error {
	logf, err := os.OpenFile(filepath.Join(s.Dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600) // kept across a Restart
	if err != nil {
		return err
	}
	if s.owner != nil {
		_ = os.Chown(logf.Name(), s.owner.uid, s.owner.gid)
	}
	s.cmd = s.command("postgres", "-D", filepath.Join(s.Dir, "data"), "-p", strconv.Itoa(s.Port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+s.Dir, "-c", "max_connections=200")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("postgres: %w", err)
	}
	s.exited = make(chan struct{})
	go func() { s.cmd.Wait(); logf.Close(); close(s.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, s.DSN("postgres"))
		cancel()
		if err == nil {
			c.Close(context.Background())
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited at start:\n%s", s.Log())
		default:
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("postgres not accepting connections after 30 s: %v\n%s", err, s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log is the server's log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
	return string(b)
}

// DSN is the URL of a database of the server (with the password: tests only).
func (s *Server) DSN(database string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(s.User, s.Password), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)),
		Path: "/" + database, RawQuery: "sslmode=disable"}
	return u.String()
}

// NewDatabase creates an empty database on the server and returns its DSN.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("t%d", s.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatal(err)
	}
	return s.DSN(name)
}

// Stop stops the server (a fast shutdown, then a kill after 10 s) and removes its cluster.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.kill()
		}
	}
	os.RemoveAll(s.Dir)
}

// Kill stops the server at once (SIGKILL), as a crash or a power cut would, keeping its cluster;
// Restart starts it again on the same port.
func (s *Server) Kill() { s.kill() }

func (s *Server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// Halt stops the server as an operator or a failover would (a fast shutdown: open connections
// are closed, transactions under way are rolled back), keeping its cluster; Restart starts it
// again on the same port. The outbox test (backend/appliance) takes the database away with it.
func (s *Server) Halt() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return fmt.Errorf("postgres is not running")
	}
	select {
	case <-s.exited:
		return fmt.Errorf("postgres had already exited:\n%s", s.Log())
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(30 * time.Second):
		s.kill()
		return fmt.Errorf("postgres did not stop within 30 s of a fast shutdown (killed)")
	}
}

// Restart starts the server again on its port after Kill or Halt, and waits until it accepts
// connections.
func (s *Server) Restart() error { return s.run() }

// owner is an unprivileged user.
type owner struct{ uid, gid int }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
