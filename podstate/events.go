package podstate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// Event is one line of a pod's event list, as `kubectl describe` shows events.
// An event that happened again and again (a failing probe's Unhealthy) is
// one Event with Count and First once the list was compacted (Aggregate):
// Time is then when it last happened.
type Event struct {
	Time      time.Time `json:"time"`
	Type      string    `json:"type"`   // Normal or Warning
	Reason    string    `json:"reason"` // Created, Started, Killing, FailedPostStartHook, ...
	Container string    `json:"container,omitempty"`
	Message   string    `json:"message"`
	Count     int32     `json:"count,omitempty"` // how often (0: once)
	First     time.Time `json:"first,omitzero"`  // when it first happened, when Count > 1
}

// Times is how often e happened (at least once).
func (e Event) Times() int32 { return max(e.Count, 1) }

// Aggregate merges events that are alike (the same container, type, reason
// and message), as the kubelet's event recorder counts them in one Event:
// each with how often it happened, first and last, in the order they last
// happened.
func Aggregate(evs []Event) []Event {
	type key struct{ container, typ, reason, message string }
	at := map[key]int{}
	var out []Event
	for _, e := range evs {
		k := key{e.Container, e.Type, e.Reason, e.Message}
		i, ok := at[k]
		if !ok {
			if e.First.IsZero() {
				e.First = e.Time
			}
			e.Count = e.Times()
			at[k] = len(out)
			out = append(out, e)
			continue
		}
		a := &out[i]
		a.Count += e.Times()
		if !e.First.IsZero() && e.First.Before(a.First) {
			a.First = e.First
		}
		if e.Time.After(a.Time) {
			a.Time = e.Time
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	for i := range out {
		if out[i].Count == 1 {
			out[i].Count, out[i].First = 0, time.Time{}
		}
	}
	return out
}

// compactAt is the size of a pod's event list past which AppendEvent
// compacts it (Aggregate): a probe that fails every second for days adds
// one Event, not a line a second. A list still larger than half of it then
// loses its oldest events (the API server forgets events after an hour).
const compactAt = 256 << 10

func eventsFile(stateDir, pod string) string {
	return filepath.Join(stateDir, "pods", pod, "events.jsonl")
}

// AppendEvent adds an event to a pod's list. Helpers of several units append
// at once: each holds the list's lock for its one write (and for compacting
// a list grown past compactAt).
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
	f, err := openLocked(path)
	if err != nil {
		return err
	}
	defer f.Close() // and unlocked
	if _, err := f.Write(append(line, '\n')); err != nil {
		return err
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > compactAt {
		return compactEvents(path)
	}
	return nil
}

// openLocked opens the event list at path for appending, locked: the file
// the path names once the lock is held (a compaction may have replaced the
// one first opened).
func openLocked(path string) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, err
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return f, nil
		}
		f.Close()
		if err1 != nil {
			return nil, err1
		}
		if err2 != nil && !os.IsNotExist(err2) {
			return nil, err2
		}
	}
}

// compactEvents replaces the event list at path (its lock held) with its
// Aggregate, less its oldest events while that is still over half of
// compactAt.
func compactEvents(path string) error {
	evs, err := readEvents(path)
	if err != nil {
		return err
	}
	evs = Aggregate(evs)
	var lines [][]byte
	size := 0
	for _, e := range evs {
		l, err := json.Marshal(e)
		if err != nil {
			return err
		}
		lines = append(lines, append(l, '\n'))
		size += len(l) + 1
	}
	for len(lines) > 1 && size > compactAt/2 {
		size -= len(lines[0])
		lines = lines[1:]
	}
	return WriteAtomic(path, bytes.Join(lines, nil))
}

// Events reads a pod's events in the order they happened (those compacted
// in the order they last happened).
func Events(stateDir, pod string) ([]Event, error) {
	evs, err := readEvents(eventsFile(stateDir, pod))
	if os.IsNotExist(err) {
		return nil, nil
	}
	return evs, err
}

func readEvents(path string) ([]Event, error) {
	f, err := os.Open(path)
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
