package helper

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/podstate"
)

// shape applies or shows the pod's bandwidth shaping, in its network
// namespace (entered first). Removal needs nothing: the shaping lives and
// dies with the namespace. What the kernel has afterwards is printed as JSON
// and, after apply, recorded as the event Shaped.
func (t *task) shape(ctx context.Context) error {
	if t.rt.HostNetwork {
		return fmt.Errorf("pod %q uses the host's network: it is never shaped", t.rt.Pod)
	}
	if !t.cmd.InNetns {
		if t.cmd.Action == contract.ShapeRemove {
			return nil
		}
		return t.enterNetns(ctx, t.cmd)
	}
	var report any
	var summary string
	var err error
	switch t.cmd.Action {
	case contract.ShapeApply:
		report, summary, err = t.Shaper.Apply(t.rt.Bandwidth)
		if err == nil {
			_ = podstate.AppendEvent(t.StateDir, t.rt.Pod, podstate.Event{Time: t.Now(), Type: "Normal", Reason: "Shaped", Message: summary})
		}
	case contract.ShapeShow:
		report, _, err = t.Shaper.Show()
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("pod %q: bandwidth %s: %w", t.rt.Pod, t.cmd.Action, err)
	}
	return json.NewEncoder(t.Out).Encode(report)
}
