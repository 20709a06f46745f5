package engine

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// watched starts a child process (sh -c script) and a watch of it, as
// StopContainer watches a container's first process; conmon is a second
// child when withConmon.
func watched(t *testing.T, script string, withConmon bool) (*exitWatch, *exec.Cmd, *exec.Cmd) {
	t.Helper()
	start := func() *exec.Cmd {
		cmd := exec.Command("sh", "-c", script)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	proc := start()
	fd, err := unix.PidfdOpen(proc.Process.Pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open: %v", err)
	}
	w := &exitWatch{proc: fd, conmon: -1, signal: "15"}
	var conmon *exec.Cmd
	if withConmon {
		conmon = start()
		if w.conmon, err = unix.PidfdOpen(conmon.Process.Pid, 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(w.close)
	return w, proc, conmon
}

// killer sends the signals stop asks for to proc, and keeps them.
func killer(proc *exec.Cmd, sent *[]string) func(context.Context, string) error {
	return func(_ context.Context, sig string) error {
		*sent = append(*sent, sig)
		s := syscall.SIGKILL
		if n, err := strconv.Atoi(sig); err == nil {
			s = syscall.Signal(n)
		}
		return proc.Process.Signal(s)
	}
}

// A process that ends on its stop signal is seen gone at once: no SIGKILL,
// no polling interval.
func TestStopEndsOnTheSignal(t *testing.T) {
	w, proc, _ := watched(t, "exec sleep 100", false)
	var sent []string
	start := time.Now()
	if err := w.stop(context.Background(), 30*time.Second, func() {}, killer(proc, &sent)); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("stop took %s", took)
	}
	if !slices.Equal(sent, []string{"15"}) {
		t.Errorf("signals sent: %v, want only the stop signal", sent)
	}
}

// A process that ignores its stop signal gets SIGKILL at the deadline, not
// before it.
func TestStopKillsAtTheDeadline(t *testing.T) {
	w, proc, _ := watched(t, `trap "" TERM; while :; do sleep 0.05; done`, false)
	time.Sleep(100 * time.Millisecond) // the trap is set
	var sent []string
	start := time.Now()
	if err := w.stop(context.Background(), 400*time.Millisecond, func() {}, killer(proc, &sent)); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if !slices.Equal(sent, []string{"15", "SIGKILL"}) {
		t.Errorf("signals sent: %v, want the stop signal then SIGKILL", sent)
	}
	if took < 400*time.Millisecond {
		t.Errorf("SIGKILL came after %s, before the 400ms deadline", took)
	}
}

// Once the container's process ended, it is removed (gone) while conmon
// still runs, and stop returns once conmon is gone too, so systemd finds
// nothing to kill.
func TestStopWaitsForConmon(t *testing.T) {
	w, proc, conmon := watched(t, "exec sleep 100", true)
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = conmon.Process.Signal(syscall.SIGTERM)
	}()
	var sent []string
	calls := 0
	gone := func() {
		calls++
		if ended, _ := waitPidfd(context.Background(), w.proc, time.Millisecond); !ended {
			t.Error("gone before the process ended")
		}
		if ended, _ := waitPidfd(context.Background(), w.conmon, time.Millisecond); ended {
			t.Error("gone only after conmon ended")
		}
	}
	if err := w.stop(context.Background(), 30*time.Second, gone, killer(proc, &sent)); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("gone called %d times", calls)
	}
	// conmon ended: its pidfd is readable without waiting
	if ended, _ := waitPidfd(context.Background(), w.conmon, time.Millisecond); !ended {
		t.Error("stop returned while conmon ran")
	}
}

// A stop cut short by its context says so.
func TestStopHonoursTheContext(t *testing.T) {
	w, proc, _ := watched(t, `trap "" TERM; while :; do sleep 0.05; done`, false)
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var sent []string
	if err := w.stop(ctx, time.Minute, func() { t.Error("gone called for a running process") }, killer(proc, &sent)); err == nil {
		t.Error("no error after the context ended")
	}
}

// The fast stop is used only where the first process's end is the
// container's, and never on a process that is not the container's.
func TestWatchExitRefuses(t *testing.T) {
	self := os.Getpid()
	for _, c := range []struct {
		name    string
		id      string
		pid     int
		sig     uint
		pidMode string
	}{
		{"no process", "x", 0, 15, ""},
		{"stop signal unknown", "x", self, 0, ""},
		{"process namespace shared with the infra", "x", self, 15, "container:abc"},
		{"the host's process namespace", "x", self, 15, "host"},
		{"a process of another cgroup (a pid reused)", "0123456789abcdef0123456789abcdef", self, 15, "private"},
	} {
		if w, ok := watchExit(c.id, c.pid, 0, c.sig, c.pidMode); ok {
			w.close()
			t.Errorf("%s: watched", c.name)
		}
	}
}
