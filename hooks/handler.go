// Package hooks resolves lifecycle handlers and probes from the pod spec
// (Resolve, ResolveProbe: pure, once, at validation) and carries them out
// (Runner): exec through podman's API, httpGet, tcpSocket and gRPC in-process.
// The resolved handlers travel to podunit's helpers in the pod's runtime spec
// (see helper/contract), never on a command line.
package hooks

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Handler is one resolved lifecycle handler: exactly one of its fields is set.
type Handler struct {
	Exec      []string   `json:"exec,omitempty"`
	HTTPGet   *HTTPGet   `json:"httpGet,omitempty"`
	Sleep     *int64     `json:"sleep,omitempty"`     // seconds
	TCPSocket *TCPSocket `json:"tcpSocket,omitempty"` // probes only
	GRPC      *GRPC      `json:"grpc,omitempty"`      // probes only
}

// GRPC is a gRPC health check of the pod's own port.
type GRPC struct {
	Port    int    `json:"port"`
	Service string `json:"service,omitempty"`
}

// HTTPGet is an httpGet handler with its port resolved to a number.
type HTTPGet struct {
	Scheme  string   `json:"scheme"`
	Host    string   `json:"host,omitempty"` // empty: the pod itself
	Port    int      `json:"port"`
	Path    string   `json:"path"`
	Headers []Header `json:"headers,omitempty"`
}

// Header is one HTTP header of an httpGet handler.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// StopReasonHeader carries the stop reason to httpGet preStop handlers;
// StopReasonEnv carries it to exec handlers.
const (
	StopReasonHeader = "X-Podunit-Stop-Reason"
	StopReasonEnv    = "PODUNIT_STOP_REASON"
)

// Stop reasons, after the container hooks proposal: why a container is stopped.
const (
	ReasonDelete     = "Delete"     // the user removed the pod
	ReasonHealth     = "Health"     // it failed a check: liveness, or its postStart hook
	ReasonDependency = "Dependency" // something it depends on (the pod's infra) stopped
)

// PostStartTimeoutAnnotation bounds a pod's postStart hooks (default
// DefaultPostStartTimeout): the kubelet sets no limit, but a hung hook must not
// hold a container (and `podunit up`) forever.
const PostStartTimeoutAnnotation = "podunit.io/post-start-timeout"

// DefaultPostStartTimeout bounds postStart hooks unless the annotation says otherwise.
const DefaultPostStartTimeout = 2 * time.Minute

// String describes a handler for humans (podunit describe).
func (h Handler) String() string {
	switch {
	case len(h.Exec) > 0:
		return "exec " + strings.Join(h.Exec, " ")
	case h.HTTPGet != nil:
		host := h.HTTPGet.Host
		if host == "" {
			host = "<pod>"
		}
		return fmt.Sprintf("httpGet %s://%s:%d%s", strings.ToLower(h.HTTPGet.Scheme), host, h.HTTPGet.Port, h.HTTPGet.Path)
	case h.Sleep != nil:
		return fmt.Sprintf("sleep %ds", *h.Sleep)
	case h.TCPSocket != nil:
		host := h.TCPSocket.Host
		if host == "" {
			host = "<pod>"
		}
		return fmt.Sprintf("tcp-socket %s:%d", host, h.TCPSocket.Port)
	case h.GRPC != nil:
		if h.GRPC.Service != "" {
			return fmt.Sprintf("grpc <pod>:%d service %q", h.GRPC.Port, h.GRPC.Service)
		}
		return fmt.Sprintf("grpc <pod>:%d", h.GRPC.Port)
	}
	return "none"
}

// Resolve turns a LifecycleHandler of container c into a Handler, checking it as
// the API server does and resolving a named port against c's ports.
func Resolve(lh *corev1.LifecycleHandler, c *corev1.Container, fp *field.Path) (*Handler, field.ErrorList) {
	var errs field.ErrorList
	var h Handler
	n := 0
	if lh.Exec != nil {
		n++
		if len(lh.Exec.Command) == 0 {
			errs = append(errs, field.Required(fp.Child("exec", "command"), ""))
		}
		h.Exec = lh.Exec.Command
	}
	if g := lh.HTTPGet; g != nil {
		n++
		hp := fp.Child("httpGet")
		port, perr := resolvePort(g.Port, c, hp.Child("port"))
		errs = append(errs, perr...)
		scheme := string(g.Scheme)
		switch scheme {
		case "":
			scheme = "HTTP"
		case "HTTP", "HTTPS":
		default:
			errs = append(errs, field.NotSupported(hp.Child("scheme"), g.Scheme, []string{"HTTP", "HTTPS"}))
		}
		path := g.Path
		if path == "" {
			path = "/"
		} else if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		hg := &HTTPGet{Scheme: scheme, Host: g.Host, Port: port, Path: path}
		for i, hd := range g.HTTPHeaders {
			if hd.Name == "" || strings.ContainsAny(hd.Name, " :\t\r\n") {
				errs = append(errs, field.Invalid(hp.Child("httpHeaders").Index(i).Child("name"), hd.Name, "must be a valid HTTP header name"))
			}
			hg.Headers = append(hg.Headers, Header{Name: hd.Name, Value: hd.Value})
		}
		h.HTTPGet = hg
	}
	if lh.TCPSocket != nil {
		n++ // rejected by the field policy: deprecated in Kubernetes
	}
	if lh.Sleep != nil {
		n++
		errs = append(errs, CheckSeconds(lh.Sleep.Seconds, false, fp.Child("sleep", "seconds"))...)
		s := lh.Sleep.Seconds
		h.Sleep = &s
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(fp, "must specify a handler type (exec, httpGet or sleep)"))
	case n > 1:
		errs = append(errs, field.Forbidden(fp, "may not specify more than one handler type"))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &h, nil
}

func resolvePort(p intstr.IntOrString, c *corev1.Container, fp *field.Path) (int, field.ErrorList) {
	if p.Type == intstr.Int {
		if p.IntVal < 1 || p.IntVal > 65535 {
			return 0, field.ErrorList{field.Invalid(fp, p.IntVal, "must be between 1 and 65535, inclusive")}
		}
		return int(p.IntVal), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	var names []string
	for _, cp := range c.Ports {
		if cp.Name != "" {
			names = append(names, cp.Name)
		}
	}
	sort.Strings(names)
	msg := "no port of the container has this name"
	if len(names) > 0 {
		msg += " (named ports: " + strings.Join(names, ", ") + ")"
	}
	return 0, field.ErrorList{field.Invalid(fp, p.StrVal, msg)}
}

// MinStopSignalPhase is what the kubelet leaves for the stop signal when a
// preStop hook used up the grace period.
const MinStopSignalPhase = 2 * time.Second

// SignalPhase is the time the stop signal gets after a preStop hook that took
// elapsed out of grace: the remainder, but at least MinStopSignalPhase. A grace
// period of zero (a forced delete) kills at once.
func SignalPhase(grace, elapsed time.Duration) time.Duration {
	if grace <= 0 {
		return 0
	}
	left := grace - elapsed
	if left < MinStopSignalPhase {
		return MinStopSignalPhase
	}
	return left
}
