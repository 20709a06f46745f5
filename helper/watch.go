package helper

import (
	"context"
	"os"

	"golang.org/x/sys/unix"
)

// watchDir reports, on the returned channel, that a file of dir was
// replaced or removed: the run records are written by rename
// (podstate.WriteAtomic), so a rename into dir is a new record. Signals
// coalesce (one pending at most). The watch ends with ctx. An inotify watch
// costs no wake-up while nothing changes, where a poll costs two a second
// per pod.
func watchDir(ctx context.Context, dir string) (<-chan struct{}, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_MOVED_TO|unix.IN_DELETE|unix.IN_DELETE_SELF); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "inotify "+dir) // non-blocking: read through Go's poller
	ch := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := f.Read(buf); err != nil {
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	go func() { <-ctx.Done(); f.Close() }()
	return ch, nil
}
