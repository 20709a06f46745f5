package hostenv

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/podunit/podunit/helper"
	"github.com/podunit/podunit/podapi"
)

// procs reads processes from a /proc (helper.Procs).
type procs struct{ root string }

// Children reads the children files of each of pid's threads (a child is
// listed under the thread that forked it).
func (p procs) Children(pid int) ([]int, error) {
	tasks, err := filepath.Glob(filepath.Join(p.root, strconv.Itoa(pid), "task", "*", "children"))
	if err != nil || len(tasks) == 0 {
		return nil, os.ErrNotExist
	}
	var kids []int
	for _, f := range tasks {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // a thread that ended
		}
		for _, w := range strings.Fields(string(data)) {
			if k, err := strconv.Atoi(w); err == nil {
				kids = append(kids, k)
			}
		}
	}
	return kids, nil
}

func (p procs) Cmdline(pid int) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(p.root, strconv.Itoa(pid), "cmdline"))
	if err != nil || len(data) == 0 {
		return nil, os.ErrNotExist
	}
	return strings.Split(string(bytes.TrimSuffix(data, []byte{0})), "\x00"), nil
}

func (procs) Lower(pid int) error { return syscall.Setpriority(syscall.PRIO_PROCESS, pid, 19) }

func (procs) Kill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

func (procs) Pin(pid int) (helper.Pinned, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, err
	}
	return pidfd(fd), nil
}

// pidfd is a process pinned by a pidfd.
type pidfd int

func (p pidfd) Alive() bool { return !podapi.WaitPidfd(int(p), 0) }

func (p pidfd) Kill() error  { return unix.PidfdSendSignal(int(p), unix.SIGKILL, nil, 0) }
func (p pidfd) Close() error { return unix.Close(int(p)) }
