package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
)

// describe pod shows what kubectl describe pod shows, in its order and
// alignment: the containers' ports, command, states with their times, probes,
// environment (a Secret's key by reference, never its value) and mounts; the
// conditions, volumes, node selector and tolerations; and what podunit adds:
// the units, hooks, restart policy and grace period, and the events.
func TestDescribePod(t *testing.T) {
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.UTC
	yes := true
	grace := int64(10)
	created := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	applied := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "u1", Labels: map[string]string{"tier": "front", "app": "web"}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: &grace,
			NodeSelector:                  map[string]string{"kubernetes.io/os": "linux"},
			InitContainers:                []corev1.Container{{Name: "setup", Image: "busybox:1", Command: []string{"sh", "-c", "echo one\necho two"}}},
			Containers: []corev1.Container{{Name: "app", Image: "app:2", Args: []string{"--port", "8080"},
				Ports: []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 18080}, {ContainerPort: 9090, Protocol: corev1.ProtocolUDP}},
				Resources: corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}},
				LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}}, PeriodSeconds: 2},
				EnvFrom:        []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}, Prefix: "CFG_"}},
				Env: []corev1.EnvVar{{Name: "MODE", Value: "fast"},
					{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "token"}}},
					{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
					{Name: "MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/app"}, {Name: "conf", MountPath: "/etc/app.conf", SubPath: "app.conf", ReadOnly: true}},
				Lifecycle:    &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"drain"}}}}}},
			Volumes: []corev1.Volume{
				{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
				{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Optional: &yes}}}},
			Tolerations: []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
		}}
	zero, three := 0, 3
	st := runner.PodStatus{Name: "web", Namespace: "shop", Phase: "Running", Created: created, Unit: "podunit-web.service", Slice: "podunit-web.slice", Total: 1,
		Containers: []runner.ContainerStatus{
			{Name: "setup", Kind: "init", State: "Terminated", Reason: "Completed", ExitCode: &zero, Unit: "podunit-web-setup.service"},
			{Name: "app", Kind: "app", State: "Waiting", Reason: "CrashLoopBackOff", Message: "back-off 20s restarting failed container, 12s left",
				Restarts: 2, LastExitCode: &three, ExitMessage: "starting\nfatal: no config\n", Unit: "podunit-web-app.service"}}}
	runs := map[string]podstate.Run{
		"setup": {LastStarted: created.Add(time.Second), Finished: created.Add(2 * time.Second)},
		"app":   {LastStarted: created.Add(40 * time.Second), Finished: created.Add(41 * time.Second), ExitCode: 3}}
	d := description{Description: &runner.Description{Status: st, Pod: applied, Events: []podstate.Event{
		{Time: created.Add(41 * time.Second), First: created.Add(20 * time.Second), Count: 2, Type: "Warning", Reason: "BackOff", Container: "app", Message: "Back-off 20s restarting failed container app"}}}}
	d.V1 = v1Pod(applied, st, podFacts{podIPs: []string{"10.96.128.7"}, hostIPs: []string{"192.0.2.2"}, created: created, runs: runs})
	d.V1.Spec.NodeName = "host1"
	var b bytes.Buffer
	printDescription(&b, d)
	want := strings.TrimPrefix(`
Name:         web
Namespace:    shop
Node:         host1/192.0.2.2
Start Time:   Sat, 05 Dec 2026 09:00:00 +0000
Labels:       app=web
              tier=front
Annotations:  <none>
Status:       Running
IP:           10.96.128.7
IPs:
  IP:        10.96.128.7
Slice:       podunit-web.slice
Infra Unit:  podunit-web.service
Init Containers:
  setup:
    Image:      busybox:1
    Unit:       podunit-web-setup.service
    Port:       <none>
    Host Port:  <none>
    Command:
      sh
      -c
      echo one
      echo two
    State:          Terminated
      Reason:       Completed
      Exit Code:    0
      Started:      Sat, 05 Dec 2026 09:00:01 +0000
      Finished:     Sat, 05 Dec 2026 09:00:02 +0000
    Ready:          True
    Restart Count:  0
    Environment:    <none>
    Mounts:         <none>
Containers:
  app:
    Image:       app:2
    Unit:        podunit-web-app.service
    Ports:       8080/TCP, 9090/UDP
    Host Ports:  18080/TCP, 0/UDP
    Args:
      --port
      8080
    State:          Waiting
      Reason:       CrashLoopBackOff
      Message:      back-off 20s restarting failed container, 12s left
    Last State:     Terminated
      Reason:       Error
      Message:      starting
                    fatal: no config
      Exit Code:    3
      Started:      Sat, 05 Dec 2026 09:00:40 +0000
      Finished:     Sat, 05 Dec 2026 09:00:41 +0000
    Ready:          False
    Restart Count:  2
    Limits:
      cpu:     500m
      memory:  64Mi
    Requests:
      cpu:      100m
    Liveness:   tcp-socket :8080 delay=0s timeout=1s period=10s #success=1 #failure=3
    Readiness:  http-get http://:http/ready delay=0s timeout=1s period=2s #success=1 #failure=3
    Environment Variables from:
      cfg  ConfigMap with prefix 'CFG_'  Optional: false
    Environment:
      MODE:   fast
      TOKEN:  <set to the key 'token' in secret 'creds'>  Optional: false
      POD:    web (v1:metadata.name)
      MEM:    64 (limits.memory)
    Mounts:
      /etc/app.conf from conf (ro,path="app.conf")
      /var/lib/app from data (rw)
    preStop:  exec drain
Conditions:
  Type              Status
  PodScheduled      True 
  Initialized       True 
  ContainersReady   False 
  Ready             False 
Volumes:
  data:
    Type:       PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)
    ClaimName:  data
    ReadOnly:   false
  conf:
    Type:                  ConfigMap (a volume populated by a ConfigMap)
    Name:                  cfg
    Optional:              true
QoS Class:                 Burstable
Node-Selectors:            kubernetes.io/os=linux
Tolerations:               node.kubernetes.io/not-ready:NoExecute op=Exists
Restart Policy:            Always
Termination Grace Period:  10s
Events:
  TIME                        TYPE     REASON   CONTAINER  MESSAGE
  09:00:41.000 (x2 over 21s)  Warning  BackOff  app        Back-off 20s restarting failed container app
`, "\n")
	if got := b.String(); got != want {
		t.Errorf("describe:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(b.String(), "%!") {
		t.Errorf("a format error:\n%s", b.String())
	}
}

// A Deployment's or StatefulSet's Pod Template is described as kubectl
// describes it: each container's spec (with the API server's defaults), the
// volumes, node selector and tolerations.
func TestDescribePodTemplate(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "s", Image: "server:3",
			Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			StartupProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, FailureThreshold: 30},
			Env: []corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "PASS", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "pw"}}}},
			VolumeMounts: []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}}}},
			Volumes: []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}}}
	var b bytes.Buffer
	describePodTemplate(&b, tmpl)
	want := `Pod Template:
  Labels:  app=web
  Containers:
   s:
    Image:      server:3
    Port:       8080/TCP
    Host Port:  0/TCP
    Startup:    exec [true] delay=0s timeout=1s period=10s #success=1 #failure=30
    Environment:
      POD:    (v1:metadata.name)
      PASS:  <set to the key 'pw' in secret 'db'>  Optional: false
    Mounts:
      /tmp from tmp (rw)
  Volumes:
    tmp:
      Type:        EmptyDir (a temporary directory that shares a pod's lifetime)
      Medium:      
      SizeLimit:   <unset>
  Node-Selectors:  <none>
  Tolerations:     <none>
`
	if got := b.String(); got != want {
		t.Errorf("template:\n%s\nwant:\n%s", got, want)
	}
	if tmpl.Spec.Containers[0].StartupProbe.PeriodSeconds != 0 {
		t.Error("the template was changed")
	}
}
