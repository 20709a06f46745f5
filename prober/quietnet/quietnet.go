//go:build linux

// Package quietnet is TCP for a process that mostly sleeps: a pod's prober,
// woken once a period to open a connection or two.
//
// Go's net package and timers cost such a process more than its work does.
// Every Go timer that expires, and the first system call after an idle spell,
// wakes the runtime's monitor thread (sysmon) besides the thread that does the
// work; each wake is a context switch, and on a small VM a context switch
// costs about as much as the probe's own system calls. Measured on this
// project's machines (a 2-core VM): a Go process woken by time.Sleep twice a
// second to open and close one loopback connection spent 0.51 ms of CPU and
// 6.8 context switches a wake; woken by a timerfd and connecting with raw
// system calls, 0.28 ms and 1.3. A pod's prober (an httpGet and a tcpSocket
// probe a second, in the test world) went from 0.33-0.42 ms and 2.5 context
// switches a probe to 0.28-0.35 ms and 1.3; the rest is the kernel's TCP on
// loopback, the server's side of it included.
//
// So here the system calls are raw (syscall.RawSyscall: no entersyscall, so
// sysmon sleeps on), each wait parks on one epoll instance that sits in Go's
// netpoller, and the timeouts are a timerfd in that epoll: no Go timer is
// armed on the way. A Poller and the connections it dials serve one goroutine
// at a time (a prober's probe loop); a connection's Close may come from
// another.
package quietnet

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Poller waits for its connections' sockets, and for their deadlines, on
// one epoll instance.
type Poller struct {
	mu   sync.Mutex // one wait at a time
	epfd int
	tfd  int // the deadlines' timerfd, in the epoll set
	file *os.File
	rc   syscall.RawConn
}

// NewPoller makes a poller: an epoll instance, registered in Go's netpoller,
// holding a timerfd.
func NewPoller() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	tfd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, tfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(tfd)}); err != nil {
		unix.Close(epfd)
		unix.Close(tfd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		unix.Close(tfd)
		return nil, err
	}
	f := os.NewFile(uintptr(epfd), "quietnet-epoll") // non-blocking: Go polls it
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		unix.Close(tfd)
		return nil, err
	}
	return &Poller{epfd: epfd, tfd: tfd, file: f, rc: rc}, nil
}

// Close releases the poller; its connections must be closed first.
func (p *Poller) Close() error {
	unix.Close(p.tfd)
	return p.file.Close()
}

func rawErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// arm sets the deadlines' timerfd to fire at deadline (zero: never).
func (p *Poller) arm(deadline time.Time) {
	if deadline.IsZero() {
		setTimerfd(p.tfd, 0)
		return
	}
	setTimerfd(p.tfd, max(time.Until(deadline), 1))
}

// setTimerfd makes timerfd fd fire once, d from now; 0 disarms it.
func setTimerfd(fd int, d time.Duration) {
	its := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	syscall.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(fd), 0, uintptr(unsafe.Pointer(&its)), 0, 0, 0)
}

// wait returns once fd has one of events, or os.ErrDeadlineExceeded once
// deadline (non-zero) has passed.
func (p *Poller) wait(fd int, events uint32, deadline time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return os.ErrDeadlineExceeded
	}
	// The timerfd is armed only when the wait parks (a loopback connect
	// often has its answer before the first look).
	armed := false
	defer func() {
		if armed {
			p.arm(time.Time{})
		}
	}()
	ev := unix.EpollEvent{Events: events | unix.EPOLLONESHOT, Fd: int32(fd)}
	_, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(p.epfd), unix.EPOLL_CTL_MOD, uintptr(fd), uintptr(unsafe.Pointer(&ev)), 0, 0)
	if e == unix.ENOENT {
		_, _, e = syscall.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(p.epfd), unix.EPOLL_CTL_ADD, uintptr(fd), uintptr(unsafe.Pointer(&ev)), 0, 0)
	}
	if e != 0 {
		return os.NewSyscallError("epoll_ctl", e)
	}
	for {
		var ready, expired bool
		var failed syscall.Errno
		var evs [2]unix.EpollEvent
		err := p.rc.Read(func(uintptr) bool {
			n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epfd), uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), 0, 0, 0)
			if e == unix.EINTR {
				return false
			}
			if e != 0 {
				failed = e
				return true
			}
			for _, ev := range evs[:n] {
				switch int(ev.Fd) {
				case fd:
					ready = true
				case p.tfd:
					var ticks [8]byte
					syscall.RawSyscall(unix.SYS_READ, uintptr(p.tfd), uintptr(unsafe.Pointer(&ticks[0])), 8)
					expired = true
				}
			}
			if ready || expired {
				return true
			}
			if !armed && !deadline.IsZero() {
				p.arm(deadline)
				armed = true
			}
			return false // park until the epoll instance has news
		})
		switch {
		case err != nil:
			return err // the poller is closed
		case failed != 0:
			return os.NewSyscallError("epoll_pwait", failed)
		case ready:
			return nil
		case expired && !deadline.IsZero() && !time.Now().Before(deadline):
			return os.ErrDeadlineExceeded
		}
	}
}

// goDialer dials what quietnet does not: as hooks' own dialer, no TCP
// keep-alive on a connection that is closed as soon as it has served.
var goDialer = &net.Dialer{KeepAlive: -1}

// DialContext opens a TCP connection to addr, an IP address and a port, by
// ctx's deadline. Any other address (a host name) goes to Go's own dialer.
func (p *Poller) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || (network != "tcp" && network != "tcp4" && network != "tcp6") {
		return goDialer.DialContext(ctx, network, addr)
	}
	deadline, _ := ctx.Deadline()
	raddr := net.TCPAddrFromAddrPort(ap)
	fail := func(op string, err error) error {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return &net.OpError{Op: "dial", Net: "tcp", Addr: raddr, Err: err}
		}
		return &net.OpError{Op: "dial", Net: "tcp", Addr: raddr, Err: os.NewSyscallError(op, err)}
	}
	ip := ap.Addr().Unmap()
	var sa unsafe.Pointer
	var salen uintptr
	family := unix.AF_INET
	var sa4 unix.RawSockaddrInet4
	var sa6 unix.RawSockaddrInet6
	port := ap.Port()
	if ip.Is4() {
		sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: ip.As4()}
		*(*[2]byte)(unsafe.Pointer(&sa4.Port)) = [2]byte{byte(port >> 8), byte(port)}
		sa, salen = unsafe.Pointer(&sa4), unsafe.Sizeof(sa4)
	} else {
		family = unix.AF_INET6
		sa6 = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: ip.As16()}
		*(*[2]byte)(unsafe.Pointer(&sa6.Port)) = [2]byte{byte(port >> 8), byte(port)}
		sa, salen = unsafe.Pointer(&sa6), unsafe.Sizeof(sa6)
	}
	r, _, e := syscall.RawSyscall(unix.SYS_SOCKET, uintptr(family), unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if e != 0 {
		return nil, fail("socket", e)
	}
	fd := int(r)
	for {
		_, _, e = syscall.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(sa), salen)
		if e != unix.EINTR {
			break
		}
	}
	switch e {
	case 0:
	case unix.EINPROGRESS, unix.EALREADY:
		if err := p.wait(fd, unix.EPOLLOUT, deadline); err != nil {
			closeFD(fd)
			return nil, fail("connect", err)
		}
		var soerr int32
		l := uint32(unsafe.Sizeof(soerr))
		_, _, e = syscall.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_ERROR, uintptr(unsafe.Pointer(&soerr)), uintptr(unsafe.Pointer(&l)), 0)
		if e == 0 && soerr != 0 {
			e = syscall.Errno(soerr)
		}
		if e != 0 {
			closeFD(fd)
			return nil, fail("connect", e)
		}
	default:
		closeFD(fd)
		return nil, fail("connect", e)
	}
	c := &Conn{p: p, raddr: raddr}
	c.fd.Store(int64(fd))
	return c, nil
}

func closeFD(fd int) { syscall.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0) }

// Conn is a TCP connection a Poller dialed.
type Conn struct {
	p      *Poller
	fd     atomic.Int64 // -1 once closed
	rd, wd atomic.Int64 // deadlines, Unix nanoseconds; 0: none
	raddr  net.Addr
}

func deadlineOf(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

func (c *Conn) opError(op string, err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
		err = os.NewSyscallError(op, err)
	}
	return &net.OpError{Op: op, Net: "tcp", Addr: c.raddr, Err: err}
}

// Read reads what the peer sent, waiting for it until the read deadline.
func (c *Conn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		fd := c.fd.Load()
		if fd < 0 {
			return 0, c.opError("read", net.ErrClosed)
		}
		n, _, e := syscall.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch e {
		case 0:
			if n == 0 {
				return 0, io.EOF
			}
			return int(n), nil
		case unix.EINTR:
		case unix.EAGAIN:
			if err := c.p.wait(int(fd), unix.EPOLLIN|unix.EPOLLRDHUP, deadlineOf(c.rd.Load())); err != nil {
				return 0, c.opError("read", err)
			}
		default:
			return 0, c.opError("read", e)
		}
	}
}

// Write writes all of b, waiting for room until the write deadline.
func (c *Conn) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		fd := c.fd.Load()
		if fd < 0 {
			return done, c.opError("write", net.ErrClosed)
		}
		n, _, e := syscall.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[done])), uintptr(len(b)-done))
		switch e {
		case 0:
			done += int(n)
		case unix.EINTR:
		case unix.EAGAIN:
			if err := c.p.wait(int(fd), unix.EPOLLOUT, deadlineOf(c.wd.Load())); err != nil {
				return done, c.opError("write", err)
			}
		default:
			return done, c.opError("write", e)
		}
	}
	return done, nil
}

// Close closes the connection (once).
func (c *Conn) Close() error {
	fd := c.fd.Swap(-1)
	if fd < 0 {
		return c.opError("close", net.ErrClosed)
	}
	_, _, e := syscall.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
	return rawErr(e)
}

// CloseWrite shuts down the sending side: the peer reads EOF.
func (c *Conn) CloseWrite() error {
	fd := c.fd.Load()
	if fd < 0 {
		return c.opError("shutdown", net.ErrClosed)
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_SHUTDOWN, uintptr(fd), unix.SHUT_WR, 0); e != 0 {
		return c.opError("shutdown", e)
	}
	return nil
}

// LocalAddr is not tracked: nil.
func (c *Conn) LocalAddr() net.Addr { return nil }

// RemoteAddr is the address dialed.
func (c *Conn) RemoteAddr() net.Addr { return c.raddr }

// SetDeadline sets both deadlines; they bound the waits that follow.
func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline bounds the reads that follow.
func (c *Conn) SetReadDeadline(t time.Time) error { c.rd.Store(unixNano(t)); return nil }

// SetWriteDeadline bounds the writes that follow.
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wd.Store(unixNano(t)); return nil }

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
