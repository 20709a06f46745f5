package hooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Target is the container a handler acts on.
type Target struct {
	Podman      string            // path of podman
	Self        string            // path of podunit, re-run inside the pod's network namespace
	Container   string            // podman name of the container
	Infra       string            // podman name of the pod's infra container
	HostNetwork bool              // the pod uses the host's network
	Env         map[string]string // extra environment for exec handlers
	Headers     []Header          // extra headers for httpGet handlers
}

// Run carries out a handler, bounded by ctx. A handler fails when its command
// exits non-zero, its HTTP answer is outside 200-399 or does not come, or ctx
// ends first.
func Run(ctx context.Context, h *Handler, t Target) error {
	switch {
	case len(h.Exec) > 0:
		return runExec(ctx, h.Exec, t)
	case h.HTTPGet != nil:
		return runHTTPGet(ctx, h.HTTPGet, t)
	case h.TCPSocket != nil:
		return runTCP(ctx, h.TCPSocket, t)
	case h.Sleep != nil:
		select {
		case <-time.After(time.Duration(*h.Sleep) * time.Second):
			return nil
		case <-ctx.Done():
			return fmt.Errorf("sleep %ds: cut short after the grace period", *h.Sleep)
		}
	}
	return errors.New("empty handler")
}

// runExec runs the command inside the container: its namespaces, cgroup and user.
func runExec(ctx context.Context, argv []string, t Target) error {
	args := []string{"exec"}
	for _, k := range sortedKeys(t.Env) {
		args = append(args, "--env", k+"="+t.Env[k])
	}
	args = append(args, t.Container)
	args = append(args, argv...)
	cmd := exec.CommandContext(ctx, t.Podman, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("exec %s: did not finish in time", strings.Join(argv, " "))
	}
	if err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 300 {
			msg = msg[len(msg)-300:]
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return fmt.Errorf("exec %s: exit status %d: %s", strings.Join(argv, " "), ee.ExitCode(), msg)
		}
		return fmt.Errorf("exec %s: %v", strings.Join(argv, " "), err)
	}
	return nil
}

// runHTTPGet performs the request from outside the container, as the kubelet
// does, so images need no HTTP client. A rootless pod's network namespace
// belongs to podman's user namespace, which a threaded Go process cannot join:
// podunit re-runs itself through `podman unshare nsenter --net=...`.
func runHTTPGet(ctx context.Context, g *HTTPGet, t Target) error {
	url := RequestURL(g)
	if t.HostNetwork {
		return HTTPGetOnce(ctx, url, append(g.Headers, t.Headers...))
	}
	args := []string{"--url", url}
	for _, h := range append(g.Headers, t.Headers...) {
		args = append(args, "--header", h.Name+": "+h.Value)
	}
	return checkInPodNetns(ctx, t, "httpGet "+url, "http-get", args...)
}

// InPodNetns runs `podunit internal ARGS...` inside the pod's network namespace
// and returns what it printed: a rootless pod's namespace belongs to podman's
// user namespace, which a threaded Go process cannot join, so podunit re-runs
// itself through `podman unshare nsenter --net=...`. On failure the error holds
// what the command said.
func InPodNetns(ctx context.Context, t Target, args ...string) ([]byte, error) {
	sandbox, err := exec.CommandContext(ctx, t.Podman, "inspect", "--format", "{{.NetworkSettings.SandboxKey}}", t.Infra).Output()
	ns := strings.TrimSpace(string(sandbox))
	if err != nil || ns == "" {
		return nil, fmt.Errorf("no network namespace (is the infra container %s running?)", t.Infra)
	}
	argv := append([]string{"unshare", "nsenter", "--net=" + ns, t.Self, "internal"}, args...)
	cmd := exec.CommandContext(ctx, t.Podman, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String() + " " + stdout.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New(msg)
	}
	return stdout.Bytes(), nil
}

// checkInPodNetns runs a one-shot check (http-get, tcp-check) in the pod's
// network namespace, bounded by ctx.
func checkInPodNetns(ctx context.Context, t Target, what, sub string, args ...string) error {
	argv := []string{sub}
	if dl, ok := ctx.Deadline(); ok {
		argv = append(argv, "--timeout", time.Until(dl).Round(time.Millisecond).String())
	}
	if _, err := InPodNetns(ctx, t, append(argv, args...)...); err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	return nil
}

// runTCP connects to the port from the pod's network namespace, as runHTTPGet.
func runTCP(ctx context.Context, s *TCPSocket, t Target) error {
	host := s.Host
	if host == "" {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(s.Port))
	if t.HostNetwork {
		return DialOnce(ctx, addr)
	}
	return checkInPodNetns(ctx, t, "tcpSocket "+addr, "tcp-check", "--addr", addr)
}

// DialOnce succeeds when a TCP connection to addr opens.
func DialOnce(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("no connection: %v", unwrapURLError(err))
	}
	return c.Close()
}

// RequestURL is the URL of an httpGet handler; without a host it is the pod
// itself, reached on its loopback from inside its network namespace.
func RequestURL(g *HTTPGet) string {
	host := g.Host
	if host == "" {
		host = "127.0.0.1"
	}
	return strings.ToLower(g.Scheme) + "://" + net.JoinHostPort(host, strconv.Itoa(g.Port)) + g.Path
}

// HTTPGetOnce does one request in the current network namespace: a status of at
// least 200 and below 400 is success. Like the kubelet, it does not verify TLS
// certificates and does not follow redirects to other hosts.
func HTTPGetOnce(ctx context.Context, url string, headers []Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "podunit-hook/1.0")
	for _, h := range headers {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	client := &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true, Proxy: nil},
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if r.URL.Host != via[0].URL.Host || len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("no answer: %v", unwrapURLError(err))
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	return nil
}

func unwrapURLError(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
