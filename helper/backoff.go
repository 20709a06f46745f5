package helper

import (
	"time"

	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units/unitdef"
)

// Back-off of a container that keeps exiting, as the kubelet's (its
// flowcontrol.Backoff keyed by container): the first restart is at once; each
// later one waits the current delay counted from the exit, 10 s doubling to 5
// min; a container that ran more than 10 min since the delay last grew starts
// over at once.
const (
	InitialBackOff = unitdef.InitialBackOff
	MaxBackOff     = unitdef.MaxBackOff
	backOffExpiry  = 2 * MaxBackOff
)

// NextStart decides when a container whose last run ended at r.Finished may
// start again, and updates r's back-off the way the kubelet's does when it
// restarts it then. wait is zero when it may start now.
func NextStart(r *podstate.Run, now time.Time) (wait time.Duration) {
	if r.Finished.IsZero() {
		return 0 // never ran: a first start
	}
	expired := r.BackOffUpdated.IsZero() || r.Finished.Sub(r.BackOffUpdated) > backOffExpiry
	if !expired {
		if since := now.Sub(r.Finished); since < r.BackOff {
			wait = r.BackOff - since
		}
	}
	// The restart happens after the wait: the delay for the next exit grows.
	switch {
	case expired:
		r.BackOff = InitialBackOff
	default:
		r.BackOff *= 2
		if r.BackOff > MaxBackOff {
			r.BackOff = MaxBackOff
		}
	}
	r.BackOffUpdated = r.Finished
	return wait
}
