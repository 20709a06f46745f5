package helper

import (
	"bufio"
	"context"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Relay joins each connection to its socket with one to localhost:port,
// both ways, half-closes passed on; it ends with its context.
func TestRelay(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				c.Write([]byte("echo " + line))
			}()
		}
	}()
	sock := filepath.Join(t.TempDir(), "f.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Relay(ctx, ln, strconv.Itoa(echo.Addr().(*net.TCPAddr).Port)) }()
	go func() { <-ctx.Done(); ln.Close() }()
	for i := 0; i < 3; i++ {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("hi\n"))
		c.(*net.UnixConn).CloseWrite()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		got, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if got != "echo hi\n" {
			t.Errorf("connection %d: %q", i, got)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Relay ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("Relay did not end with its context")
	}
}
