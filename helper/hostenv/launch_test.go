package hostenv

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/podunit/podunit/units/unitdef"
)

// The helper leaves its unit's group for a "helper" sub-group, conmon goes
// into "conmon": the unit's group itself holds no process, as cgroup v2
// wants of a group whose children have controllers.
func TestUnitCgroupMoves(t *testing.T) {
	fs := t.TempDir()
	self := filepath.Join(t.TempDir(), "cgroup")
	const want = "/podunit.slice/podunit-p.slice/podunit-p-web.service"
	if err := os.WriteFile(self, []byte("1:name=systemd:/\n0::"+want+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(fs, want), 0o755); err != nil {
		t.Fatal(err)
	}
	u := &unitCgroup{fs: fs, self: self}
	parent, err := u.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	if parent != want {
		t.Errorf("parent %q, want %q", parent, want)
	}
	if err := u.Adopt(4711); err != nil {
		t.Fatal(err)
	}
	for sub, pid := range map[string]int{"helper": os.Getpid(), "conmon": 4711} {
		got, err := os.ReadFile(filepath.Join(fs, want, sub, "cgroup.procs"))
		if err != nil || string(got) != strconv.Itoa(pid) {
			t.Errorf("%s: %q %v, want %d", sub, got, err, pid)
		}
	}
	if err := os.WriteFile(self, []byte("0::/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (&unitCgroup{fs: fs, self: self}).Prepare(); err == nil {
		t.Error("the root group was taken for a unit's")
	}
}

// What the helper tells systemd arrives as one datagram.
func TestNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	if err := notify("MAINPID=4711\nREADY=1"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, err := l.Read(buf)
	if err != nil || string(buf[:n]) != "MAINPID=4711\nREADY=1" {
		t.Errorf("got %q %v", buf[:n], err)
	}
	t.Setenv("NOTIFY_SOCKET", "")
	if notify("READY=1") == nil {
		t.Error("no socket, no error")
	}
}

// podunit's podman service: podman's own, with the cgroupfs manager (the
// containers' groups go where the helpers ask), on podunit's socket, killing
// only itself when it stops.
func TestPodmanServiceUnit(t *testing.T) {
	u := unitdef.PodmanService("/usr/bin/podman", "/run/user/1000/podunit/podman.sock")
	if u.Name != "podunit.podman.service" {
		t.Errorf("name %s", u.Name)
	}
	got := strings.Join(u.Property("ExecStart").Value.([]unitdef.Exec)[0].Argv, " ")
	if got != "/usr/bin/podman --cgroup-manager=cgroupfs system service --time=300 unix:///run/user/1000/podunit/podman.sock" {
		t.Errorf("ExecStart %s", got)
	}
	if u.Property("Type").Value != "notify" {
		t.Errorf("Type %v", u.Property("Type").Value)
	}
	// podman's child says READY when it made the user namespace anew
	if u.Property("NotifyAccess").Value != "all" {
		t.Errorf("NotifyAccess %v", u.Property("NotifyAccess").Value)
	}
	// exec sessions started through it outlive its idle exit
	if u.Property("KillMode").Value != "process" {
		t.Errorf("KillMode %v", u.Property("KillMode").Value)
	}
}
