package units_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/units"
)

const debugPod = `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: app
    image: busybox:1
  volumes: [{name: data, emptyDir: {}}]
`

// A debug container joins the running pod (its infra's namespaces), and its
// target's process namespace; it is never restarted; its output goes to its
// own log file. Pinned byte for byte in testdata/ephemeral.unit.
func TestTranslateEphemeral(t *testing.T) {
	m, err := pod.Load([]byte(debugPod))
	if err != nil {
		t.Fatal(err)
	}
	ec := corev1.EphemeralContainer{TargetContainerName: "app"}
	ec.Name, ec.Image, ec.Stdin, ec.TTY = "debugger-x7k2p", "busybox:1", true, true
	ec.Command = []string{"sh", "-c", "echo $X; ps"}
	ec.Env = []corev1.EnvVar{{Name: "X", Value: "a b"}}
	ec.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	p, i, res, err := pod.AddEphemeral(m.Pods[0], ec)
	if err != nil {
		t.Fatal(err)
	}
	cu, plan, err := units.TranslateEphemeral(p, i, res, goldenOptions)
	if err != nil {
		t.Fatal(err)
	}
	spec := plan.Runtime.Containers[0]
	got := cu.Unit.Render() + "# podman " + strings.Join(spec.Args, " ") + "\n# log " + spec.Log + "\n"
	for _, want := range []string{"--pid container:podunit_web_app ", "--network container:podunit_web ", "Restart=no", "--tty --interactive"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q", want)
		}
	}
	if plan.Images[0].PullPolicy != "IfNotPresent" || plan.Images[0].FieldPath != "spec.ephemeralContainers[0].image" {
		t.Errorf("image: %+v", plan.Images)
	}
	if *update {
		os.WriteFile("testdata/ephemeral.unit", []byte(got), 0o644)
		return
	}
	if exp, err := os.ReadFile("testdata/ephemeral.unit"); err != nil || string(exp) != got {
		t.Errorf("testdata/ephemeral.unit differs (go test ./units -update):\n%s", got)
	}
}

func TestAddEphemeralRefuses(t *testing.T) {
	m, err := pod.Load([]byte(debugPod))
	if err != nil {
		t.Fatal(err)
	}
	bad := corev1.EphemeralContainer{TargetContainerName: "nope"}
	bad.Name, bad.Image = "app", "busybox:1"
	bad.Ports = []corev1.ContainerPort{{ContainerPort: 80}}
	bad.ReadinessProbe = &corev1.Probe{}
	bad.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/d", SubPath: "x"}}
	bad.Env = []corev1.EnvVar{{Name: "S", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}}}
	_, _, _, err = pod.AddEphemeral(m.Pods[0], bad)
	if !errors.Is(err, pod.ErrInvalid) {
		t.Fatalf("not refused as invalid: %v", err)
	}
	for _, want := range []string{
		"spec.ephemeralContainers[0].ports: cannot be set for an Ephemeral Container",
		"spec.ephemeralContainers[0].readinessProbe: cannot be set for an Ephemeral Container",
		`spec.ephemeralContainers[0].name: duplicate value "app"`,
		"spec.ephemeralContainers[0].targetContainerName: not found: nope",
		"spec.ephemeralContainers[0].volumeMounts[0].subPath: cannot be set",
		"spec.ephemeralContainers[0].env[0].valueFrom",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if _, err := pod.Custom([]byte("resources: {limits: {cpu: 1}}\nbogus: 1\n"), 2); err == nil || !strings.Contains(err.Error(), "spec.ephemeralContainers[2].bogus: unknown field") {
		t.Errorf("Custom with an unknown field: %v", err)
	}
}
