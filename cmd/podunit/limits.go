package main

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/units"
	"github.com/podunit/podunit/units/sdbus"
)

// limitsCommand: ExecStartPre of a container with limits takes them off, so
// `podman run` starts unthrottled; post-start puts them back.
func limitsCommand() *cli.Command {
	return &cli.Command{
		Name:  "limits",
		Usage: "set (--limit NAME=VALUE) or clear (--clear NAME) resource properties of a unit",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "unit", Required: true},
			&cli.StringSliceFlag{Name: "limit"},
			&cli.StringSliceFlag{Name: "clear"},
		},
		Action: func(c *cli.Context) error {
			return setLimits(c.Context, c.String("unit"), c.StringSlice("limit"), c.StringSlice("clear"))
		},
	}
}

// noLimit is each property's "not set" value.
var noLimit = map[string]uint64{"MemoryMax": math.MaxUint64, "MemoryLow": 0, "CPUQuota": math.MaxUint64, "CPUWeight": math.MaxUint64}

func setLimits(ctx context.Context, unit string, set, clear []string) error {
	var props []units.Property
	for _, kv := range set {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 64)
		if _, known := noLimit[k]; err != nil || !known {
			return fmt.Errorf("%w: bad limit %q", errUsage, kv)
		}
		props = append(props, units.Property{Name: k, Value: n})
	}
	for _, k := range clear {
		v, known := noLimit[k]
		if !known {
			return fmt.Errorf("%w: unknown limit %q", errUsage, k)
		}
		props = append(props, units.Property{Name: k, Value: v})
	}
	if len(props) == 0 {
		return nil
	}
	m, err := sdbus.Connect(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.SetLimits(ctx, unit, props)
}
