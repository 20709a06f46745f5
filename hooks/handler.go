// Package hooks holds resolved lifecycle handlers and probes (resolved from
// the pod spec by package pod, pure, once, at validation) and carries them
// out (Runner): exec through the container's runtime or podman's API,
// httpGet, tcpSocket and gRPC in-process. The resolved handlers travel to
// podunit's helpers in the pod's runtime spec (see helper/contract), never on
// a command line. It depends on no Kubernetes or gRPC package: the pod's
// prober links it into a small binary of its own.
package hooks

import (
	"fmt"
	"strings"
	"time"
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
