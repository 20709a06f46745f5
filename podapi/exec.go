package podapi

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
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
func (c *Client) Exec(ctx context.Context, name string, argv, env []string) (int, []byte, error) {
	if os.Getenv(ExecModeEnv) != "api" && inUserNamespace() {
		code, out, err := c.runtimeExec(ctx, name, argv, env)
		if !errors.Is(err, errNoRuntimeExec) {
			return code, out, err
		}
	}
	return c.apiExec(ctx, name, argv, env)
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
func (c *Client) target(ctx context.Context, name string) (*ociTarget, error) {
	targetsMu.Lock()
	t := targets[name]
	targetsMu.Unlock()
	if t != nil {
		if _, err := os.Stat(t.configPath); err == nil {
			return t, nil
		}
	}
	data, err := c.Inspect(ctx, name)
	if err != nil {
		return nil, err
	}
	if !data.State.Running {
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
func (c *Client) runtimeExec(ctx context.Context, name string, argv, env []string) (int, []byte, error) {
	// Looking the container up is podunit's work, not the command's: it does
	// not count against the probe's timeout (podman may be busy starting
	// other containers), only against its own.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	t, err := c.target(lctx, name)
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
	cmd := exec.CommandContext(ctx, sealedRuntime.path(t.runtime), "--root", t.root, "exec", "--process", procPath, "--pid-file", pidPath, t.id)
	cmd.Args[0] = t.runtime
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

// maxExecOutput bounds what an exec handler's output is kept for its error message.
const maxExecOutput = 64 << 10

// apiExec runs a command in a running container through podman's exec API
// (create; start, reading the output until the command ends; inspect for
// the exit code): the container's namespaces, cgroup, user and environment,
// plus env.
func (c *Client) apiExec(ctx context.Context, name string, argv, env []string) (int, []byte, error) {
	resp, err := c.do(ctx, http.MethodPost, containerPath(name, "/exec"), nil, map[string]any{
		"AttachStdout": true, "AttachStderr": true, "Cmd": argv, "Env": env})
	if err != nil {
		return 0, nil, err
	}
	var created struct {
		ID string `json:"Id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if err != nil || created.ID == "" {
		return 0, nil, fmt.Errorf("podman created no exec session: %v", err)
	}
	session := "/exec/" + url.PathEscape(created.ID)
	defer c.removeExec(session)
	out := &limitedBuffer{max: maxExecOutput}
	// The service takes the connection over and sends the output, each
	// chunk behind an 8-byte header (its stream, its length), until the
	// command ends and it closes the connection.
	resp, err = c.do(ctx, http.MethodPost, session+"/start", nil, map[string]bool{"Detach": false, "Tty": false})
	if err != nil {
		return 0, nil, err
	}
	err = demux(resp.Body, out)
	resp.Body.Close()
	if err != nil {
		return 0, out.Bytes(), err
	}
	var insp struct {
		ExitCode int  `json:"ExitCode"`
		Running  bool `json:"Running"`
	}
	if err := c.getJSON(ctx, session+"/json", &insp); err != nil {
		return 0, out.Bytes(), err
	}
	return insp.ExitCode, out.Bytes(), nil
}

// demux copies the output streams of an attached session to w.
func demux(r io.Reader, w io.Writer) error {
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return err
		}
		n := int64(binary.BigEndian.Uint32(hdr[4:]))
		switch hdr[0] {
		case 0, 1, 2:
			if _, err := io.CopyN(w, r, n); err != nil {
				return nil // cut short: the session ended
			}
		case 3:
			msg, _ := io.ReadAll(io.LimitReader(r, n))
			return fmt.Errorf("podman: %s", msg)
		default:
			return fmt.Errorf("podman sent an unknown stream %d", hdr[0])
		}
	}
}

// removeExec removes a finished exec session where the service can (podman
// 4.8 and later); older services remove it with their own delayed clean-up.
func (c *Client) removeExec(session string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.discard(ctx, http.MethodPost, session+"/remove", nil, map[string]bool{"Force": false})
}

type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}
