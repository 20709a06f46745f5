package podstate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockPod takes the pod's lock, $DIR/locks/POD.lock, held by every podunit
// that creates or removes the pod (up, down), so two of them never work on one
// pod at once. It waits while another holds it, calling waiting once, until
// ctx ends. The lock is an flock(2): a podunit that dies lets it go.
func LockPod(ctx context.Context, dir, pod string, waiting func()) (unlock func(), err error) {
	return lock(ctx, dir, pod, syscall.LOCK_EX, waiting)
}

// LockShared takes the lock of that name shared: many may hold it at once,
// and LockPod of it waits until they all let it go.
func LockShared(ctx context.Context, dir, name string, waiting func()) (unlock func(), err error) {
	return lock(ctx, dir, name, syscall.LOCK_SH, waiting)
}

// PodBusy tells whether a podunit holds the pod's lock (LockPod): up or down
// is at work on it.
func PodBusy(dir, pod string) bool {
	f, err := os.Open(filepath.Join(dir, "locks", pod+".lock"))
	if err != nil {
		return false
	}
	defer f.Close()
	return errors.Is(syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB), syscall.EWOULDBLOCK)
}

func lock(ctx context.Context, dir, pod string, how int, waiting func()) (unlock func(), err error) {
	path := filepath.Join(dir, "locks", pod+".lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
