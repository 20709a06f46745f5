// Package podstate is the layout of podunit's state directory,
// $XDG_RUNTIME_DIR/podunit (mode 0700): one directory per pod holding its
// record, the runtime spec its helpers read, each container's run status,
// readiness, events and, on hosts without journald, the units' own output. It
// lives as long as the user's transient units do, and is private to the user.
// Writers replace whole files atomically, so readers never see half a file.
package podstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/podapi"
)

// DefaultDir is $XDG_RUNTIME_DIR/podunit.
func DefaultDir() string { return filepath.Join(podapi.RuntimeDir(), "podunit") }

// PodmanSocket is where podunit's own podman service
// (podunit.podman.service) listens while it runs, in the state directory
// dir.
func PodmanSocket(dir string) string { return filepath.Join(dir, "podman.sock") }

// PodDir is the directory of one pod.
func PodDir(dir, pod string) string { return filepath.Join(dir, "pods", pod) }

// LogDir is where a pod's units write their own output on hosts without
// journald; it goes with the pod.
func LogDir(dir, pod string) string { return filepath.Join(PodDir(dir, pod), "logs") }

// ContainerLogs is where the containers' output is kept, one directory per
// pod ($XDG_STATE_HOME/podunit/logs): on disk, not in the runtime directory,
// which is memory.
func ContainerLogs() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "podunit", "logs")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(DefaultDir(), "logs") // no home: memory it is
	}
	return filepath.Join(home, ".local", "state", "podunit", "logs")
}

// SecretTempFile writes data to a new file of mode 0600 in dir (created 0700
// if missing: podunit's state directory is on the runtime tmpfs) and returns
// its path and a function that removes it.
func SecretTempFile(dir, pattern string, data []byte) (string, func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	f, err := os.CreateTemp(dir, pattern) // mode 0600
	if err != nil {
		return "", nil, err
	}
	remove := func() { os.Remove(f.Name()) }
	if _, err := f.Write(data); err != nil {
		f.Close()
		remove()
		return "", nil, err
	}
	if err := f.Close(); err != nil {
		remove()
		return "", nil, err
	}
	return f.Name(), remove, nil
}

// WriteAtomic replaces path with data (mode 0600), creating its directory (0700).
func WriteAtomic(path string, data []byte) error {
	return WriteAtomicMode(path, data, 0o600)
}

// WriteAtomicMode is WriteAtomic with the file's mode (a reader never sees
// it half written).
func WriteAtomicMode(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && mode != 0o600 { // CreateTemp's
		err = f.Chmod(mode)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

func servicesRunFile(dir string) string { return filepath.Join(dir, "services", "run.json") }

// SaveServicesRun stores the podman command line of the service proxy's
// container (podman first), which its unit's helper runs.
func SaveServicesRun(dir string, argv []string) error {
	data, err := json.Marshal(argv)
	if err != nil {
		return err
	}
	return WriteAtomic(servicesRunFile(dir), data)
}

// LoadServicesRun reads what SaveServicesRun stored.
func LoadServicesRun(dir string) ([]string, error) {
	data, err := os.ReadFile(servicesRunFile(dir))
	if err != nil {
		return nil, fmt.Errorf("the service proxy's command line: %w", err)
	}
	var argv []string
	if err := json.Unmarshal(data, &argv); err != nil || len(argv) == 0 {
		return nil, fmt.Errorf("the service proxy's command line in %s: %v", servicesRunFile(dir), err)
	}
	return argv, nil
}

func runtimeFile(dir, pod string) string { return filepath.Join(PodDir(dir, pod), "runtime.json") }

// SaveRuntime stores what the pod's helpers run.
func SaveRuntime(dir string, rt *contract.Runtime) error {
	data, err := json.Marshal(rt)
	if err != nil {
		return err
	}
	return WriteAtomic(runtimeFile(dir, rt.Pod), data)
}

// LoadRuntime reads what SaveRuntime stored.
func LoadRuntime(dir, pod string) (*contract.Runtime, error) {
	data, err := os.ReadFile(runtimeFile(dir, pod))
	if err != nil {
		return nil, fmt.Errorf("pod %q: reading its runtime spec: %w", pod, err)
	}
	var rt contract.Runtime
	if err := json.Unmarshal(data, &rt); err != nil {
		return nil, fmt.Errorf("pod %q: reading its runtime spec: %w", pod, err)
	}
	return &rt, nil
}

// Run is what the helpers record of a container's runs: the prober follows
// it, the back-off is computed from it, and `podunit ps` shows it.
type Run struct {
	// Started is when the current run became Running (its postStart hook
	// done); zero while it starts or after it exited.
	Started time.Time `json:"started,omitempty"`
	// Finished, ExitCode and Result describe the last run that ended;
	// LastStarted is when it had started, Message its termination message
	// (terminationMessagePath, or its log's end under FallbackToLogsOnError).
	Finished    time.Time `json:"finished,omitempty"`
	ExitCode    int       `json:"exitCode,omitempty"`
	Result      string    `json:"result,omitempty"`
	LastStarted time.Time `json:"lastStarted,omitempty"`
	Message     string    `json:"message,omitempty"`
	// Retries counts the runs an init container's unit started again
	// itself, after a failure (its back-off loop); systemd counts the rest.
	Retries int `json:"retries,omitempty"`
	// Restarts counts an app or sidecar container's starts after its first,
	// whatever started it again: systemd's restart, a restart of its unit,
	// or of the pod's sandbox (the kubelet's restartCount). systemd's own
	// count (NRestarts) starts over at every start it did not make itself.
	Restarts int `json:"restarts,omitempty"`
	// Stopped says the last run was stopped on request (not by itself, nor
	// by a probe): its next start owes no back-off.
	Stopped bool `json:"stopped,omitempty"`
	// Killed names the probe (liveness, startup) whose failure made the
	// prober kill the last run that ended (its clean-up records it, from
	// the prober's WriteKill): the kubelet starts such a container again
	// unless its restartPolicy is Never, whatever its exit code.
	Killed string `json:"killed,omitempty"`
	// BackOff is the kubelet's crash-loop back-off: the current delay and
	// when it was last updated.
	BackOff        time.Duration `json:"backOff,omitempty"`
	BackOffUpdated time.Time     `json:"backOffUpdated,omitempty"`
	// WaitingUntil is set while the container waits out its back-off of
	// WaitingFor.
	WaitingUntil time.Time     `json:"waitingUntil,omitempty"`
	WaitingFor   time.Duration `json:"waitingFor,omitempty"`
}

// Failed tells whether the last run that ended failed: a non-zero exit, or
// another end than success (a signal, a timeout).
func (r Run) Failed() bool { return r.ExitCode != 0 || (r.Result != "" && r.Result != "success") }

// RunDir holds the Runs of a pod's containers (the prober and the service
// proxy watch it).
func RunDir(dir, pod string) string { return filepath.Join(PodDir(dir, pod), "run") }

func runFile(dir, pod, container string) string {
	if container == "" {
		container = ".infra"
	}
	return filepath.Join(RunDir(dir, pod), container+".json")
}

// FirewallFile is where the service proxy writes for which network
// namespace (the pod's infra's pid) it set the pod's NetworkPolicy firewall
// and, in the same pass, the firewalls of the pods that name it as a peer;
// FirewallWanted is where a container's start asks for that (a change of
// RunDir wakes the proxy).
func FirewallFile(dir, pod string) string { return filepath.Join(RunDir(dir, pod), ".firewall") }

// FirewallWanted: see FirewallFile.
func FirewallWanted(dir, pod string) string {
	return filepath.Join(RunDir(dir, pod), ".firewall-wanted")
}

// NetworkPoliciesStored tells whether any NetworkPolicy is stored (where
// podstate/objstore keeps them: objects/NAMESPACE/networkpolicy/NAME.json),
// without reading one: the helpers' cheap look before a container's start.
func NetworkPoliciesStored(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "objects", "*", "networkpolicy", "*.json"))
	return len(m) > 0
}

// RunFile is where a container's Run is kept (the prober watches it).
func RunFile(dir, pod, container string) string { return runFile(dir, pod, container) }

// LoadRun reads a container's Run; a missing one is the zero Run.
func LoadRun(dir, pod, container string) (Run, error) {
	var r Run
	data, err := os.ReadFile(runFile(dir, pod, container))
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	err = json.Unmarshal(data, &r)
	return r, err
}

// SaveRun stores a container's Run.
func SaveRun(dir, pod, container string, r Run) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return WriteAtomic(runFile(dir, pod, container), data)
}

// UpdateRun changes a container's Run. Each container's helpers run one at a
// time (systemd runs a unit's Exec* commands in sequence), so a read, change
// and write needs no lock.
func UpdateRun(dir, pod, container string, f func(*Run)) error {
	r, err := LoadRun(dir, pod, container)
	if err != nil {
		return err
	}
	f(&r)
	return SaveRun(dir, pod, container, r)
}

// kill is the prober's word that it killed a run, kept apart from the run
// records, which the container's helpers alone write.
type kill struct {
	Started time.Time `json:"started"`
	Probe   string    `json:"probe"`
}

func killFile(dir, pod, container string) string {
	return filepath.Join(PodDir(dir, pod), "killed", container)
}

// WriteKill records that the prober killed the run of a container that
// started at started, for a failed probe of that kind.
func WriteKill(dir, pod, container string, started time.Time, probe string) error {
	data, err := json.Marshal(kill{Started: started, Probe: probe})
	if err != nil {
		return err
	}
	return WriteAtomic(killFile(dir, pod, container), data)
}

// KilledBy is the kind of probe whose failure killed the run of a container
// that started at started; "" when the prober killed no such run.
func KilledBy(dir, pod, container string, started time.Time) string {
	if started.IsZero() {
		return "" // no run started: none was probed
	}
	data, err := os.ReadFile(killFile(dir, pod, container))
	if err != nil {
		return ""
	}
	var k kill
	if json.Unmarshal(data, &k) != nil || !k.Started.Equal(started) {
		return ""
	}
	return k.Probe
}

// ReadyDir holds the prober's verdicts for a pod's containers.
func ReadyDir(dir, pod string) string { return filepath.Join(PodDir(dir, pod), "ready") }

func readyFile(dir, pod, container string) string {
	return filepath.Join(ReadyDir(dir, pod), container)
}

// SetReady records the prober's readiness verdict for a container.
func SetReady(dir, pod, container string, ready bool) error {
	return WriteAtomic(readyFile(dir, pod, container), []byte(strconv.FormatBool(ready)))
}

// ReadySince is when the prober's verdict for a container last changed (it
// writes it only then, and as each run starts and ends); zero when there is
// none.
func ReadySince(dir, pod, container string) time.Time {
	fi, err := os.Stat(readyFile(dir, pod, container))
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// Ready reads the prober's verdict (false when there is none).
func Ready(dir, pod, container string) bool {
	data, err := os.ReadFile(readyFile(dir, pod, container))
	return err == nil && strings.TrimSpace(string(data)) == "true"
}

func stopRequestFile(dir, pod string) string { return filepath.Join(PodDir(dir, pod), "stop-grace") }

// WriteStopRequest leaves the grace period `podunit down` was given for the
// stop helpers of the pod's containers.
func WriteStopRequest(dir, pod string, grace time.Duration) error {
	return WriteAtomic(stopRequestFile(dir, pod), []byte(strconv.FormatInt(int64(grace/time.Second), 10)+"\n"))
}

// ReadStopRequest returns the grace period `podunit down` asked for, if any.
func ReadStopRequest(dir, pod string) (time.Duration, bool) {
	data, err := os.ReadFile(stopRequestFile(dir, pod))
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// Kubernetes' words for a pod whose activeDeadlineSeconds ran out.
const (
	ReasonDeadlineExceeded  = "DeadlineExceeded"
	MessageDeadlineExceeded = "Pod was active on the node longer than the specified deadline"
)

func deadlineFile(dir, pod string) string {
	return filepath.Join(PodDir(dir, pod), "deadline-exceeded")
}

// WriteDeadlineExceeded records that the pod's activeDeadlineSeconds ran
// out at that time: the pod has failed (DeadlineExceeded).
func WriteDeadlineExceeded(dir, pod string, at time.Time) error {
	return WriteAtomic(deadlineFile(dir, pod), []byte(at.UTC().Format(time.RFC3339Nano)+"\n"))
}

// DeadlineExceeded tells when the pod's activeDeadlineSeconds ran out, if
// they did.
func DeadlineExceeded(dir, pod string) (time.Time, bool) {
	data, err := os.ReadFile(deadlineFile(dir, pod))
	if err != nil {
		return time.Time{}, false
	}
	at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(data)))
	return at, err == nil
}

// Completion is how a pod completed: every app container ended for good,
// so the pod is Succeeded or Failed for good, and its sandbox (the infra,
// and with it its address and host ports) was let go, as the kubelet lets
// a terminal pod's sandbox go. The containers' restarts are kept, as
// systemd forgets them with the units.
type Completion struct {
	Phase    string         `json:"phase"`
	At       time.Time      `json:"at"`
	Restarts map[string]int `json:"restarts,omitempty"`
}

func completionFile(dir, pod string) string { return filepath.Join(PodDir(dir, pod), "completed.json") }

// WriteCompletion records that the pod completed.
func WriteCompletion(dir, pod string, c Completion) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return WriteAtomic(completionFile(dir, pod), data)
}

// LoadCompletion tells how the pod completed, if it did.
func LoadCompletion(dir, pod string) (Completion, bool) {
	var c Completion
	data, err := os.ReadFile(completionFile(dir, pod))
	if err != nil || json.Unmarshal(data, &c) != nil || c.Phase == "" {
		return Completion{}, false
	}
	return c, true
}

// Deleting tells whether `podunit down` is stopping the pod.
func Deleting(dir, pod string) bool {
	_, err := os.Stat(stopRequestFile(dir, pod))
	return err == nil
}
