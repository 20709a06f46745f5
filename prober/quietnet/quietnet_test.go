//go:build linux

package quietnet

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func poller(t *testing.T) *Poller {
	t.Helper()
	p, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func withDeadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// A connection carries bytes both ways, ends with EOF when the peer closes,
// and fails with net.ErrClosed once closed (Close twice is an error, not a
// second close of a descriptor another connection may hold by then).
func TestConnEcho(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		got, _ := io.ReadAll(c) // until the client's half closes
		c.Write(got)            // then all of it back
		c.Close()
	}()
	p := poller(t)
	c, err := p.DialContext(withDeadline(t, 5*time.Second), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if c.RemoteAddr().String() != l.Addr().String() {
		t.Errorf("remote address %v, want %v", c.RemoteAddr(), l.Addr())
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	big := strings.Repeat("0123456789", 1_000_000) // more than the socket buffers: writes wait for room, reads for bytes
	if n, err := c.Write([]byte(big)); err != nil || n != len(big) {
		t.Fatalf("wrote %d: %v", n, err)
	}
	if err := c.(*Conn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != big {
		t.Errorf("read back %d bytes (%v), want %d", len(got), err, len(big))
	}
	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second close: %v", err)
	}
}

// A port nobody listens on is refused, in the words of Go's dialer; a read
// that outlives its deadline fails with os.ErrDeadlineExceeded (a timeout to
// net.Error), and the poller serves the next connection as before.
func TestDialRefusedAndDeadlines(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	p := poller(t)
	_, err := p.DialContext(withDeadline(t, 5*time.Second), "tcp", closed)
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.HasPrefix(err.Error(), "dial tcp "+closed) {
		t.Errorf("dial of a closed port: %v", err)
	}

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c, err := p.DialContext(withDeadline(t, 5*time.Second), "tcp", silent.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.SetReadDeadline(start.Add(100 * time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read past its deadline: %v", err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Errorf("read gave up %v after it began, before its deadline", time.Since(start))
	}
	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read with a deadline passed: %v", err)
	}

	// A deadline that fired does not end the next wait early.
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		s, err := echo.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		time.Sleep(300 * time.Millisecond)
		s.Write([]byte("late"))
	}()
	c2, err := p.DialContext(withDeadline(t, 5*time.Second), "tcp", echo.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c2, buf); err != nil || string(buf) != "late" {
		t.Errorf("read %q: %v", buf, err)
	}
}

// A dial bounded by its context's deadline ends at the deadline: a
// listener with a backlog of one that accepts nothing drops the SYNs of the
// connections after the first few, which wait for an answer that never comes.
func TestDialDeadline(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*unix.SockaddrInet4).Port))
	p := poller(t)
	for i := 0; i < 8; i++ {
		start := time.Now()
		c, err := p.DialContext(withDeadline(t, 200*time.Millisecond), "tcp", addr)
		if err == nil {
			defer c.Close()
			continue // still room in the queue
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || !strings.HasPrefix(err.Error(), "dial tcp "+addr) {
			t.Fatalf("dial past its deadline: %v", err)
		}
		if time.Since(start) < 200*time.Millisecond {
			t.Errorf("the dial gave up after %v, before its deadline", time.Since(start))
		}
		return
	}
	t.Fatal("eight connections to a backlog of one, none waited")
}

// TLS and HTTP work over its connections; an address that is not an IP
// goes through Go's own dialer.
func TestTLSAndNames(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	defer srv.Close()
	p := poller(t)
	addr := strings.TrimPrefix(srv.URL, "https://")
	c, err := p.DialContext(withDeadline(t, 5*time.Second), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*Conn); !ok {
		t.Fatalf("dialed an IP address with %T", c)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(tc, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	got, _ := io.ReadAll(tc)
	if !strings.HasSuffix(string(got), "hello") {
		t.Errorf("answer %q", got)
	}
	tc.Close()

	_, port, _ := net.SplitHostPort(addr)
	n, err := p.DialContext(withDeadline(t, 5*time.Second), "tcp", "localhost:"+port)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := n.(*Conn); ok {
		t.Error("a host name was dialed by quietnet")
	}
	n.Close()
}

// A Timer fires once after Reset, not after Stop.
func TestTimer(t *testing.T) {
	tm, err := NewTimer()
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	start := time.Now()
	tm.Reset(50 * time.Millisecond)
	select {
	case <-tm.C:
		if time.Since(start) < 50*time.Millisecond {
			t.Errorf("fired after %v", time.Since(start))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not fire")
	}
	tm.Reset(50 * time.Millisecond)
	tm.Stop()
	select {
	case <-tm.C:
		t.Error("fired after Stop")
	case <-time.After(200 * time.Millisecond):
	}
}
