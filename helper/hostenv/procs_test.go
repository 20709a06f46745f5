package hostenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// procs against real processes: a shell's children and their command
// lines, a lowered priority, a kill; and a process that is gone.
func TestProcs(t *testing.T) {
	sh := exec.Command("sh", "-c", "sleep 30 & sleep 31 & wait", "parent")
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sh.Process.Kill(); _ = sh.Wait() })
	p := procs{root: "/proc"}
	var kids []int
	for deadline := time.Now().Add(5 * time.Second); len(kids) < 2 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var err error
		if kids, err = p.Children(sh.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	if len(kids) != 2 {
		t.Fatalf("children of the shell: %v", kids)
	}
	var args []string
	for _, k := range kids {
		argv, err := p.Cmdline(k)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, strings.Join(argv, " "))
	}
	slices.Sort(args)
	if strings.Join(args, ",") != "sleep 30,sleep 31" {
		t.Errorf("their command lines: %q", args)
	}
	if argv, _ := p.Cmdline(sh.Process.Pid); strings.Join(argv, "|") != "sh|-c|sleep 30 & sleep 31 & wait|parent" {
		t.Errorf("the shell's command line: %q", argv)
	}
	if err := p.Lower(kids[0]); err != nil {
		t.Fatal(err)
	}
	if n := nice(t, kids[0]); n != 19 {
		t.Errorf("nice %d after Lower, want 19", n)
	}
	if err := p.Kill(kids[0]); err != nil {
		t.Fatal(err)
	}
	// a zombie has no command line; once the shell reaps it, it is no
	// child either
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, err := p.Cmdline(kids[0])
		now, _ := p.Children(sh.Process.Pid)
		if err != nil && !slices.Contains(now, kids[0]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed process: command line error %v, children %v", err, now)
		}
	}
	if _, err := p.Children(1 << 30); err == nil {
		t.Error("children of no process")
	}
	if _, err := p.Cmdline(1 << 30); err == nil {
		t.Error("command line of no process")
	}
}

// nice is a process's nice value (field 19 of /proc/PID/stat).
func nice(t *testing.T, pid int) int {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	n, _ := strconv.Atoi(f[16])
	return n
}

// A pinned process: alive until it ends, killed through its pidfd.
func TestPin(t *testing.T) {
	p := procs{root: "/proc"}
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	pinned, err := p.Pin(sleep.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer pinned.Close()
	if !pinned.Alive() {
		t.Fatal("a running process pinned is not alive")
	}
	if err := pinned.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := sleep.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("the pinned process ended with %v, want killed", err)
	}
	if pinned.Alive() {
		t.Error("an ended process pinned is alive")
	}
	if _, err := p.Pin(1 << 30); err == nil {
		t.Error("pinned no process")
	}
}
