package objstore

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/podunit/podunit/jobs"
	"github.com/podunit/podunit/podstate"
)

// JobsDir holds the Jobs' state, and their controllers' output.
func JobsDir(dir string) string { return filepath.Join(dir, "jobs") }

// jobStateFile is where a Job's controller keeps its state (jobs.State),
// beside the stored Job: the runtime directory, 0600.
func jobStateFile(dir, ns, name string) string {
	return filepath.Join(JobsDir(dir), ns, name+".json")
}

// LoadJobState reads a Job's state; a Job that has none yet has an empty
// one.
func LoadJobState(dir, ns, name string) (*jobs.State, error) {
	var st jobs.State
	data, err := os.ReadFile(jobStateFile(dir, ns, name))
	if errors.Is(err, fs.ErrNotExist) {
		return &st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// SaveJobState stores a Job's state.
func SaveJobState(dir, ns, name string, st *jobs.State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return podstate.WriteAtomic(jobStateFile(dir, ns, name), data)
}

// JobPodsDir is where a Job's controller writes the manifest of a pod it
// makes, for the moment `podunit up` reads it.
func JobPodsDir(dir, ns, name string) string {
	return filepath.Join(JobsDir(dir), ns, name+".pods")
}

// RemoveJobState forgets a Job's state.
func RemoveJobState(dir, ns, name string) error {
	if err := os.Remove(jobStateFile(dir, ns, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.RemoveAll(JobPodsDir(dir, ns, name))
}

// CronJobState is what a CronJob's runs keep: when it last made a Job, and
// its events.
type CronJobState struct {
	LastScheduleTime time.Time    `json:"lastScheduleTime,omitzero"`
	Events           []jobs.Event `json:"events,omitempty"`
}

func cronJobStateFile(dir, ns, name string) string {
	return filepath.Join(JobsDir(dir), ns, name+".cronjob.json")
}

// LoadCronJobState reads a CronJob's state (empty when it has none).
func LoadCronJobState(dir, ns, name string) (*CronJobState, error) {
	var st CronJobState
	data, err := os.ReadFile(cronJobStateFile(dir, ns, name))
	if errors.Is(err, fs.ErrNotExist) {
		return &st, nil
	}
	if err != nil {
		return nil, err
	}
	return &st, json.Unmarshal(data, &st)
}

// SaveCronJobState stores a CronJob's state, its last 50 events.
func SaveCronJobState(dir, ns, name string, st *CronJobState) error {
	if n := len(st.Events); n > 50 {
		st.Events = st.Events[n-50:]
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return podstate.WriteAtomic(cronJobStateFile(dir, ns, name), data)
}

// RemoveCronJobState forgets a CronJob's state.
func RemoveCronJobState(dir, ns, name string) error {
	if err := os.Remove(cronJobStateFile(dir, ns, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
