package pod

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podunit/podunit/hooks"
)

// ResolveHandler turns a LifecycleHandler of container c into a hooks.Handler, checking it as
// the API server does and resolving a named port against c's ports.
func ResolveHandler(lh *corev1.LifecycleHandler, c *corev1.Container, fp *field.Path) (*hooks.Handler, field.ErrorList) {
	var errs field.ErrorList
	var h hooks.Handler
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
		hg := &hooks.HTTPGet{Scheme: scheme, Host: g.Host, Port: port, Path: path}
		for i, hd := range g.HTTPHeaders {
			if hd.Name == "" || strings.ContainsAny(hd.Name, " :\t\r\n") {
				errs = append(errs, field.Invalid(hp.Child("httpHeaders").Index(i).Child("name"), hd.Name, "must be a valid HTTP header name"))
			}
			hg.Headers = append(hg.Headers, hooks.Header{Name: hd.Name, Value: hd.Value})
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

// ResolveProbe checks a probe as the API server does and applies the defaults:
// timeout 1 s, period 10 s, success and failure thresholds 1 and 3. Liveness
// and startup probes must have a success threshold of 1.
func ResolveProbe(p *corev1.Probe, kind string, c *corev1.Container, fp *field.Path) (*hooks.Probe, field.ErrorList) {
	var errs field.ErrorList
	out := &hooks.Probe{Kind: kind, InitialDelay: secs(p.InitialDelaySeconds), Timeout: secs(p.TimeoutSeconds),
		Period: secs(p.PeriodSeconds), SuccessThreshold: int(p.SuccessThreshold), FailureThreshold: int(p.FailureThreshold)}
	if out.Timeout == 0 {
		out.Timeout = time.Second
	}
	if out.Period == 0 {
		out.Period = 10 * time.Second
	}
	if out.SuccessThreshold == 0 {
		out.SuccessThreshold = 1
	}
	if out.FailureThreshold == 0 {
		out.FailureThreshold = 3
	}
	for name, v := range map[string]int32{"initialDelaySeconds": p.InitialDelaySeconds, "timeoutSeconds": p.TimeoutSeconds,
		"periodSeconds": p.PeriodSeconds, "successThreshold": p.SuccessThreshold, "failureThreshold": p.FailureThreshold} {
		if v < 0 {
			errs = append(errs, field.Invalid(fp.Child(name), v, "must be greater than or equal to 0"))
		}
	}
	if kind != hooks.Readiness && out.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(fp.Child("successThreshold"), p.SuccessThreshold, "must be 1"))
	}
	if p.TerminationGracePeriodSeconds != nil {
		if kind == hooks.Readiness {
			errs = append(errs, field.Forbidden(fp.Child("terminationGracePeriodSeconds"), "may not be set for readiness probes"))
		} else if e := CheckSeconds(*p.TerminationGracePeriodSeconds, true, fp.Child("terminationGracePeriodSeconds")); e != nil {
			errs = append(errs, e...)
		} else {
			g := time.Duration(*p.TerminationGracePeriodSeconds) * time.Second
			out.Grace = &g
		}
	}
	n := 0
	ph := p.ProbeHandler
	if ph.Exec != nil {
		n++
		if len(ph.Exec.Command) == 0 {
			errs = append(errs, field.Required(fp.Child("exec", "command"), ""))
		}
		out.Handler.Exec = ph.Exec.Command
	}
	if ph.HTTPGet != nil {
		n++
		h, e := ResolveHandler(&corev1.LifecycleHandler{HTTPGet: ph.HTTPGet}, c, fp)
		errs = append(errs, e...)
		if h != nil {
			out.Handler.HTTPGet = h.HTTPGet
		}
	}
	if ph.TCPSocket != nil {
		n++
		port, e := resolvePort(ph.TCPSocket.Port, c, fp.Child("tcpSocket", "port"))
		errs = append(errs, e...)
		out.Handler.TCPSocket = &hooks.TCPSocket{Host: ph.TCPSocket.Host, Port: port}
	}
	if g := ph.GRPC; g != nil {
		n++
		if g.Port < 1 || g.Port > 65535 {
			errs = append(errs, field.Invalid(fp.Child("grpc", "port"), g.Port, "must be between 1 and 65535, inclusive"))
		}
		out.Handler.GRPC = &hooks.GRPC{Port: int(g.Port)}
		if g.Service != nil {
			out.Handler.GRPC.Service = *g.Service
		}
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(fp, "must specify a handler type (exec, httpGet, tcpSocket or grpc)"))
	case n > 1:
		errs = append(errs, field.Forbidden(fp, "may not specify more than one handler type"))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func secs(s int32) time.Duration { return time.Duration(s) * time.Second }

// CheckSeconds checks a count of seconds against 0 (or 1 when positive is
// set) and hooks.MaxSeconds.
func CheckSeconds(v int64, positive bool, fp *field.Path) field.ErrorList {
	switch {
	case positive && v < 1:
		return field.ErrorList{field.Invalid(fp, v, "must be greater than 0")}
	case v < 0:
		return field.ErrorList{field.Invalid(fp, v, "must be greater than or equal to 0")}
	case v > hooks.MaxSeconds:
		return field.ErrorList{field.Invalid(fp, v, fmt.Sprintf("must be at most %d (about 292 years)", hooks.MaxSeconds))}
	}
	return nil
}
