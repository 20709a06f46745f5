package helper

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/units/unitdef"
)

// fakeProcs is a process table: parents, command lines, and what was done.
type fakeProcs struct {
	parent  map[int]int
	argv    map[int][]string
	lowered []int
	killed  []int
	pinned  []int
	closed  int
	// appear: processes that show up only after that many Children calls
	appear map[int]int
	calls  int
	// endsWhenPinned: the process ends as it is pinned (its pid free)
	endsWhenPinned bool
}

func (p *fakeProcs) Children(pid int) ([]int, error) {
	p.calls++
	if _, ok := p.argv[pid]; !ok {
		return nil, fmt.Errorf("no process %d", pid)
	}
	var kids []int
	for k, par := range p.parent {
		if par == pid && p.calls > p.appear[k] {
			kids = append(kids, k)
		}
	}
	slices.Sort(kids)
	return kids, nil
}

func (p *fakeProcs) Cmdline(pid int) ([]string, error) {
	if a, ok := p.argv[pid]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("no process %d", pid)
}

func (p *fakeProcs) Lower(pid int) error { p.lowered = append(p.lowered, pid); return nil }
func (p *fakeProcs) Kill(pid int) error  { p.killed = append(p.killed, pid); return nil }
func (p *fakeProcs) Pin(pid int) (Pinned, error) {
	if _, ok := p.argv[pid]; !ok {
		return nil, fmt.Errorf("no process %d", pid)
	}
	p.pinned = append(p.pinned, pid)
	if p.endsWhenPinned {
		delete(p.argv, pid)
	}
	return &fakePinned{p, pid}, nil
}

type fakePinned struct {
	p   *fakeProcs
	pid int
}

func (f *fakePinned) Alive() bool  { _, ok := f.p.argv[f.pid]; return ok }
func (f *fakePinned) Kill() error  { return f.p.Kill(f.pid) }
func (f *fakePinned) Close() error { f.p.closed++; return nil }

const ctrID = "4c2ce5e24691505178d9917c7b1eca3f0c6d2b2bb6b62e2c1a37bd1f4e0a3d11"

// conmonTable: conmon 99 monitors ctrID; the container's own process 100
// is its child, and so is its exit command 101 (podman, which forked 102).
func conmonTable() *fakeProcs {
	return &fakeProcs{
		parent: map[int]int{100: 99, 101: 99, 102: 101},
		argv: map[int][]string{
			99:  {"/usr/bin/conmon", "--api-version", "1", "-c", ctrID, "-u", ctrID, "-r", "/usr/bin/crun"},
			100: {"sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"},
			101: {"/usr/bin/podman", "--root", "/x", "--log-level", "warning", "container", "cleanup", "--rm", ctrID},
			102: {"/usr/bin/podman", "--root", "/x", "container", "cleanup", "--rm", ctrID},
		},
		appear: map[int]int{},
	}
}

// A stop that removed its container lowers conmon's exit command as soon
// as it finds it, then ends it and what it started; the container's own
// process is never touched.
func TestStopEndsTheExitCommand(t *testing.T) {
	for _, c := range []struct {
		name string
		cmd  contract.Command
	}{
		{"app", contract.Command{Op: contract.OpStop, Pod: "p", Container: "app", InNetns: true, Reason: "Delete", Grace: ptr(time.Second)}},
		{"infra", contract.Command{Op: contract.OpStop, Pod: "p"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp}))
			w.vars["MAINPID"] = "99"
			procs := conmonTable()
			w.env.Procs = procs
			if err := w.main(t, c.cmd); err != nil {
				t.Fatal(err)
			}
			if len(w.eng.removed) != 1 {
				t.Fatalf("removed %v", w.eng.removed)
			}
			if fmt.Sprint(procs.lowered) != "[101 102]" || fmt.Sprint(procs.killed) != "[102 101]" || fmt.Sprint(procs.pinned) != "[101]" || procs.closed != 1 {
				t.Errorf("lowered %v, killed %v, pinned %v (%d closed); want [101 102], [102 101], [101] (1)", procs.lowered, procs.killed, procs.pinned, procs.closed)
			}
		})
	}
}

// A removal that fails (podman keeps an infra while a container joined to
// it exists) leaves the exit command to do it, lowered but running.
func TestExitCommandKeptWhenTheRemovalFails(t *testing.T) {
	w := newWorld(t, runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp}))
	w.eng.containers = map[string]map[string]string{
		"p-infra": {unitdef.LabelRole: "infra", unitdef.LabelPod: "p"},
		"p_app":   {unitdef.LabelPod: "p"},
	}
	w.vars["MAINPID"] = "99"
	procs := conmonTable()
	w.env.Procs = procs
	if err := w.main(t, contract.Command{Op: contract.OpStop, Pod: "p"}); err != nil {
		t.Fatal(err)
	}
	if len(w.eng.removed) != 0 || len(procs.killed) != 0 || len(procs.lowered) != 2 || procs.closed != 1 {
		t.Errorf("removed %v, killed %v, lowered %v, %d closed", w.eng.removed, procs.killed, procs.lowered, procs.closed)
	}
}

// Only conmon's exit command for its own container is ever a match, and
// the search ends when conmon does.
func TestExitCommandSearch(t *testing.T) {
	for _, c := range []struct {
		name    string
		mainPID string
		edit    func(p *fakeProcs)
		want    int // the exit command found, 0: none
	}{
		{"found", "99", func(*fakeProcs) {}, 101},
		{"started a little later", "99", func(p *fakeProcs) { p.appear[101] = 5 }, 101},
		{"no main process", "", func(*fakeProcs) {}, 0},
		{"main process not conmon", "99", func(p *fakeProcs) { p.argv[99] = []string{"/usr/bin/podman", "run", "-c", ctrID} }, 0},
		{"another container's cleanup", "99", func(p *fakeProcs) {
			p.argv[101] = []string{"/usr/bin/podman", "container", "cleanup", "--rm", "ffff"}
		}, 0},
		{"not a cleanup", "99", func(p *fakeProcs) { p.argv[101] = []string{"/usr/bin/podman", "container", "inspect", ctrID} }, 0},
		{"conmon ended", "99", func(p *fakeProcs) { delete(p.argv, 99) }, 0},
		{"never started", "99", func(p *fakeProcs) { p.appear[101] = 1 << 30 }, 0},
		{"ended as it was pinned", "99", func(p *fakeProcs) { p.endsWhenPinned = true }, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, runtime1(contract.Container{Name: "app"}))
			procs := conmonTable()
			c.edit(procs)
			w.env.Procs = procs
			x := w.env.exitCommand(t.Context(), c.mainPID)
			if (x == nil) != (c.want == 0) || (x != nil && x.pid != c.want) {
				t.Fatalf("exit command %+v, want %d", x, c.want)
			}
			if c.want == 0 && (len(procs.lowered) != 0 || procs.closed != len(procs.pinned)) {
				t.Errorf("lowered %v, pinned %v, %d closed", procs.lowered, procs.pinned, procs.closed)
			}
			if c.name == "never started" {
				if n := len(w.sleeps); time.Duration(n)*exitCommandPoll != exitCommandWait {
					t.Errorf("looked %d times, %s apart: want %s in all", n, exitCommandPoll, exitCommandWait)
				}
			}
			w.env.endExitCommand(x, false)
			if c.want == 0 && len(procs.killed) != 0 {
				t.Errorf("killed %v", procs.killed)
			}
		})
	}
}

// An exit command that ended on its own before the removal was done is
// not killed: nor is anything that took its pid, or its children's.
func TestExitCommandEndedOnItsOwn(t *testing.T) {
	w := newWorld(t, runtime1(contract.Container{Name: "app"}))
	procs := conmonTable()
	w.env.Procs = procs
	x := w.env.exitCommand(t.Context(), "99")
	if x == nil {
		t.Fatal("no exit command found")
	}
	delete(procs.argv, 101)
	// a process whose parent has its pid now: another process's child
	procs.argv[103] = []string{"sleep", "1000"}
	procs.parent[103] = 101
	w.env.endExitCommand(x, false)
	if len(procs.killed) != 0 || procs.closed != 1 {
		t.Errorf("killed %v, %d closed", procs.killed, procs.closed)
	}
}

func TestIsCleanupOf(t *testing.T) {
	for argv, want := range map[string]bool{
		"/usr/bin/podman --root /r container cleanup --rm " + ctrID:                true,
		"/usr/bin/podman --root /r container cleanup --stopped-only --rm " + ctrID: true,
		"/usr/bin/podman container cleanup " + ctrID + " --rm":                     false,
		"/usr/bin/podman --root /r container rm " + ctrID:                          false,
		ctrID: false,
		"/usr/bin/podman --log-level container cleanup " + strings.ToUpper(ctrID[:10]): false,
	} {
		if got := isCleanupOf(strings.Fields(argv), ctrID); got != want {
			t.Errorf("%s: %v, want %v", argv, got, want)
		}
	}
}
