package pod

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podunit/podunit/hooks"
)

func TestResolveHandler(t *testing.T) {
	c := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "admin", ContainerPort: 9000}}}
	fp := field.NewPath("spec", "containers").Index(0).Child("lifecycle", "preStop")
	h, errs := ResolveHandler(&corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("admin"), Path: "quit"}}, c, fp)
	if len(errs) != 0 || h.HTTPGet.Port != 9000 || h.HTTPGet.Path != "/quit" || h.HTTPGet.Scheme != "HTTP" {
		t.Errorf("named port: %+v %v", h, errs)
	}
	_, errs = ResolveHandler(&corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("nope")}}, c, fp)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "spec.containers[0].lifecycle.preStop.httpGet.port") ||
		!strings.Contains(errs[0].Error(), "admin, http") {
		t.Errorf("unknown port name: %v", errs)
	}
	_, errs = ResolveHandler(&corev1.LifecycleHandler{}, c, fp)
	if len(errs) != 1 || errs[0].Type != field.ErrorTypeRequired {
		t.Errorf("empty handler: %v", errs)
	}
	_, errs = ResolveHandler(&corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"x"}}, Sleep: &corev1.SleepAction{Seconds: 1}}, c, fp)
	if len(errs) != 1 || errs[0].Type != field.ErrorTypeForbidden {
		t.Errorf("two handlers: %v", errs)
	}
}

func TestResolveProbeDefaults(t *testing.T) {
	c := &corev1.Container{}
	p, errs := ResolveProbe(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}},
		hooks.Liveness, c, field.NewPath("livenessProbe"))
	if len(errs) != 0 || p.Timeout != time.Second || p.Period != 10*time.Second || p.SuccessThreshold != 1 ||
		p.FailureThreshold != 3 || p.InitialDelay != 0 || p.Handler.TCPSocket.Port != 80 || p.Grace != nil {
		t.Errorf("defaults: %+v %v", p, errs)
	}
	svc := "db"
	g, errs := ResolveProbe(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090, Service: &svc}}},
		hooks.Liveness, c, field.NewPath("livenessProbe"))
	if len(errs) != 0 || g.Handler.GRPC == nil || g.Handler.GRPC.Port != 9090 || g.Handler.GRPC.Service != "db" {
		t.Errorf("grpc: %+v %v", g, errs)
	}
	_, errs = ResolveProbe(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 0}}},
		hooks.Liveness, c, field.NewPath("livenessProbe"))
	if len(errs) != 1 || errs[0].Field != "livenessProbe.grpc.port" {
		t.Errorf("grpc port 0: %v", errs)
	}
}
