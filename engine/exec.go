package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containers/podman/v4/pkg/bindings/containers"
)

// ExecModeEnv chooses how exec handlers and probes run: "runtime" (the
// default) has the container's OCI runtime (crun, runc) exec the command, as
// the kubelet's CRI runtimes do; "api" uses podman's exec API. Both run it
// with the container's namespaces, cgroup, user, capabilities and
// environment. The API keeps every session in the container's state and,
// on podman before 4.8, leaves two conmon processes waiting 5 minutes per
// exec before a podman process cleans up: at one exec probe a second that is
// hundreds of processes. The runtime's exec is one short process.
const ExecModeEnv = "PODUNIT_EXEC"

// Exec runs a command in a running container, the way ExecModeEnv says; the
// runtime's exec needs to run in podman's user namespace (podunit's helpers
// enter it with the pod's network namespace), else the API is used.
func (p *Podman) Exec(ctx context.Context, name string, argv, env []string) (int, []byte, error) {
	if os.Getenv(ExecModeEnv) != "api" && inUserNamespace() {
		code, out, err := p.runtimeExec(ctx, name, argv, env)
		if !errors.Is(err, errNoRuntimeExec) {
			return code, out, err
		}
	}
	return p.apiExec(ctx, name, argv, env)
}

var errNoRuntimeExec = errors.New("the OCI runtime's exec is not available")

// inUserNamespace tells whether this process is in a user namespace other
// than the initial one (podman's rootless one, for podunit).
func inUserNamespace() bool {
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(data))
	return !(len(f) >= 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
}

// ociTarget is what the runtime's exec needs of a container.
type ociTarget struct {
	id, runtime, root string
	process           json.RawMessage // the container's own process spec
	configPath        string
}

var (
	targetsMu sync.Mutex
	targets   = map[string]*ociTarget{}
)

// target looks a container up once per run of it: a restarted container has
// a new ID and a new bundle, and the old bundle's config is gone.
func (p *Podman) target(ctx context.Context, name string) (*ociTarget, error) {
	targetsMu.Lock()
	t := targets[name]
	targetsMu.Unlock()
	if t != nil {
		if _, err := os.Stat(t.configPath); err == nil {
			return t, nil
		}
	}
	data, err := containers.Inspect(p.with(ctx), name, nil)
	if err != nil {
		return nil, err
	}
	if data.State == nil || !data.State.Running {
		return nil, fmt.Errorf("container %s is not running", name)
	}
	rt := data.OCIRuntime
	if rt != "crun" && rt != "runc" || data.OCIConfigPath == "" {
		return nil, errNoRuntimeExec
	}
	path, err := exec.LookPath(rt)
	if err != nil {
		return nil, errNoRuntimeExec
	}
	raw, err := os.ReadFile(data.OCIConfigPath)
	if err != nil {
		return nil, errNoRuntimeExec
	}
	var spec struct {
		Process json.RawMessage `json:"process"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil || len(spec.Process) == 0 {
		return nil, errNoRuntimeExec
	}
	xdg := os.Getenv("XDG_RUNTIME_DIR")
	if xdg == "" {
		return nil, errNoRuntimeExec
	}
	t = &ociTarget{id: data.ID, runtime: path, root: filepath.Join(xdg, rt), process: spec.Process, configPath: data.OCIConfigPath}
	targetsMu.Lock()
	targets[name] = t
	targetsMu.Unlock()
	return t, nil
}

// runtimeExec has the container's OCI runtime run argv with the container's
// process settings (user, capabilities, no_new_privileges, rlimits, AppArmor
// and SELinux labels, working directory) and its environment plus env.
func (p *Podman) runtimeExec(ctx context.Context, name string, argv, env []string) (int, []byte, error) {
	// Looking the container up is podunit's work, not the command's: it does
	// not count against the probe's timeout (podman may be busy starting
	// other containers), only against its own.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	t, err := p.target(lctx, name)
	cancel()
	if err != nil {
		return 0, nil, err
	}
	var proc map[string]any
	if err := json.Unmarshal(t.process, &proc); err != nil {
		return 0, nil, errNoRuntimeExec
	}
	args := make([]any, len(argv))
	for i, a := range argv {
		args[i] = a
	}
	proc["args"] = args
	proc["terminal"] = false
	if len(env) > 0 {
		cur, _ := proc["env"].([]any)
		for _, e := range env {
			cur = append(cur, e)
		}
		proc["env"] = cur
	}
	// The process spec holds the container's environment, Secrets' values
	// among it: it goes to the user's runtime directory (a tmpfs, 0700, where
	// the runtime's root is too), never to a disk.
	dir, err := os.MkdirTemp(filepath.Dir(t.root), "podunit-exec-")
	if err != nil {
		return 0, nil, err
	}
	defer os.RemoveAll(dir)
	procPath, pidPath := filepath.Join(dir, "process.json"), filepath.Join(dir, "pid")
	f, err := os.OpenFile(procPath, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, nil, err
	}
	if err := json.NewEncoder(f).Encode(proc); err != nil {
		f.Close()
		return 0, nil, err
	}
	f.Close()
	out := &limitedBuffer{max: maxExecOutput}
	cmd := exec.CommandContext(ctx, t.runtime, "--root", t.root, "exec", "--process", procPath, "--pid-file", pidPath, t.id)
	cmd.Stdout, cmd.Stderr = out, out
	// At the deadline the command itself is killed, as containerd's exec
	// does, not only the runtime waiting for it: a hung probe or a preStop
	// cut short by the grace period leaves nothing running in the container,
	// and its end closes the output, so the kill sequence goes on at once.
	cmd.Cancel = func() error {
		killExeced(pidPath)
		return cmd.Process.Kill()
	}
	// Output a command's own background children still hold after it ended
	// is not waited for long: a hook that starts a daemon with `&` has
	// succeeded when its shell exits 0.
	cmd.WaitDelay = 200 * time.Millisecond
	err = cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) && ctx.Err() == nil {
		err = nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		if ee.ExitCode() < 0 {
			return 0, out.Bytes(), fmt.Errorf("%s exec: %v", filepath.Base(t.runtime), err)
		}
		return ee.ExitCode(), out.Bytes(), nil
	}
	if err != nil {
		return 0, out.Bytes(), err
	}
	return 0, out.Bytes(), nil
}

// killExeced kills the process the runtime exec'd, by the PID it wrote; the
// runtime is still waiting for it, so the PID cannot have been reused.
func killExeced(pidPath string) {
	data, err := os.ReadFile(pidPath)
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 1 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
