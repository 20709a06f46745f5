package objstore

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

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
