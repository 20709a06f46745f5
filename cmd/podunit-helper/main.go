// Command podunit-helper runs what podunit's units run for a pod: its
// containers' start (podunit internal run, then podman's own run), post-start,
// stop and clean-up, the prober's entry, shaping, volumes, the deadline.
// Each is a process that systemd starts for one action, so it carries only
// what the helpers need (no Kubernetes packages, no podman bindings, no
// command-line framework): it starts with less than half the CPU podunit
// takes. The command line is helper/contract's, the same as `podunit
// internal ...`, which does the same where this binary is not installed,
// and runs what this one does not: the service proxy and Jobs' controllers.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/podunit/podunit/helper"
	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/helper/hostenv"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run runs one helper and returns the exit status podunit's own `internal`
// command would: 2 for a command line helper/contract did not write, the
// helper's own status (helper.ErrExit), else 1 on failure.
func run(args []string) int {
	cmd, err := checkArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "podunit-helper:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "podunit-helper:", err)
		return 1
	}
	err = hostenv.New(self).Main(ctx, cmd)
	if err == nil {
		return 0
	}
	var ee *helper.ErrExit
	if errors.As(err, &ee) {
		if ee.Msg != "" {
			fmt.Fprintln(os.Stderr, "podunit:", ee.Msg)
		}
		return ee.Code
	}
	fmt.Fprintln(os.Stderr, "podunit:", err)
	return 1
}

// checkArgs parses `internal OP ...` as helper/contract writes it. Jobs'
// and CronJobs' controllers are podunit's own (they load manifests).
func checkArgs(args []string) (contract.Command, error) {
	if len(args) == 0 || args[0] != "internal" {
		return contract.Command{}, fmt.Errorf("%w: podunit-helper is run by podunit's units (internal OP ...), not by hand", contract.ErrUsage)
	}
	cmd, err := contract.Parse(args[1:])
	if err == nil && !cmd.InHelper() {
		err = fmt.Errorf("%w: %s is run by podunit itself, not podunit-helper", contract.ErrUsage, strings.TrimSpace(string(cmd.Op)+" "+cmd.Action))
	}
	return cmd, err
}
