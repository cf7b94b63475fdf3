// Package pgserver runs a real PostgreSQL server (Debian's postgresql package) for the history
// journal's tests: initdb into a temporary directory, postgres on a free loopback port with its
// unix sockets in that directory. PostgreSQL refuses to run as root, so when the tests do, the
// server runs as the unprivileged user nobody, the directory chowned to it. A server started
// here is the caller's to stop; it is for tests and must not be imported by the explorer's
// binary.
package pgserver

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// Password is the password of the server's superuser "postgres" over TCP, so that the URLs
// the tests use carry a secret, as DATABASE_URL does in production.
const Password = "pg-test-s3cret"

// BinDir is the directory of initdb and postgres: the one of initdb on PATH, else the newest
// /usr/lib/postgresql/<version>/bin (where Debian puts them); "" when neither exists.
func BinDir() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "postgres")); err == nil {
			return filepath.Dir(p)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Available reports whether initdb and postgres were found (BinDir).
func Available() bool { return BinDir() != "" }

// Server is one postgres process on 127.0.0.1:Port, its data in a temporary directory.
type Server struct {
	// Port is the loopback port the server listens on; Restart reuses it.
	Port int

	bin  string
	dir  string // holds data/ and the unix sockets
	cred *syscall.Credential

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been reaped
}

// Start initialises a cluster and runs postgres on a free loopback port, returning once it
// accepts connections (within 30 s). Its superuser is "postgres", with Password over TCP.
func Start() (*Server, error) {
	bin := BinDir()
	if bin == "" {
		return nil, errors.New("initdb and postgres not found (Debian: apt-get install -y postgresql)")
	}
	dir, err := os.MkdirTemp("", "pgserver-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir}
	if err := s.initdb(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	var lastErr error
	for range 5 { // a port found free may be taken before postgres binds it
		if s.Port, err = freePort(); err != nil {
			return nil, err
		}
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	_ = os.RemoveAll(dir)
	return nil, lastErr
}

// initdb makes the cluster in s.dir/data, as nobody when this process is root.
func (s *Server) initdb() error {
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			return fmt.Errorf("postgres refuses to run as root and there is no user nobody: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(s.dir, uid, gid); err != nil {
			return err
		}
	}
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(Password+"\n"), 0o600); err != nil {
		return err
	}
	if s.cred != nil {
		if err := os.Chown(pwfile, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return err
		}
	}
	// Local (socket) connections are trusted, TCP ones need the password; no fsync, as the
	// tests crash the server process, never the machine.
	out, err := s.run(filepath.Join(s.bin, "initdb"), "-D", filepath.Join(s.dir, "data"), "-U", "postgres",
		"--pwfile", pwfile, "--auth-local", "trust", "--auth-host", "scram-sha-256", "--encoding", "UTF8", "--no-sync")
	_ = os.Remove(pwfile)
	if err != nil {
		return fmt.Errorf("initdb: %w: %s", err, lastLines(out))
	}
	return nil
}

// command is name with args, run in s.dir as the server's user, with a C locale.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	cmd.Env = []string{"LANG=C", "LC_ALL=C", "PATH=/usr/bin:/bin", "HOME=" + s.dir}
	// Its own process group, so that Kill ends the backends with the postmaster, as a crash
	// of the server would.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: s.cred}
	return cmd
}

func (s *Server) run(name string, args ...string) (string, error) {
	cmd := s.command(name, args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) start() error {
	cmd := s.command(filepath.Join(s.bin, "postgres"), "-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(s.Port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+s.dir, "-c", "fsync=off",
		"-c", "max_connections=50", "-c", "shared_buffers=16MB")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("postgres exited at start: %s", lastLines(out.String()))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			return fmt.Errorf("postgres did not answer on %s within 30s: %v: %s", s.Addr(), err, lastLines(out.String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	return nil
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the reader's String.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func lastLines(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 800 {
		s = "…" + s[len(s)-800:]
	}
	return s
}

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// URL is the postgres:// URL of database db as the superuser, with Password.
func (s *Server) URL(db string) string {
	return "postgres://postgres:" + Password + "@" + s.Addr() + "/" + db + "?sslmode=disable"
}

// CreateDatabase creates an empty database named name and returns its URL.
func (s *Server) CreateDatabase(name string) (string, error) {
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
		return "", err
	}
	return s.URL(name), nil
}

// Kill ends the server and its backends at once (SIGKILL to its process group), as a crash
// would, and waits until the postmaster has exited. Its data stays for Restart.
func (s *Server) Kill() error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return errors.New("postgres is not running")
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		return err
	}
	<-exited
	return nil
}

// Restart starts the server again on the same port and data (after Kill: with crash
// recovery, as a restarted production server).
func (s *Server) Restart() error {
	var err error
	for range 100 { // the port, or the old backends' shared memory, may linger briefly
		if err = s.start(); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// Stop kills the server if it runs and removes its directory.
func (s *Server) Stop() {
	_ = s.Kill()
	_ = os.RemoveAll(s.dir)
}

// TB is the part of testing.TB these helpers use, so that this package does not link the
// testing package into whatever imports it.
type TB interface {
	Helper()
	Name() string
	Cleanup(func())
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// ForTest starts a server for t, stopped by t.Cleanup. When PostgreSQL is not installed it
// skips t, unless POSTGRES_REQUIRED=1 (CI), where that is a failure.
func ForTest(t TB) *Server {
	t.Helper()
	if !Available() {
		if os.Getenv("POSTGRES_REQUIRED") == "1" {
			t.Fatalf("POSTGRES_REQUIRED=1 but initdb and postgres are not installed (Debian: apt-get install -y postgresql)")
		}
		t.Skipf("PostgreSQL is not installed (apt-get install -y postgresql); set POSTGRES_REQUIRED=1 to make this a failure")
	}
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// DatabaseForTest is the URL of a new empty database on s, named after t.
func DatabaseForTest(t TB, s *Server) string {
	t.Helper()
	name := strings.ToLower(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name()))
	if len(name) > 50 {
		name = name[len(name)-50:]
	}
	u, err := s.CreateDatabase("t_" + name + "_" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10))
	if err != nil {
		t.Fatal(err)
	}
	return u
}
