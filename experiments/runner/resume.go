package runner

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/google/renameio/v2"

	"github.com/grao-lab/grao/core/trainer"
	"github.com/grao-lab/grao/experiments/evaluate"
)

// resumeFile holds a running trial's training state after its last
// checkpoint (train.checkpoint_every): the trainer's state plus where the
// trial's own files stood. It is replaced atomically at every checkpoint
// and removed when the trial finishes.
const resumeFile = "resume.safetensors"

// Metadata keys of resumeFile beside the trainer's own.
const (
	resumeStep    = "step"
	resumeMetrics = "metrics_bytes"
	resumeCurve   = "eval_curve"
)

// resumePoint is where a trial continues: after step Step, with the
// first MetricsBytes bytes of its metrics.jsonl and the evaluations so far.
type resumePoint struct {
	Step         int
	MetricsBytes int64
	Curve        []evaluate.Point
}

// saveResume writes the checkpoint after step rp.Step. metrics.jsonl must
// already hold rp.MetricsBytes bytes on disk (synced), so that a crash
// right after the rename leaves a checkpoint whose log is complete.
func saveResume(tdir string, t *trainer.Trainer, rp resumePoint) error {
	curve, err := json.Marshal(rp.Curve)
	if err != nil {
		return err
	}
	meta := map[string]string{
		resumeStep:    strconv.Itoa(rp.Step),
		resumeMetrics: strconv.FormatInt(rp.MetricsBytes, 10),
		resumeCurve:   string(curve),
	}
	pf, err := renameio.NewPendingFile(filepath.Join(tdir, resumeFile))
	if err != nil {
		return err
	}
	defer pf.Cleanup()
	if err := t.SaveState(pf, meta); err != nil {
		return err
	}
	return pf.CloseAtomicallyReplace()
}

// checkpoint saves the trial's state after rp.Step: the log up to here is
// flushed and synced first, and its length recorded.
func (e *env) checkpoint(tdir string, t *trainer.Trainer, ml *metricsLog, mf *os.File, rp resumePoint) error {
	if err := ml.flush(); err != nil {
		return err
	}
	if err := mf.Sync(); err != nil {
		return err
	}
	n, err := mf.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	rp.MetricsBytes = n
	if err := saveResume(tdir, t, rp); err != nil {
		return err
	}
	if afterCheckpoint != nil {
		afterCheckpoint(filepath.Base(tdir), rp.Step)
	}
	return nil
}

// afterCheckpoint, when set (by tests), is called after each checkpoint.
var afterCheckpoint func(id string, step int)

// loadResume restores the trial's last checkpoint into t (a trainer built
// as the trial's always is) and returns where to continue. It returns nil
// and a reason when there is nothing usable: no checkpoint, a damaged one,
// or a metrics.jsonl shorter than the checkpoint says; the trial then
// starts over, which gives the same results, only later.
func loadResume(tdir string, t *trainer.Trainer, steps int) (*resumePoint, string) {
	f, err := os.Open(filepath.Join(tdir, resumeFile))
	if os.IsNotExist(err) {
		return nil, ""
	}
	if err != nil {
		return nil, err.Error()
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err.Error()
	}
	// Read the caller's metadata first: a checkpoint that cannot be used
	// must not have changed the trainer.
	rp, err := peekResume(f, st.Size())
	if err != nil {
		return nil, err.Error()
	}
	if rp.Step < 1 || rp.Step >= steps {
		return nil, fmt.Sprintf("checkpoint after step %d of a %d-step trial", rp.Step, steps)
	}
	ms, err := os.Stat(filepath.Join(tdir, "metrics.jsonl"))
	if err != nil {
		return nil, err.Error()
	}
	if ms.Size() < rp.MetricsBytes {
		return nil, fmt.Sprintf("metrics.jsonl has %d bytes, the checkpoint needs %d", ms.Size(), rp.MetricsBytes)
	}
	if _, err := t.LoadState(f, st.Size()); err != nil {
		return nil, err.Error()
	}
	return rp, ""
}

// peekResume reads a checkpoint's metadata without loading its tensors.
func peekResume(r io.ReaderAt, size int64) (*resumePoint, error) {
	meta, err := trainer.StateMetadata(r, size)
	if err != nil {
		return nil, err
	}
	rp := &resumePoint{}
	if rp.Step, err = strconv.Atoi(meta[resumeStep]); err != nil {
		return nil, fmt.Errorf("%s: %w", resumeStep, err)
	}
	if rp.MetricsBytes, err = strconv.ParseInt(meta[resumeMetrics], 10, 64); err != nil || rp.MetricsBytes < 0 {
		return nil, fmt.Errorf("%s: bad value %q", resumeMetrics, meta[resumeMetrics])
	}
	if err := json.Unmarshal([]byte(meta[resumeCurve]), &rp.Curve); err != nil {
		return nil, fmt.Errorf("%s: %w", resumeCurve, err)
	}
	return rp, nil
}

// openMetrics opens a trial's metrics.jsonl: a new file, or, resuming at
// rp, the existing one cut back to the checkpoint's length. The cut drops
// what the interrupted run logged after its last checkpoint, a torn last
// line included; the resumed run logs those steps again, identically.
func openMetrics(tdir string, rp *resumePoint) (*os.File, error) {
	path := filepath.Join(tdir, "metrics.jsonl")
	if rp == nil {
		return os.Create(path)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(rp.MetricsBytes); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(rp.MetricsBytes, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
