package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"

	"github.com/grao-lab/grao/experiments/sweep"
)

// Trial states reported by Status, beyond the manifest's own.
const (
	StatusPending = "pending" // not started
	// StatusLost is a trial whose manifest says running while no process
	// holds its lock: the process died without recording it (SIGKILL, a
	// node failure, a cluster's time limit). --resume runs it again.
	StatusLost = "lost"
)

// TrialStatus is one trial's state in a run directory.
type TrialStatus struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Seed   uint64 `json:"seed"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// ResumeStep is the step of the trial's last mid-trial checkpoint,
	// where --resume would continue it (0: from its start).
	ResumeStep int `json:"resume_step,omitempty"`
}

// PlannedTrials reads a run directory's plan.json and the config.toml of
// every trial that has started: the trials, in plan order (those not
// started carry only their plan entry's fields).
func PlannedTrials(dir string) ([]sweep.Trial, error) {
	var plan sweep.Plan
	if err := readJSON(filepath.Join(dir, "plan.json"), &plan); err != nil {
		return nil, fmt.Errorf("%s: not a run directory (plan.json: %w)", dir, err)
	}
	trials := make([]sweep.Trial, 0, len(plan.List))
	for _, pt := range plan.List {
		path := filepath.Join(dir, "runs", pt.ID, "config.toml")
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			trials = append(trials, sweep.Trial{ID: pt.ID, Label: pt.Label, Algorithm: pt.Algorithm, Seed: pt.Seed, Varying: pt.Varying})
			continue
		}
		if err != nil {
			return nil, err
		}
		tr, err := sweep.DecodeTrial(b, path)
		if err != nil {
			return nil, err
		}
		trials = append(trials, tr)
	}
	return trials, nil
}

// Status reports every planned trial's state from its files and its lock.
func Status(dir string) ([]TrialStatus, error) {
	trials, err := PlannedTrials(dir)
	if err != nil {
		return nil, err
	}
	out := make([]TrialStatus, len(trials))
	for i, tr := range trials {
		ts := TrialStatus{ID: tr.ID, Label: tr.Label, Seed: tr.Seed, Status: StatusPending}
		tdir := filepath.Join(dir, "runs", tr.ID)
		var m Manifest
		switch err := readJSON(filepath.Join(tdir, "manifest.json"), &m); {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			ts.Status, ts.Error = StatusFailed, "manifest.json: "+err.Error()
		default:
			ts.Status, ts.Error = m.Status, m.Error
			if m.Status == StatusDone && !finished(dir, tr.ID) {
				ts.Status, ts.Error = StatusFailed, "eval.json missing or damaged (--resume redoes the trial)"
			}
			if m.Status == StatusRunning && !lockHeld(filepath.Join(tdir, ".lock")) {
				ts.Status = StatusLost
			}
		}
		if ts.Status != StatusDone {
			if rp, err := checkpointStep(tdir); err == nil {
				ts.ResumeStep = rp
			}
		}
		out[i] = ts
	}
	return out, nil
}

// lockHeld reports whether some process holds the lock at path.
func lockHeld(path string) bool {
	if _, err := os.Stat(path); err != nil {
		return false
	}
	l := flock.New(path)
	ok, err := l.TryRLock()
	if err != nil {
		return false
	}
	if ok {
		l.Unlock()
	}
	return !ok
}

// checkpointStep is the step of a trial's mid-trial checkpoint.
func checkpointStep(tdir string) (int, error) {
	f, err := os.Open(filepath.Join(tdir, resumeFile))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	rp, err := peekResume(f, st.Size())
	if err != nil {
		return 0, err
	}
	return rp.Step, nil
}
