// Command podunit-probe is a pod's prober: podunit's prober unit runs
// `podunit internal probe`, which enters the pod's network namespace and
// execs this binary there with the same command line (helper/contract). It
// carries only what probing needs (no Kubernetes packages, no podman
// bindings, no command-line framework), so that a process that lives as long
// as its pod stays small; podunit itself can do the same work where this
// binary is not installed.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/podapi"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/prober"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "podunit-probe:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd, err := checkArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "podunit-probe:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	dir := podstate.DefaultDir()
	rt, err := podstate.LoadRuntime(dir, cmd.Pod)
	if err != nil {
		return err
	}
	return prober.Serve(ctx, dir, rt, podapi.NewPreferring(podstate.PodmanSocket(dir), podapi.SocketPath()))
}

// checkArgs parses the prober's command line: `internal probe --pod P
// --in-netns`, as helper/contract writes it.
func checkArgs(args []string) (contract.Command, error) {
	if len(args) == 0 || args[0] != "internal" {
		return contract.Command{}, fmt.Errorf("%w: podunit-probe is run by podunit's units (podunit internal probe), not by hand", contract.ErrUsage)
	}
	cmd, err := contract.Parse(args[1:])
	if err == nil && (cmd.Op != contract.OpProbe || !cmd.InNetns) {
		err = fmt.Errorf("%w: podunit-probe runs only %s, inside the pod's network namespace", contract.ErrUsage, contract.OpProbe)
	}
	return cmd, err
}
