//go:build linux

package quietnet

import (
	"context"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Timer is a timerfd in Go's netpoller: like a time.Timer, but its expiry
// wakes only the thread that waits for it (a Go timer wakes sysmon too).
type Timer struct {
	fd   int
	file *os.File
	// C receives when the timer fires (a fire not yet received is not
	// repeated; one left from before a Reset may still arrive).
	C <-chan struct{}
}

// NewTimer makes a stopped timer.
func NewTimer() (*Timer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	f := os.NewFile(uintptr(fd), "quietnet-timer")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	c := make(chan struct{}, 1)
	go func() {
		var ticks [8]byte
		for {
			err := rc.Read(func(fd uintptr) bool {
				_, _, e := syscall.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&ticks[0])), 8)
				return e != unix.EAGAIN && e != unix.EINTR
			})
			if err != nil {
				return // closed
			}
			select {
			case c <- struct{}{}:
			default:
			}
		}
	}()
	return &Timer{fd: fd, file: f, C: c}, nil
}

// Reset makes the timer fire once, d from now (at least a nanosecond).
func (t *Timer) Reset(d time.Duration) { setTimerfd(t.fd, max(d, 1)) }

// Stop disarms the timer.
func (t *Timer) Stop() { setTimerfd(t.fd, 0) }

// Close releases the timer.
func (t *Timer) Close() error { return t.file.Close() }

// WithDeadline is parent with deadline d that arms no timer: it ends only
// with parent. It suits work whose every wait is bounded by the deadline
// itself, as a Poller's connections are (context.WithDeadline arms a Go
// timer, and the runtime's monitor thread sleeps no longer than until the
// earliest Go timer).
func WithDeadline(parent context.Context, d time.Time) context.Context {
	return deadlineCtx{parent, d}
}

type deadlineCtx struct {
	context.Context
	d time.Time
}

func (c deadlineCtx) Deadline() (time.Time, bool) {
	if pd, ok := c.Context.Deadline(); ok && pd.Before(c.d) {
		return pd, true
	}
	return c.d, true
}
