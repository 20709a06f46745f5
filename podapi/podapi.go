// Package podapi is the part of podman's REST API that podunit's helpers use
// while a pod runs: inspect a container, stop it, run a command in it (through
// its OCI runtime, or podman's exec API). It speaks HTTP on the user's podman
// socket with net/http alone: the pod's prober links it into a small binary
// of its own, where podman's bindings (and all they pull in) would be most of
// its memory. What runs once per `podunit up` (images, volumes, networks)
// goes through podman's bindings in package engine.
package podapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// RuntimeDir is the user's runtime directory ($XDG_RUNTIME_DIR, else
// /run/user/UID), where podman's socket and podunit's state live.
func RuntimeDir() string {
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
		return rt
	}
	return fmt.Sprintf("/run/user/%d", os.Getuid())
}

// SocketPath is where the user's podman.socket listens.
func SocketPath() string { return filepath.Join(RuntimeDir(), "podman", "podman.sock") }

// Answers tells whether a service accepts connections at socket now (a
// connection made and closed: no file, or a stale one, does not).
func Answers(socket string) bool {
	c, err := net.DialTimeout("unix", socket, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Client talks to one podman service.
type Client struct {
	socket string
	http   *http.Client
}

// New is a client of the service at socket (nothing is dialled yet).
func New(socket string) *Client { return NewPreferring(socket, "") }

// NewPreferring is a client of the service at socket, or, for a connection
// where nothing listens there (no socket file, a stale one), of the one at
// fallback (none when empty): podunit's own service while it runs, else
// the user's podman.socket, which systemd starts on demand.
func NewPreferring(socket, fallback string) *Client {
	d := &net.Dialer{}
	return &Client{socket: socket, http: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := d.DialContext(ctx, "unix", socket)
			if err != nil && fallback != "" && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED)) {
				return d.DialContext(ctx, "unix", fallback)
			}
			return c, err
		},
		MaxIdleConns:    2,
		IdleConnTimeout: 30 * time.Second,
	}}}
}

// The API version podunit speaks: podman 4.0's, which every podman since
// serves.
const prefix = "http://d/v4.0.0/libpod"

// ErrNotFound is a container or exec session that does not exist.
var ErrNotFound = errors.New("no such container or exec session")

// apiError is the service's error answer.
type apiError struct {
	Cause    string `json:"cause"`
	Message  string `json:"message"`
	Response int    `json:"response"`
}

// AnswerError is the service's answer to a request it could not carry out
// (a status of 400 or more other than 404): the service was reached and
// said why, unlike an error of the connection.
type AnswerError struct {
	Status  int
	Message string
}

func (e *AnswerError) Error() string { return "podman: " + e.Message }

// do sends a request and checks its answer's status: a 404 is ErrNotFound,
// another status of 400 or more the service's message. The caller closes the
// body of a successful answer.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	u := prefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("podman at %s: %w", c.socket, unwrapURL(err))
	}
	if resp.StatusCode < 400 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, message(data))
	}
	return nil, &AnswerError{Status: resp.StatusCode, Message: message(data)}
}

func message(data []byte) string {
	var e apiError
	if json.Unmarshal(data, &e) == nil && e.Message != "" {
		return e.Message
	}
	return string(bytes.TrimSpace(data))
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// getJSON decodes a GET's answer into v.
func (c *Client) getJSON(ctx context.Context, path string, v any) error {
	resp, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// discard sends a request whose answer holds nothing of use.
func (c *Client) discard(ctx context.Context, method, path string, query url.Values, body any) error {
	resp, err := c.do(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// Container is what the helpers read of a container's inspection.
type Container struct {
	ID    string `json:"Id"`
	Image string `json:"Image"`
	State struct {
		Running bool `json:"Running"`
		Pid     int  `json:"Pid"`
	} `json:"State"`
	OCIRuntime    string `json:"OCIRuntime"`
	OCIConfigPath string `json:"OCIConfigPath"`
	HostsPath     string `json:"HostsPath"`
	Config        struct {
		Labels map[string]string `json:"Labels"`
		// StopSignal is a number in podman 4's answer, a name in 5's.
		StopSignal json.RawMessage `json:"StopSignal"`
	} `json:"Config"`
}

func containerPath(name string, rest string) string {
	return "/containers/" + url.PathEscape(name) + rest
}

// Inspect inspects a container.
func (c *Client) Inspect(ctx context.Context, name string) (*Container, error) {
	var out Container
	if err := c.getJSON(ctx, containerPath(name, "/json"), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ContainerPID is the main process of a running container.
func (c *Client) ContainerPID(ctx context.Context, name string) (int, error) {
	pid, _, err := c.InfraNet(ctx, name)
	return pid, err
}

// InfraNet is a running container's main process and the hosts file podman
// made for it ("" when none).
func (c *Client) InfraNet(ctx context.Context, name string) (int, string, error) {
	data, err := c.Inspect(ctx, name)
	if err != nil {
		return 0, "", err
	}
	if !data.State.Running || data.State.Pid <= 0 {
		return 0, "", fmt.Errorf("container %s is not running", name)
	}
	return data.State.Pid, data.HostsPath, nil
}

// ContainerLabels returns a container's labels, and whether it exists.
func (c *Client) ContainerLabels(ctx context.Context, name string) (map[string]string, bool, error) {
	data, err := c.Inspect(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data.Config.Labels, true, nil
}

// ContainerIDs are a container's id and its image's id.
func (c *Client) ContainerIDs(ctx context.Context, name string) (string, string, error) {
	data, err := c.Inspect(ctx, name)
	if err != nil {
		return "", "", err
	}
	return data.ID, data.Image, nil
}

// Kill sends a container's processes a signal.
func (c *Client) Kill(ctx context.Context, name, signal string) error {
	return c.discard(ctx, http.MethodPost, containerPath(name, "/kill"), url.Values{"signal": {signal}}, nil)
}

// StopContainer sends the container's stop signal, then SIGKILL once timeout
// has passed, exactly then. A container that is gone or stopped is fine.
//
// The signal goes through the API to the container's first process, as the
// kubelet's runtime sends it (in a shared PID namespace the container's other
// processes are killed when that one ends, as containerd does), and the
// process is watched on a pidfd: this returns the moment it has ended.
// podman's own stop looks for the end every 100 ms and then cleans up in
// podman's service while conmon's exit command (`podman container cleanup`)
// does the same and waits for it; one container's stop took 100-120 ms this
// way against 165-170 ms through podman's stop (from the unit's timestamps;
// README, Performance). Where the process cannot be watched, podman's stop
// does it.
func (c *Client) StopContainer(ctx context.Context, name string, timeout time.Duration) error {
	if done, err := c.stopWatched(ctx, name, timeout); done {
		return err
	}
	return c.stop(ctx, name, timeout)
}

// stop is podman's stop. Its API counts the timeout in whole seconds: it gets
// the timeout rounded up, and SIGKILL goes from here at the exact deadline,
// so the kill is neither early nor up to a second late.
func (c *Client) stop(ctx context.Context, name string, timeout time.Duration) error {
	secs := uint64(math.Ceil(timeout.Seconds()))
	if time.Duration(secs)*time.Second > timeout {
		kill := time.AfterFunc(timeout, func() {
			kctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = c.Kill(kctx, name, "SIGKILL")
		})
		defer kill.Stop()
	}
	err := c.discard(ctx, http.MethodPost, containerPath(name, "/stop"),
		url.Values{"timeout": {strconv.FormatUint(secs, 10)}, "ignore": {"true"}}, nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// killWait is how long stopWatched waits for the end after SIGKILL.
const killWait = 10 * time.Second

// stopWatched sends the stop signal through the API and waits for the
// container's process to end on a pidfd, SIGKILL at the deadline. done is
// false where it does not apply or could not start; podman's stop follows.
func (c *Client) stopWatched(ctx context.Context, name string, timeout time.Duration) (done bool, err error) {
	insp, err := c.Inspect(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil || !insp.State.Running || insp.State.Pid <= 0 {
		return false, nil
	}
	sig := strings.Trim(string(insp.Config.StopSignal), `"`)
	if sig == "" || sig == "0" || sig == "null" {
		sig = "SIGTERM"
	}
	if timeout <= 0 {
		sig = "SIGKILL" // no grace: no stop signal, as podman's stop
	}
	fd, err := unix.PidfdOpen(insp.State.Pid, 0)
	if err != nil {
		return false, nil
	}
	defer unix.Close(fd)
	// The pidfd was opened before the signal: if the process had ended and
	// its PID gone to another, podman refuses to signal a container that is
	// not running, and its stop takes over.
	if err := c.Kill(ctx, name, sig); err != nil {
		return errors.Is(err, ErrNotFound), nil
	}
	if sig != "SIGKILL" && !WaitPidfd(fd, timeout) {
		// an error with the process ended: it ended between the deadline
		// and the kill, and podman no longer calls it running
		if err := c.Kill(ctx, name, "SIGKILL"); err != nil && !errors.Is(err, ErrNotFound) && !WaitPidfd(fd, 0) {
			return true, fmt.Errorf("killing %s: %w", name, err)
		}
	}
	if !WaitPidfd(fd, killWait) {
		return true, fmt.Errorf("%s still runs %s after SIGKILL", name, killWait)
	}
	return true, nil
}

// waitPidfd reports whether the process of a pidfd ends within d (or has
// ended).
func WaitPidfd(fd int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		// rounded up: never an early SIGKILL
		ms := int((left + time.Millisecond - 1) / time.Millisecond)
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
		if n > 0 {
			return true
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil || left == 0 {
			return false
		}
	}
}

// RemoveContainer removes a container at once, running or not; a missing one
// is not an error.
func (c *Client) RemoveContainer(ctx context.Context, name string) error {
	err := c.discard(ctx, http.MethodDelete, containerPath(name, ""),
		url.Values{"force": {"true"}, "ignore": {"true"}, "timeout": {"0"}}, nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Containers names the containers, running or not, that carry the label
// key=value.
func (c *Client) Containers(ctx context.Context, key, value string) ([]string, error) {
	filters, err := json.Marshal(map[string][]string{"label": {key + "=" + value}})
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, http.MethodGet, "/containers/json", url.Values{"all": {"true"}, "filters": {string(filters)}}, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var list []struct {
		Names []string `json:"Names"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, err
	}
	var out []string
	for _, e := range list {
		if len(e.Names) > 0 {
			out = append(out, e.Names[0])
		}
	}
	return out, nil
}

// VolumeMountpoint is where a named volume's data lives on the host.
func (c *Client) VolumeMountpoint(ctx context.Context, name string) (string, error) {
	var v struct {
		Mountpoint string `json:"Mountpoint"`
	}
	if err := c.getJSON(ctx, "/volumes/"+url.PathEscape(name)+"/json", &v); err != nil {
		return "", err
	}
	if v.Mountpoint == "" {
		return "", fmt.Errorf("podman did not say where volume %s is", name)
	}
	return v.Mountpoint, nil
}

// CreateContainer creates a container from spec, the body of podman's
// create request (its specgen).
func (c *Client) CreateContainer(ctx context.Context, spec any) error {
	return c.discard(ctx, http.MethodPost, "/containers/create", nil, spec)
}

// StartContainer starts a created container; one already running is not an
// error.
func (c *Client) StartContainer(ctx context.Context, name string) error {
	return c.discard(ctx, http.MethodPost, containerPath(name, "/start"), nil, nil)
}

// Ping tells whether the service answers.
func (c *Client) Ping(ctx context.Context) error {
	return c.discard(ctx, http.MethodGet, "/_ping", nil, nil)
}

// Socket is the path of the service's socket.
func (c *Client) Socket() string { return c.socket }
