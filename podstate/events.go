package podstate

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// Event is one line of a pod's event list, as `kubectl describe` shows events.
type Event struct {
	Time      time.Time `json:"time"`
	Type      string    `json:"type"`   // Normal or Warning
	Reason    string    `json:"reason"` // Created, Started, Killing, FailedPostStartHook, ...
	Container string    `json:"container,omitempty"`
	Message   string    `json:"message"`
}

func eventsFile(stateDir, pod string) string {
	return filepath.Join(stateDir, "pods", pod, "events.jsonl")
}

// AppendEvent adds an event to a pod's list. Helpers of several units append
// at once: each event is one write of one line to a file opened for appending.
func AppendEvent(stateDir, pod string, e Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Type == "" {
		e.Type = "Normal"
	}
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	path := eventsFile(stateDir, pod)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(line, '\n'))
	return err
}

// Events reads a pod's events in the order they happened.
func Events(stateDir, pod string) ([]Event, error) {
	f, err := os.Open(eventsFile(stateDir, pod))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var e Event
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}
