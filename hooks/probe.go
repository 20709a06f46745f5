package hooks

import (
	"math"
	"time"
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

// MaxSeconds is the longest period, in seconds, that podunit can wait or
// hand to systemd: a time.Duration (and systemd's microseconds) holds about
// 292 years.
const MaxSeconds = int64(math.MaxInt64 / int64(time.Second))

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
