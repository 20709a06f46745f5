package runner

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units"
)

// resizeUnits is fakeUnits that also changes properties and restarts.
type resizeUnits struct {
	*fakeUnits
	set      map[string]map[string]uint64
	restarts []string
}

func (f *resizeUnits) SetLimits(_ context.Context, unit string, limits []units.Property) error {
	if f.set[unit] == nil {
		f.set[unit] = map[string]uint64{}
	}
	for _, l := range limits {
		f.set[unit][l.Name] = l.Value.(uint64)
	}
	return nil
}

func (f *resizeUnits) RestartUnit(_ context.Context, name string) error {
	f.restarts = append(f.restarts, name)
	return nil
}

const resizable = `
apiVersion: v1
kind: Pod
metadata: {name: rs}
spec:
  resources:
    limits: {cpu: "2", memory: 1Gi}
  containers:
  - name: app
    image: local/app:1
    resizePolicy: [{resourceName: memory, restartPolicy: RestartContainer}]
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 500m, memory: 128Mi}
`

func q(s string) resource.Quantity { return resource.MustParse(s) }

func TestResize(t *testing.T) {
	r, fu, _, p, plan := setup(t, resizable)
	ru := &resizeUnits{fakeUnits: fu, set: map[string]map[string]uint64{}}
	r.Units = ru
	ctx := context.Background()
	if err := r.Up(ctx, p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	unit := units.ContainerUnitName("rs", "app")

	// cpu: NotRequired (the default), on the running unit
	got, err := r.Resize(ctx, "rs", ResizeRequest{Container: "app", Limits: corev1.ResourceList{corev1.ResourceCPU: q("250m")}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Restarted || len(ru.restarts) != 0 {
		t.Errorf("a cpu resize restarted the container")
	}
	if v := ru.set[unit]["CPUQuota"]; v != 250000 {
		t.Errorf("CPUQuota set to %d, want 250000", v)
	}
	if v := ru.set[unit]["MemoryMax"]; v != 128<<20 {
		t.Errorf("MemoryMax set to %d, want it kept at %d", v, 128<<20)
	}
	rt, err := podstate.LoadRuntime(r.StateDir, "rs")
	if err != nil {
		t.Fatal(err)
	}
	limits := map[string]uint64{}
	for _, l := range rt.Containers[0].Limits {
		limits[l.Name] = l.Value
	}
	if limits["CPUQuota"] != 250000 {
		t.Errorf("the runtime spec keeps CPUQuota %d for later starts", limits["CPUQuota"])
	}
	applied, _, _ := r.Applied("rs")
	if c := applied.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU]; c.String() != "250m" {
		t.Errorf("the record has cpu limit %s", c.String())
	}

	// memory: RestartContainer
	got, err = r.Resize(ctx, "rs", ResizeRequest{Container: "app", Limits: corev1.ResourceList{corev1.ResourceMemory: q("96Mi")}})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Restarted || len(ru.restarts) != 1 || ru.restarts[0] != unit {
		t.Errorf("a memory resize under RestartContainer: restarted %v", ru.restarts)
	}

	// the pod's own: on the slice
	if _, err := r.Resize(ctx, "rs", ResizeRequest{Limits: corev1.ResourceList{corev1.ResourceMemory: q("512Mi")}}); err != nil {
		t.Fatal(err)
	}
	if v := ru.set[units.SliceName("rs")]["MemoryMax"]; v != 512<<20 {
		t.Errorf("the slice's MemoryMax: %d", v)
	}

	// refused: beyond the pod's limit, a QoS change, an unknown container;
	// nothing changes
	before := ru.set[unit]["CPUQuota"]
	for _, req := range []struct {
		req  ResizeRequest
		want string
	}{
		{ResizeRequest{Container: "app", Limits: corev1.ResourceList{corev1.ResourceCPU: q("3")}}, "spec.containers[0].resources.limits[cpu]"},
		{ResizeRequest{Limits: corev1.ResourceList{corev1.ResourceCPU: q("1")}, Requests: corev1.ResourceList{corev1.ResourceCPU: q("1"), corev1.ResourceMemory: q("512Mi")}}, "QoS class would change from Burstable to Guaranteed"},
		{ResizeRequest{Container: "nope", Limits: corev1.ResourceList{corev1.ResourceCPU: q("1")}}, `no container "nope"`},
		{ResizeRequest{Container: "app", Limits: corev1.ResourceList{"example.com/x": q("1")}}, "only cpu and memory"},
	} {
		_, err := r.Resize(ctx, "rs", req.req)
		if err == nil || !strings.Contains(err.Error(), req.want) {
			t.Errorf("%+v: %v, want %q", req.req, err, req.want)
		}
		if req.want != `no container "nope"` && !errors.Is(err, pod.ErrInvalid) {
			t.Errorf("%+v: not ErrInvalid: %v", req.req, err)
		}
	}
	if ru.set[unit]["CPUQuota"] != before {
		t.Error("a refused resize changed the unit")
	}
}
