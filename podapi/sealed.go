package podapi

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// crun protects its binary from the container it runs (CVE-2019-5736) by
// copying itself, on every start, into a sealed memfd and executing that
// copy: a second exec, with its dynamic linking, for each `crun exec` of a
// probe or hook (about 1.3 ms of CPU of the 2.6 that `crun --version` costs
// here). It skips the copy when it already runs from a memfd sealed against
// writes (its is_self_cloned), the way runc's memfd-bind serves runc: so
// a process that runs many (a pod's prober) keeps one such copy and runs
// crun from it; the copy is made again when the binary on disk changes (an
// upgrade). A helper that runs one hook and exits would pay more for the copy
// than it saves.
var sealedRuntime = &sealedBinary{}

// KeepRuntimeCopy has this process run crun from a sealed copy of its own.
func KeepRuntimeCopy() {
	sealedRuntime.mu.Lock()
	sealedRuntime.enabled = true
	sealedRuntime.mu.Unlock()
}

// The seals crun checks for, exactly.
const runtimeSeals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE

type sealedBinary struct {
	mu      sync.Mutex
	enabled bool
	src     string
	id      fileID
	copy    *os.File
}

// fileID tells a file's version apart.
type fileID struct {
	dev, ino uint64
	size     int64
	mtime    time.Time
}

func idOf(path string) (fileID, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: st.Dev, ino: st.Ino, size: fi.Size(), mtime: fi.ModTime()}, true
}

// path is what to execute for the runtime at src: a sealed copy's
// /proc/self/fd path for crun, src itself for another runtime or when the
// copy cannot be made.
func (b *sealedBinary) path(src string) string {
	if filepath.Base(src) != "crun" {
		return src
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.enabled {
		return src
	}
	id, ok := idOf(src)
	if !ok {
		return src
	}
	if b.src != src || b.id != id {
		if b.copy != nil {
			b.copy.Close()
		}
		b.src, b.id, b.copy = src, id, nil
		if f, err := sealedCopy(src); err == nil {
			// Where the copy does not run (a kernel or policy that refuses
			// executing a memfd), the binary on disk is used.
			check := exec.Command(fdPath(f), "--version")
			check.Args[0] = src
			if check.Run() == nil {
				b.copy = f
			} else {
				f.Close()
			}
		}
	}
	if b.copy == nil {
		return src
	}
	// The descriptor is close-on-exec: the runtime's exec resolves the path
	// before it is closed, and nothing the runtime runs inherits it.
	return fdPath(b.copy)
}

func fdPath(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }

// sealedCopy copies src into a new memfd and seals it.
func sealedCopy(src string) (*os.File, error) {
	in, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	// An executable memfd (MFD_EXEC, on kernels that may make memfds
	// non-executable by default; older ones refuse the flag).
	fd, err := unix.MemfdCreate("podunit:"+filepath.Base(src), unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err == unix.EINVAL {
		fd, err = unix.MemfdCreate("podunit:"+filepath.Base(src), unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "memfd:"+src)
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, runtimeSeals); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
