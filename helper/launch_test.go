package helper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units/unitdef"
)

// Every flag the translator writes for an app or sidecar container becomes
// the create request podman run would have sent; values of "--env NAME"
// come from the container's variables.
func TestSpecFromArgs(t *testing.T) {
	args := []string{"run", "--name", "p_web", "--rm", "--detach", "--sdnotify=conmon", "--cgroups=split", "--pull=never",
		"--network", "container:p", "--ipc", "container:p", "--uts", "container:p", "--pid", "host", "--userns", "container:p",
		"--label", "io.podunit.pod=p", "--label", "io.podunit.container=web",
		"--log-driver", "k8s-file", "--log-opt", "path=/logs/p/web.log", "--stop-signal", "SIGQUIT",
		"--env", "A", "--env", "TOKEN", "--workdir", "/srv", "--user", "1000:1000", "--group-add", "5", "--group-add", "6",
		"--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "--read-only", "--privileged",
		"--security-opt", "no-new-privileges", "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=prof",
		"--security-opt", "label=type:spc_t", "--security-opt", "unmask=ALL",
		"--volume", "/run/x/msg:/dev/termination-log:rw", "--volume", "podunit_p_work:/work:ro,rslave",
		"--mount", "type=image,source=localhost/data:1,destination=/data",
		"--no-hosts", "--tty", "--interactive", "--entrypoint", `["sh"]`, "img:1", "-c", "echo $A; x=\"q\""}
	s, err := SpecFromArgs(args, map[string]string{"A": "1", "TOKEN": "s3cret, with comma"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(s)
	want := `{"name":"p_web","image":"img:1","entrypoint":["sh"],"command":["-c","echo $A; x=\"q\""],` +
		`"env":{"A":"1","TOKEN":"s3cret, with comma"},"labels":{"io.podunit.container":"web","io.podunit.pod":"p"},` +
		`"remove":true,"stop_signal":3,"terminal":true,"stdin":true,"work_dir":"/srv","user":"1000:1000","groups":["5","6"],` +
		`"cap_add":["NET_BIND_SERVICE"],"cap_drop":["ALL"],"privileged":true,"read_only_filesystem":true,"read_write_tmpfs":true,` +
		`"no_new_privileges":true,"seccomp_profile_path":"unconfined","apparmor_profile":"prof","selinux_opts":["type:spc_t"],"unmask":["ALL"],` +
		`"log_configuration":{"driver":"k8s-file","path":"/logs/p/web.log"},"use_image_hosts":true,` +
		`"netns":{"nsmode":"container","value":"p"},"ipcns":{"nsmode":"container","value":"p"},"utsns":{"nsmode":"container","value":"p"},` +
		`"pidns":{"nsmode":"host"},"userns":{"nsmode":"container","value":"p"},` +
		`"mounts":[{"destination":"/dev/termination-log","type":"bind","source":"/run/x/msg","options":["rw"]}],` +
		`"volumes":[{"Name":"podunit_p_work","Dest":"/work","Options":["ro","rslave"]}],` +
		`"image_volumes":[{"Source":"localhost/data:1","Destination":"/data","ReadWrite":false}],` +
		`"idmappings":{"HostUIDMapping":true,"HostGIDMapping":true,"AutoUserNs":false,"AutoUserNsOpts":{}}}`
	if string(got) != want {
		t.Errorf("spec:\n got %s\nwant %s", got, want)
	}

	for _, bad := range [][]string{
		{"run", "--name", "p_init", "--rm", "img"},                                          // foreground: an init container
		{"run", "--name", "p_x", "--detach", "--mac-address", "02:00:00:00:00:01", "img"},   // the proxy's
		{"run", "--name", "p_x", "--detach", "--userns", "keep-id", "img"},                  // not the translator's
		{"run", "--name", "p_x", "--detach", "--mount", "type=tmpfs,destination=/t", "img"}, // not the translator's
		{"create", "--name", "p_x", "img"},
	} {
		if _, err := SpecFromArgs(bad, nil); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%q: %v, want ErrUnsupported", bad, err)
		}
	}
	// the infra's flags: its network, names, ports and sysctls
	infra := []string{"run", "--name", "p", "--rm", "--detach", "--hostname", "web-0", "--network", "podunit",
		"--dns", "10.96.0.10", "--dns-search", "default.svc.cluster.local", "--dns-option", "ndots:5",
		"--publish", "127.0.0.1:15432:5432", "--publish", "15353:5353/udp", "--sysctl", "net.ipv4.ip_unprivileged_port_start=0", "infra:1"}
	s, err = SpecFromArgs(infra, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = json.Marshal(s)
	want = `{"name":"p","image":"infra:1","remove":true,"use_image_hosts":false,"netns":{"nsmode":"bridge"},` +
		`"idmappings":{"HostUIDMapping":true,"HostGIDMapping":true,"AutoUserNs":false,"AutoUserNsOpts":{}},"hostname":"web-0","Networks":{"podunit":{}},` +
		`"dns_server":["10.96.0.10"],"dns_search":["default.svc.cluster.local"],"dns_option":["ndots:5"],` +
		`"portmappings":[{"host_ip":"127.0.0.1","container_port":5432,"host_port":15432,"protocol":"tcp"},{"container_port":5353,"host_port":15353,"protocol":"udp"}],` +
		`"sysctl":{"net.ipv4.ip_unprivileged_port_start":"0"}}`
	if string(got) != want {
		t.Errorf("infra spec:\n got %s\nwant %s", got, want)
	}
	s, err = SpecFromArgs([]string{"run", "--name", "p", "--detach", "--network", "slirp4netns:port_handler=slirp4netns,mtu=1500", "infra:1"}, nil)
	if err != nil || s.NetNS.Mode != "slirp4netns" || strings.Join(s.NetworkOptions["slirp4netns"], ",") != "port_handler=slirp4netns,mtu=1500" {
		t.Errorf("slirp4netns: %+v %v", s, err)
	}

	// a pod with a user namespace of its own (hostUsers: false)
	s, err = SpecFromArgs([]string{"run", "--name", "p", "--detach", "--userns", "auto", "infra:1"}, nil)
	if got, _ := json.Marshal(s); err != nil || !strings.Contains(string(got), `"userns":{"nsmode":"auto"},`) ||
		!strings.Contains(string(got), `"idmappings":{"HostUIDMapping":false,"HostGIDMapping":false,"AutoUserNs":true,"AutoUserNsOpts":{}}`) {
		t.Errorf("--userns auto: %s %v", got, err)
	}

	// the service proxy's: a fixed MAC address on the pod network
	s, err = SpecFromArgs([]string{"run", "--name", "podunit__services", "--rm", "--detach", "--network", "podunit", "--mac-address", "02:70:75:00:00:0a", "infra:1"}, nil)
	if got, _ := json.Marshal(s.Networks); err != nil || string(got) != `{"podunit":{"static_mac":"02:70:75:00:00:0a"}}` {
		t.Errorf("proxy's network: %s %v", got, err)
	}

	if _, err := SpecFromArgs([]string{"run", "--name", "p_x", "--detach", "--env", "MISSING", "img"}, nil); err == nil {
		t.Error("a variable without a value was taken")
	}
}

type fakeLauncher struct {
	specs   []*Spec
	pid     string // what the fake conmon writes to its pid file
	err     error
	dialErr error
}

func (f *fakeLauncher) Launch(ctx context.Context, s *Spec) error {
	if f.err != nil {
		return f.err
	}
	f.specs = append(f.specs, s)
	return os.WriteFile(s.ConmonPidFile, []byte(f.pid), 0o600)
}

type fakeCgroup struct {
	prepared bool
	adopted  []int
	gone     bool
}

func (f *fakeCgroup) Prepare() (string, error) {
	f.prepared = true
	return "/podunit.slice/p/app.service", nil
}
func (f *fakeCgroup) Adopt(pid int) error {
	if f.gone {
		return ErrGone
	}
	f.adopted = append(f.adopted, pid)
	return nil
}

func launchWorld(t *testing.T, c contract.Container) (*world, *fakeLauncher, *fakeCgroup, *[]string) {
	w := newWorld(t, runtime1(c))
	l := &fakeLauncher{pid: "4711\n"}
	cg := &fakeCgroup{}
	var notes []string
	w.vars["NOTIFY_SOCKET"] = "/run/n"
	w.env.Launch = func(ctx context.Context, podman string) (Launcher, error) {
		if podman != "/usr/bin/podman" {
			t.Errorf("service of podman %q", podman)
		}
		if l.dialErr != nil {
			return nil, l.dialErr
		}
		return l, nil
	}
	w.env.Cgroup = cg
	w.env.Notify = func(s string) error { notes = append(notes, s); return nil }
	return w, l, cg, &notes
}

var launched = contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp,
	Args: []string{"run", "--name", "p_app", "--rm", "--detach", "--env", "TOKEN", "img", "sleep", "9"},
	Env:  []contract.EnvVar{{Name: "TOKEN", Value: "s3cret"}}}

// An app container starts through podunit's podman service: no podman
// process; its conmon joins the unit and becomes its main process.
func TestRunLaunchesThroughTheService(t *testing.T) {
	w, l, cg, notes := launchWorld(t, launched)
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(w.execd) != 0 {
		t.Errorf("podman ran: %q", w.execd)
	}
	if len(l.specs) != 1 {
		t.Fatalf("launched %d", len(l.specs))
	}
	s := l.specs[0]
	if s.Env["TOKEN"] != "s3cret" || s.CgroupParent != "/podunit.slice/p/app.service" || s.SdNotifyMode != "ignore" ||
		s.ConmonPidFile != ConmonPidFile(w.env.StateDir, "p", "app") || strings.Join(s.Command, " ") != "sleep 9" {
		t.Errorf("spec: %+v", s)
	}
	if !cg.prepared || len(cg.adopted) != 1 || cg.adopted[0] != 4711 {
		t.Errorf("cgroup: %+v", cg)
	}
	if strings.Join(*notes, "|") != "MAINPID=4711\nREADY=1" {
		t.Errorf("notified %q", *notes)
	}
}

// Whatever the service cannot do, podman run does, saying why.
func TestRunFallsBackToPodmanRun(t *testing.T) {
	for name, tc := range map[string]struct {
		c     contract.Container
		setup func(*fakeLauncher, *world)
		why   string
	}{
		"unreachable": {launched, func(l *fakeLauncher, _ *world) { l.dialErr = errors.New("no socket") }, "no socket"},
		"refused":     {launched, func(l *fakeLauncher, _ *world) { l.err = errors.New("creating: no such image") }, "no such image"},
		"foreign flag": {contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp,
			Args: []string{"run", "--name", "p_app", "--detach", "--mount", "type=tmpfs,destination=/t", "img"}}, nil, "--mount type=tmpfs"},
		"no systemd socket": {launched, func(_ *fakeLauncher, w *world) { delete(w.vars, "NOTIFY_SOCKET") }, ""},
	} {
		t.Run(name, func(t *testing.T) {
			w, l, _, notes := launchWorld(t, tc.c)
			if tc.setup != nil {
				tc.setup(l, w)
			}
			if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
				t.Fatalf("run: %v", err)
			}
			if len(w.execd) != 1 || w.execd[0][0] != "/usr/bin/podman" || len(*notes) != 0 {
				t.Errorf("execd %q, notified %q", w.execd, *notes)
			}
			if out := w.env.Out.(*bytes.Buffer).String(); !strings.Contains(out, tc.why) || (tc.why != "" && !strings.Contains(out, "through podman run")) {
				t.Errorf("output %q lacks %q", out, tc.why)
			}
		})
	}
}

// A container the service made but could not start (the OCI runtime's
// error) fails its start with podman run's status and the runtime's words:
// podman run, which would fail the same way, is not tried.
func TestRunStartFailedIsNotRetriedByPodmanRun(t *testing.T) {
	for msg, code := range map[string]int{
		"crun: executable file `/no/such` not found in $PATH: No such file or directory: OCI runtime attempted to invoke a command that was not found": 127,
		"crun: open executable: Permission denied: OCI permission denied":                                                                              126,
		"crun: mount `/gone` to `/data`: No such file or directory: OCI runtime attempted to invoke a command that was not found":                      127,
		"crun: setns(): Operation not permitted: OCI runtime error":                                                                                    126,
	} {
		w, l, _, notes := launchWorld(t, launched)
		l.err = fmt.Errorf("wrapped: %w", &StartFailed{Msg: msg})
		err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"})
		var ee *ErrExit
		if !errors.As(err, &ee) || ee.Code != code || ee.Msg != "starting container p_app: "+msg {
			t.Errorf("%s: run: %v, want status %d", msg, err, code)
		}
		if len(w.execd) != 0 || len(*notes) != 0 {
			t.Errorf("%s: execd %q, notified %q", msg, w.execd, *notes)
		}
	}
}

// A container whose conmon is gone before it joined the unit ended at once:
// the unit fails, and its restart policy decides; systemd hears no MAINPID.
func TestRunLaunchedContainerGone(t *testing.T) {
	w, _, cg, notes := launchWorld(t, launched)
	cg.gone = true
	err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"})
	var ee *ErrExit
	if !errors.As(err, &ee) || ee.Code != 1 || len(*notes) != 0 {
		t.Errorf("run: %v, notified %q", err, *notes)
	}
}

// A container with no post-start step (no postStart hook) has no
// ExecStartPost: the run helper puts its limits on and records its start,
// once it runs and before systemd hears it is ready, so that `podunit up`
// returns with the start recorded. With a postStart hook, the post-start
// step does both.
func TestRunFinishesTheStartWithoutAPostStartStep(t *testing.T) {
	run := contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}
	unit := unitdef.ContainerUnitName("p", "app")
	limited := launched
	limited.Limits = []contract.Limit{{Name: "MemoryMax", Value: 64 << 20}}
	w, _, _, notes := launchWorld(t, limited)
	var atReady []string
	w.env.Notify = func(s string) error {
		r, _ := podstate.LoadRun(w.env.StateDir, "p", "app")
		atReady = append(atReady, fmt.Sprintf("started %v, limits %v", r.Started.Equal(t0), w.sd.limits[unit]))
		*notes = append(*notes, s)
		return nil
	}
	if err := w.main(t, run); err != nil {
		t.Fatalf("run: %v", err)
	}
	if want := fmt.Sprintf("started true, limits [{MemoryMax %d}]", 64<<20); !slices.Equal(atReady, []string{want}) {
		t.Errorf("when systemd heard READY: %q, want %q (%q)", atReady, want, *notes)
	}
	if evs := events(t, w); !slices.Contains(evs, "Started: Started container app") {
		t.Errorf("events %q", evs)
	}

	hooked := limited
	hooked.PostStart = &hooks.Handler{Exec: []string{"warm-up"}}
	w, _, _, notes = launchWorld(t, hooked)
	if err := w.main(t, run); err != nil {
		t.Fatalf("with a postStart hook: run: %v", err)
	}
	if r, _ := podstate.LoadRun(w.env.StateDir, "p", "app"); !r.Started.IsZero() || len(*notes) != 1 ||
		fmt.Sprint(w.sd.limits[unit]) != fmt.Sprintf("[{MemoryMax %d}]", unitdef.NoLimit["MemoryMax"]) {
		t.Errorf("with a postStart hook: the run helper finished the start (%+v, limits %v), notified %q", r, w.sd.limits[unit], *notes)
	}

	// Started through podman run instead: podman tells systemd, then the
	// run helper finishes the start.
	w, l, _, _ := launchWorld(t, limited)
	l.dialErr = errors.New("no socket")
	w.runs = []int{0}
	if err := w.main(t, run); err != nil {
		t.Fatalf("run through podman run: %v", err)
	}
	if r, _ := podstate.LoadRun(w.env.StateDir, "p", "app"); !r.Started.Equal(t0) || len(w.execd) != 1 ||
		w.execd[0][0] != "/usr/bin/podman" || fmt.Sprint(w.sd.limits[unit]) != fmt.Sprintf("[{MemoryMax %d}]", 64<<20) {
		t.Errorf("through podman run: %+v, ran %q, limits %v", r, w.execd, w.sd.limits[unit])
	}
	// podman run failing is the start's failure, with its status
	w, l, _, _ = launchWorld(t, limited)
	l.dialErr = errors.New("no socket")
	w.runs = []int{125}
	var ee *ErrExit
	if err := w.main(t, run); !errors.As(err, &ee) || ee.Code != 125 {
		t.Errorf("podman run failing: %v", err)
	}
	if r, _ := podstate.LoadRun(w.env.StateDir, "p", "app"); !r.Started.IsZero() {
		t.Errorf("podman run failing: recorded as started")
	}
}
