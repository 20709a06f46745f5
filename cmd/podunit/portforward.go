package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/helper"
	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
)

// portForwardCommand is kubectl port-forward: ports of this host's loopback
// (or --address) reach a pod's ports on its own loopback, whether or not it
// publishes them. One helper inside the pod's network namespace relays every
// connection of a port; nothing about the pod changes.
func portForwardCommand() *cli.Command {
	return &cli.Command{
		Name:      "port-forward",
		Usage:     "forward local ports to a pod's ports, like kubectl port-forward (until interrupted)",
		ArgsUsage: "POD|pod/POD|svc/SERVICE [LOCAL:]REMOTE... [--address 127.0.0.1]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "address", Value: "127.0.0.1", Usage: "the local address to listen on"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			pos, vals, err := cmdFlags(c, false)
			if err != nil {
				return err
			}
			if len(pos) < 2 {
				return fmt.Errorf("%w: podunit port-forward POD [LOCAL:]REMOTE...", errUsage)
			}
			var fwds []forwardSpec
			for _, s := range pos[1:] {
				f, err := parseForward(s)
				if err != nil {
					return err
				}
				fwds = append(fwds, f)
			}
			var name string
			if kind, svc, ok := strings.Cut(pos[0], "/"); ok && slices.Contains(serviceTypes, kind) {
				// kubectl's svc/NAME: a ready pod of the Service, its
				// ports the Service's targetPorts
				ns := vals["namespace"]
				if ns == "" {
					ns = "default"
				}
				err := withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
					name, fwds, err = serviceTarget(ctx, r, ns, svc, fwds)
					return err
				})
				if err != nil {
					return err
				}
			} else {
				if name, err = onePodRef(pos[0], vals["namespace"], c.App.ErrWriter); err != nil {
					return err
				}
				if err := inNamespace(name, vals["namespace"]); err != nil {
					return err
				}
			}
			dir := podstate.DefaultDir()
			if _, err := podstate.LoadRuntime(dir, name); err != nil {
				return fmt.Errorf("%w: %q", runner.ErrNotFound, name)
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithCancelCause(ctx)
			defer cancel(nil)
			var wg sync.WaitGroup
			for _, f := range fwds {
				ln, err := net.Listen("tcp", net.JoinHostPort(vals["address"], strconv.Itoa(f.local)))
				if err != nil {
					return fmt.Errorf("listening on %s:%d: %w", vals["address"], f.local, err)
				}
				defer ln.Close()
				sock := filepath.Join(dir, "forward", fmt.Sprintf("%d-%d.sock", os.Getpid(), f.remote))
				end, err := startForwarder(ctx, name, f.remote, sock, func(err error) { cancel(err) })
				if err != nil {
					return err
				}
				defer end()
				addr := ln.Addr().(*net.TCPAddr)
				fmt.Fprintf(c.App.Writer, "Forwarding from %s -> %d\n", addr, f.remote)
				wg.Add(1)
				go func() {
					defer wg.Done()
					serveForward(ctx, ln, sock, func() { fmt.Fprintf(c.App.Writer, "Handling connection for %d\n", addr.Port) })
				}()
			}
			<-ctx.Done()
			wg.Wait()
			if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		},
	}
}

// serviceTarget is the pod port-forward reaches for a Service, as kubectl
// picks it: a running pod the Service selects with all its containers ready
// (the first by name), and each port given, a port of the Service, becomes
// its targetPort in that pod (a named one through the pod's ports).
func serviceTarget(ctx context.Context, r *runner.Runner, ns, name string, fwds []forwardSpec) (string, []forwardSpec, error) {
	known, err := objstore.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return "", nil, err
	}
	var svc *corev1.Service
	for _, s := range known.Services {
		if s.Namespace == ns && s.Name == name {
			svc = s
		}
	}
	if svc == nil {
		return "", nil, notFound{kind: "service", name: name, ns: ns}
	}
	sts, err := r.Status(ctx)
	if err != nil {
		return "", nil, err
	}
	ready := map[string]bool{}
	for _, st := range sts {
		ready[st.Name] = st.Phase == "Running" && st.Total > 0 && st.Ready == st.Total
	}
	pods, err := runner.RecordedPods(r.StateDir)
	if err != nil {
		return "", nil, err
	}
	var target *corev1.Pod
	for _, p := range pods {
		if ready[p.Name] && cluster.Selects(svc, p) {
			target = p
			break
		}
	}
	if target == nil {
		return "", nil, fmt.Errorf("service %q has no ready pod to forward to (podunit get svc %s shows its endpoints)", name, name)
	}
	out := make([]forwardSpec, len(fwds))
	for i, f := range fwds {
		j := slices.IndexFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return int(sp.Port) == f.remote })
		if j < 0 {
			return "", nil, fmt.Errorf("%w: service %q has no port %d", errUsage, name, f.remote)
		}
		port, ok := cluster.TargetPort(svc.Spec.Ports[j], target)
		if !ok && svc.Spec.Ports[j].TargetPort.StrVal == "" {
			port, ok = f.remote, true // no targetPort: the port itself
		}
		if !ok {
			return "", nil, fmt.Errorf("pod %q has no port named %q (targetPort of service %q)", target.Name, svc.Spec.Ports[j].TargetPort.StrVal, name)
		}
		out[i] = forwardSpec{local: f.local, remote: port} // the local port stays the one asked for
	}
	return target.Name, out, nil
}

// forwardSpec is one LOCAL:REMOTE of port-forward (LOCAL 0: any free port).
type forwardSpec struct{ local, remote int }

// parseForward reads kubectl's port specs: 8080 (the same port here),
// 18080:80, and :80 (any free local port).
func parseForward(s string) (forwardSpec, error) {
	local, remote, pair := strings.Cut(s, ":")
	if !pair {
		remote = local
	}
	port := func(p string, zero bool) (int, error) {
		if p == "" && zero {
			return 0, nil
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return 0, fmt.Errorf("%w: %q: ports are [LOCAL:]REMOTE, each 1-65535 (LOCAL empty: any)", errUsage, s)
		}
		return n, nil
	}
	l, err := port(local, pair)
	if err != nil {
		return forwardSpec{}, err
	}
	r, err := port(remote, false)
	return forwardSpec{local: l, remote: r}, err
}

// startForwarder starts the helper that relays to the pod's port from
// inside its network namespace, and waits until it listens on sock. It ends
// when end is called (its standard input closes); lost is told if it ends
// before.
func startForwarder(ctx context.Context, pod string, remote int, sock string, lost func(error)) (end func(), err error) {
	if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
		return nil, err
	}
	argv := contract.Command{Op: contract.OpForward, Action: strconv.Itoa(remote), Pod: pod, Socket: sock}.Argv(selfPath())
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ready <- sc.Scan() && sc.Text() == "ready"
		for sc.Scan() {
		}
	}()
	exited := make(chan error, 1)
	var ended sync.Once
	var done atomic.Bool // ended on purpose: no loss to tell
	go func() {
		err := cmd.Wait()
		if !done.Load() {
			lost(fmt.Errorf("the forwarder of port %d of pod %q ended: %v (is the pod running?)", remote, pod, err))
		}
		exited <- err
	}()
	end = func() {
		ended.Do(func() {
			done.Store(true)
			stdin.Close()
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
			}
			_ = os.Remove(sock)
		})
	}
	select {
	case ok := <-ready:
		if !ok {
			end()
			return nil, fmt.Errorf("forwarding to port %d of pod %q failed (is the pod running?)", remote, pod)
		}
	case <-time.After(30 * time.Second):
		end()
		return nil, fmt.Errorf("forwarding to port %d of pod %q: no answer from the pod's network namespace", remote, pod)
	case <-ctx.Done():
		end()
		return nil, ctx.Err()
	}
	return end, nil
}

// serveForward joins each connection to ln with one to the forwarder's
// socket, until ctx ends.
func serveForward(ctx context.Context, ln net.Listener, sock string, handling func()) {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		handling()
		go func() {
			defer c.Close()
			up, err := net.Dial("unix", sock)
			if err != nil {
				fmt.Fprintf(os.Stderr, "podunit: forwarding a connection: %v\n", err)
				return
			}
			defer up.Close()
			helper.Join(c, up)
		}()
	}
}
