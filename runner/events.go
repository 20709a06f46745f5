package runner

import "github.com/podunit/podunit/podstate"

// Event is one line of a pod's event list (see podstate).
type Event = podstate.Event

// AppendEvent adds an event to a pod's list.
func AppendEvent(stateDir, pod string, e Event) error { return podstate.AppendEvent(stateDir, pod, e) }

// Events reads a pod's events in the order they happened.
func Events(stateDir, pod string) ([]Event, error) { return podstate.Events(stateDir, pod) }
