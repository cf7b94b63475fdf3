// Package redisserver runs a real redis-server (Debian's, from PATH) on a loopback port, for the
// shared tier's tests and for the replicas benchmark: no mock stands in for what Redis does. A
// server started here persists nothing (--save "" --appendonly no) and is the caller's to stop.
package redisserver

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Binary is the program Start runs, looked up on PATH.
const Binary = "redis-server"

// Available reports whether Binary is on PATH.
func Available() bool {
	_, err := exec.LookPath(Binary)
	return err == nil
}

// Server is one redis-server process on 127.0.0.1:Port.
type Server struct {
	// Port is the loopback port the server listens on; Restart reuses it.
	Port int

	args []string
	dir  string
	tls  bool // the port speaks TLS only

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been reaped
}

// Start runs redis-server on a free loopback port with persistence off, plus extraArgs (e.g.
// "--requirepass", "secret"), and returns once it accepts connections (within 10 s).
func Start(extraArgs ...string) (*Server, error) { return start(false, extraArgs) }

// StartTLS is Start with the port speaking TLS only, with the given PEM certificate and key
// (for "localhost"; clients are not asked for certificates). URL then is rediss://localhost:port/0.
func StartTLS(certFile, keyFile string, extraArgs ...string) (*Server, error) {
	return start(true, append([]string{"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-auth-clients", "no"}, extraArgs...))
}

func start(useTLS bool, extraArgs []string) (*Server, error) {
	if !Available() {
		return nil, fmt.Errorf("%s is not on PATH (Debian: apt-get install -y redis-server)", Binary)
	}
	dir, err := os.MkdirTemp("", "redisserver-")
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 { // a port found free may be taken before redis-server binds it
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Port: port, args: extraArgs, dir: dir, tls: useTLS}
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	_ = os.RemoveAll(dir)
	return nil, lastErr
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
	ports := []string{"--port", strconv.Itoa(s.Port)}
	if s.tls {
		ports = []string{"--port", "0", "--tls-port", strconv.Itoa(s.Port)}
	}
	args := append(append(ports, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--daemonize", "no", "--logfile", ""), s.args...)
	cmd := exec.Command(Binary, args...)
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", Binary, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("%s exited at start: %s", Binary, lastLines(out.String()))
		default:
		}
		if s.ping() {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("%s did not answer on %s within 10s: %s", Binary, s.Addr(), lastLines(out.String()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	return nil
}

// ping reports whether the server answers: +PONG, or -NOAUTH when it wants a password.
func (s *Server) ping() bool {
	var c net.Conn
	var err error
	d := &net.Dialer{Timeout: 200 * time.Millisecond}
	if s.tls {
		// Only to see that our own process is up; clients under test verify the certificate.
		c, err = tls.DialWithDialer(d, "tcp", s.Addr(), &tls.Config{InsecureSkipVerify: true})
	} else {
		c, err = d.Dial("tcp", s.Addr())
	}
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && (strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH"))
}

func lastLines(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 600 {
		s = "…" + s[len(s)-600:]
	}
	return s
}

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// URL is "redis://127.0.0.1:port/0" (with StartTLS "rediss://localhost:port/0", the name its
// certificate is for), without credentials.
func (s *Server) URL() string {
	if s.tls {
		return "rediss://" + net.JoinHostPort("localhost", strconv.Itoa(s.Port)) + "/0"
	}
	return "redis://" + s.Addr() + "/0"
}

// Kill ends the server at once (SIGKILL), as a crash would, and waits until it has exited.
func (s *Server) Kill() error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return errors.New("redis-server is not running")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL ends a paused process too
		return err
	}
	<-exited
	return nil
}

// Pause stops the server process (SIGSTOP) without closing its port: connections are accepted
// by the kernel but nothing is answered, as with a Redis that hangs or a network that drops
// packets. Resume undoes it.
func (s *Server) Pause() error { return s.signal(syscall.SIGSTOP) }

// Resume lets a paused server go on (SIGCONT).
func (s *Server) Resume() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("redis-server is not running")
	}
	return s.cmd.Process.Signal(sig)
}

// Restart starts the server again on the same port with the same arguments (and, since nothing
// is persisted, empty).
func (s *Server) Restart() error {
	var err error
	for range 50 { // the port may linger briefly after Kill
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

// TB is the part of testing.TB these helpers use. It is declared here so that the explorer's
// binary, which links this package for its bench command, does not link the testing package.
type TB interface {
	Helper()
	Cleanup(func())
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// ForTest starts a server for t, stopped by t.Cleanup. When redis-server is not on PATH it
// skips t, unless REDIS_REQUIRED=1 (CI), where that is a failure.
func ForTest(t TB, extraArgs ...string) *Server {
	t.Helper()
	skipUnlessAvailable(t)
	s, err := Start(extraArgs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// ForTestTLS is ForTest for StartTLS.
func ForTestTLS(t TB, certFile, keyFile string, extraArgs ...string) *Server {
	t.Helper()
	skipUnlessAvailable(t)
	s, err := StartTLS(certFile, keyFile, extraArgs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func skipUnlessAvailable(t TB) {
	t.Helper()
	if !Available() {
		if os.Getenv("REDIS_REQUIRED") == "1" {
			t.Fatalf("REDIS_REQUIRED=1 but %s is not on PATH (Debian: apt-get install -y redis-server)", Binary)
		}
		t.Skipf("%s is not on PATH; install it (apt-get install -y redis-server) or set REDIS_TEST_URL", Binary)
	}
}

// URLForTest is the Redis URL for a test that only needs some Redis: REDIS_TEST_URL when set
// (tests must then use a key prefix of their own), else a server from ForTest.
func URLForTest(t TB) string {
	t.Helper()
	if u := os.Getenv("REDIS_TEST_URL"); u != "" {
		return u
	}
	return ForTest(t).URL()
}
