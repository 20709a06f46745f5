package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// forward is podunit port-forward's helper (OpForward). Inside the pod's
// network namespace (entered first) it listens on the unix socket the
// command names, which the port-forward reaches from the host's network,
// and relays each connection to the pod's port on its loopback, as the
// kubelet's port-forward does. It ends when its standard input does: the
// port-forward that started it is gone.
func (t *task) forward(ctx context.Context) error {
	if !t.cmd.InNetns {
		return t.enterNetns(ctx, t.cmd)
	}
	_ = os.Remove(t.cmd.Socket)
	ln, err := net.Listen("unix", t.cmd.Socket)
	if err != nil {
		return err
	}
	defer os.Remove(t.cmd.Socket)
	if err := os.Chmod(t.cmd.Socket, 0o600); err != nil {
		ln.Close()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	fmt.Fprintln(t.Out, "ready") // the port-forward waits for this line
	return Relay(ctx, ln, t.cmd.Action)
}

// Relay accepts connections on ln until ctx ends, joining each to
// localhost:port (IPv4, then IPv6).
func Relay(ctx context.Context, ln net.Listener, port string) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go func() {
			defer c.Close()
			d := net.Dialer{Timeout: 5 * time.Second}
			up, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", port))
			if err != nil {
				if up, err = d.DialContext(ctx, "tcp", net.JoinHostPort("::1", port)); err != nil {
					fmt.Fprintf(os.Stderr, "port %s: %v\n", port, err)
					return
				}
			}
			defer up.Close()
			Join(c, up)
		}()
	}
}

// Join copies both ways between a and b until both directions end; each end
// that finishes is passed on as a half-close where the connection has one.
func Join(a, b net.Conn) {
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			_ = dst.Close()
		}
		done <- struct{}{}
	}
	go pipe(a, b)
	go pipe(b, a)
	<-done
	<-done
}
