package podstate

import (
	"context"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DirWatch reports, on C, that a file of one of its directories was
// replaced, moved or removed, or that a directory was made or removed in
// one: podunit's state is written by rename (podstate.WriteAtomic), so a
// rename into a directory is a new record, and the temporary file made for
// it is not a change. Signals coalesce (one pending at most). The watch ends
// with ctx. An inotify watch costs no wake-up while nothing changes, where a
// poll costs one per interval for as long as the pods run.
type DirWatch struct {
	fd int
	f  *os.File
	C  <-chan struct{}
}

const dirWatchMask = unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE | unix.IN_DELETE_SELF | unix.IN_CREATE | unix.IN_ONLYDIR

func NewDirWatch(ctx context.Context) (*DirWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "inotify") // non-blocking: read through Go's poller
	ch := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 8192)
		for {
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			if !relevant(buf[:n]) {
				continue
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	go func() { <-ctx.Done(); f.Close() }()
	return &DirWatch{fd: fd, f: f, C: ch}, nil
}

// relevant: whether a batch of inotify events holds a change, not only
// the creation of files (WriteAtomic's temporary files, logs, events).
func relevant(buf []byte) bool {
	for len(buf) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[0]))
		next := unix.SizeofInotifyEvent + int(ev.Len)
		if next > len(buf) {
			return true // cut short: take it as a change
		}
		name := strings.TrimRight(string(buf[unix.SizeofInotifyEvent:next]), "\x00")
		buf = buf[next:]
		switch {
		case ev.Mask&unix.IN_Q_OVERFLOW != 0:
			return true
		case ev.Mask&unix.IN_IGNORED != 0: // the watch went with its directory: seen as IN_DELETE_SELF
		case ev.Mask&unix.IN_CREATE != 0 && ev.Mask&unix.IN_ISDIR == 0:
		case ev.Mask&unix.IN_MOVED_FROM != 0 && strings.HasPrefix(name, "."):
		default:
			return true
		}
	}
	return false
}

// Add watches dir too (again is harmless: the kernel keeps one watch per
// directory); a directory that does not exist is not an error: its parent's
// watch sees it made.
func (w *DirWatch) Add(dir string) error {
	_, err := unix.InotifyAddWatch(w.fd, dir, dirWatchMask)
	if err == unix.ENOENT || err == unix.ENOTDIR {
		return nil
	}
	return err
}

// WatchDir watches one directory, made if missing.
func WatchDir(ctx context.Context, dir string) (<-chan struct{}, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	w, err := NewDirWatch(ctx)
	if err != nil {
		return nil, err
	}
	if err := w.Add(dir); err != nil {
		w.f.Close()
		return nil, err
	}
	return w.C, nil
}

// Close ends the watch.
func (w *DirWatch) Close() error { return w.f.Close() }
