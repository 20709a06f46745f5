package main

import (
	"context"
	"errors"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/helper"
	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/helper/hostenv"
	"github.com/podunit/podunit/helper/proxy"
)

// internalCommand holds what podunit's units run; not for users, and it may
// change between versions. The command lines are helper/contract's: parsed
// there, not by flags defined here.
func internalCommand() *cli.Command {
	subs := []*cli.Command{genCommand()}
	for _, op := range contract.Ops {
		op := op
		subs = append(subs, &cli.Command{
			Name:            string(op),
			SkipFlagParsing: true,
			Action: func(c *cli.Context) error {
				cmd, err := contract.Parse(append([]string{string(op)}, c.Args().Slice()...))
				if err != nil {
					return cli.Exit(err.Error(), exitInvalid)
				}
				if cmd.Op == contract.OpJob || cmd.Op == contract.OpCronJob {
					return runJob(c.Context, cmd)
				}
				return runHelper(c.Context, cmd)
			},
		})
	}
	return &cli.Command{Name: "internal", Hidden: true, Usage: "helpers run by podunit's units", Subcommands: subs}
}

// runHelper runs one helper with the real systemd, podman and netlink; a stop
// of its unit (SIGTERM) cancels it.
func runHelper(ctx context.Context, cmd contract.Command) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	env := hostenv.New(selfPath())
	env.Services = proxy.Run
	err := env.Main(ctx, cmd)
	var ee *helper.ErrExit
	if errors.As(err, &ee) {
		return cli.Exit(ee.Msg, ee.Code)
	}
	return err
}

// runJob runs a Job's controller, or a CronJob's run; a stop of its unit
// (SIGTERM) cancels it.
func runJob(ctx context.Context, cmd contract.Command) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	run := runJobController
	if cmd.Op == contract.OpCronJob {
		run = runCronJob
	}
	if err := run(ctx, cmd.Job); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
