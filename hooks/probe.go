package hooks

import (
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Probe kinds.
const (
	Liveness  = "liveness"
	Readiness = "readiness"
	Startup   = "startup"
)

// Probe is a resolved probe with Kubernetes' defaults applied.
type Probe struct {
	Kind             string        `json:"kind"`
	Handler          Handler       `json:"handler"`
	InitialDelay     time.Duration `json:"initialDelay"`
	Timeout          time.Duration `json:"timeout"`
	Period           time.Duration `json:"period"`
	SuccessThreshold int           `json:"successThreshold"`
	FailureThreshold int           `json:"failureThreshold"`
	// Grace is the probe's own terminationGracePeriodSeconds, used when it
	// kills the container (liveness and startup); nil: the pod's.
	Grace *time.Duration `json:"grace,omitempty"`
}

// ResolveProbe checks a probe as the API server does and applies the defaults:
// timeout 1 s, period 10 s, success and failure thresholds 1 and 3. Liveness
// and startup probes must have a success threshold of 1.
func ResolveProbe(p *corev1.Probe, kind string, c *corev1.Container, fp *field.Path) (*Probe, field.ErrorList) {
	var errs field.ErrorList
	out := &Probe{Kind: kind, InitialDelay: secs(p.InitialDelaySeconds), Timeout: secs(p.TimeoutSeconds),
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
	if kind != Readiness && out.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(fp.Child("successThreshold"), p.SuccessThreshold, "must be 1"))
	}
	if p.TerminationGracePeriodSeconds != nil {
		if kind == Readiness {
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
		h, e := Resolve(&corev1.LifecycleHandler{HTTPGet: ph.HTTPGet}, c, fp)
		errs = append(errs, e...)
		if h != nil {
			out.Handler.HTTPGet = h.HTTPGet
		}
	}
	if ph.TCPSocket != nil {
		n++
		port, e := resolvePort(ph.TCPSocket.Port, c, fp.Child("tcpSocket", "port"))
		errs = append(errs, e...)
		out.Handler.TCPSocket = &TCPSocket{Host: ph.TCPSocket.Host, Port: port}
	}
	if g := ph.GRPC; g != nil {
		n++
		if g.Port < 1 || g.Port > 65535 {
			errs = append(errs, field.Invalid(fp.Child("grpc", "port"), g.Port, "must be between 1 and 65535, inclusive"))
		}
		out.Handler.GRPC = &GRPC{Port: int(g.Port)}
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

// MaxSeconds is the longest period, in seconds, that podunit can wait or
// hand to systemd: a time.Duration (and systemd's microseconds) holds about
// 292 years.
const MaxSeconds = int64(math.MaxInt64 / int64(time.Second))

// CheckSeconds checks a count of seconds against 0 (or 1 when positive is
// set) and MaxSeconds.
func CheckSeconds(v int64, positive bool, fp *field.Path) field.ErrorList {
	switch {
	case positive && v < 1:
		return field.ErrorList{field.Invalid(fp, v, "must be greater than 0")}
	case v < 0:
		return field.ErrorList{field.Invalid(fp, v, "must be greater than or equal to 0")}
	case v > MaxSeconds:
		return field.ErrorList{field.Invalid(fp, v, fmt.Sprintf("must be at most %d (about 292 years)", MaxSeconds))}
	}
	return nil
}

// TCPSocket is a tcpSocket probe: success is a connection.
type TCPSocket struct {
	Host string `json:"host,omitempty"`
	Port int    `json:"port"`
}

// Result tracks one probe's state as the kubelet does: it flips only after
// SuccessThreshold consecutive successes or FailureThreshold consecutive
// failures. Readiness starts failed; liveness and startup start succeeded
// (startup gates the others until its first success).
type Result struct {
	probe     *Probe
	ok        bool
	successes int
	failures  int
}

// NewResult starts a probe's state.
func NewResult(p *Probe) *Result { return &Result{probe: p, ok: p.Kind != Readiness} }

// OK is the probe's current verdict.
func (r *Result) OK() bool { return r.ok }

// Observe records one probe outcome; it returns true when the verdict changed.
func (r *Result) Observe(success bool) bool {
	if success {
		r.successes++
		r.failures = 0
		if !r.ok && r.successes >= r.probe.SuccessThreshold {
			r.ok = true
			return true
		}
		return false
	}
	r.failures++
	r.successes = 0
	if r.ok && r.failures >= r.probe.FailureThreshold {
		r.ok = false
		return true
	}
	return false
}

// Reset puts the probe back to its initial state (a new container).
func (r *Result) Reset() { *r = *NewResult(r.probe) }

// Failures is the count of consecutive failures.
func (r *Result) Failures() int { return r.failures }
