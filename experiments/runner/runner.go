package runner

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/grao-lab/grao/experiments/sweep"
)

// Options control a run.
type Options struct {
	// SweepPath is the sweep file (copied to DIR/sweep.toml; relative
	// dataset and plugin paths are resolved against its directory).
	SweepPath string
	Out       string
	// Workers is the number of trials run at once (0: from the cores).
	Workers int
	Resume  bool
	// Force lets Resume continue a run made by another grao build or from
	// an edited sweep file (recorded in provenance.json).
	Force bool
	// Only restricts the run to these trial IDs (a cluster array task
	// runs one); results.csv still collects every finished trial.
	Only []string
	// Base, when set, builds only the base model (and its calibration)
	// with this base key and runs no trial: a cluster's base job.
	Base     string
	Log      io.Writer
	Terminal bool
	Executor Executor // nil: Local{Workers}
	// TensorBoard also writes each trial's training and evaluation metrics
	// as TensorBoard event files under Out/tensorboard/<trial>/.
	TensorBoard bool
	// passk is the sweep's [passk], resolved by Run and RunSweep; finished
	// trials kept by Resume get their pass@k counts when they lack them.
	passk sweep.PassKSpec
	// locked: RunSweep holds the run directory's lock for the Runs it
	// makes.
	locked bool
}

// Summary counts what happened.
type Summary struct {
	Total, Ran, Skipped, Failed, Interrupted int
	Results                                  string // path of results.csv
}

// ErrExists means the output directory holds another run and --resume was
// not given.
var ErrExists = errors.New("output directory already holds a run (use --resume to continue it, or another --out)")

// DefaultWorkers is one trial per two cores (each trial's GEMMs use the
// cores too), at least one.
func DefaultWorkers() int { return max(1, runtime.NumCPU()/2) }

// Run executes the trials of sw into opts.Out and collects results.csv.
// A sweep with [select] goes through RunSweep, which runs its selection
// phase first.
func Run(ctx context.Context, sw *sweep.Sweep, trials []sweep.Trial, opts Options) (Summary, error) {
	opts.passk = sw.PassKSettings()
	sum := Summary{Total: len(trials), Results: filepath.Join(opts.Out, "results.csv")}
	unlock, err := lockRun(opts)
	if err != nil {
		return sum, err
	}
	defer unlock()
	if err := start(sw, opts, trials); err != nil {
		return sum, err
	}
	if opts.Base != "" {
		return sum, buildBase(ctx, trials, opts)
	}
	xerr := execute(ctx, trials, opts, &sum, "")
	if err := Collect(opts.Out, trials); err != nil {
		return sum, err
	}
	return sum, xerr
}

// Prepare makes opts.Out a run directory for trials without running any:
// it refuses to overwrite another run (unless opts.Resume), records the
// provenance and writes sweep.toml and plan.json. A cluster submission
// calls it before submitting the jobs that run the trials.
func Prepare(sw *sweep.Sweep, trials []sweep.Trial, opts Options) error {
	return start(sw, opts, trials)
}

// Finished reports whether a trial of the run directory is done and its
// eval.json reads back.
func Finished(dir, id string) bool { return finished(dir, id) }

// start refuses to overwrite another run, then writes sweep.toml and
// plan.json.
func start(sw *sweep.Sweep, opts Options, trials []sweep.Trial) error {
	if _, err := os.Stat(filepath.Join(opts.Out, "plan.json")); err == nil && !opts.Resume && len(opts.Only) == 0 && opts.Base == "" {
		return fmt.Errorf("%s: %w", opts.Out, ErrExists)
	}
	src, err := os.ReadFile(opts.SweepPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return err
	}
	if err := checkProvenance(opts.Out, src, sw.Sets(), opts.Resume, opts.Force); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(opts.Out, "sweep.toml"), src); err != nil {
		return err
	}
	return sweep.WritePlan(filepath.Join(opts.Out, "plan.json"), sw, trials)
}

// buildBase pre-trains (or loads) and calibrates the base model with key
// opts.Base, as the first trial on it would.
func buildBase(ctx context.Context, trials []sweep.Trial, opts Options) error {
	for _, tr := range trials {
		if tr.BaseKey() != opts.Base {
			continue
		}
		logw := opts.Log
		if logw == nil {
			logw = io.Discard
		}
		e := &env{dir: opts.Out, logf: func(format string, args ...any) { fmt.Fprintf(logw, format+"\n", args...) }}
		e.bases = newBaseCache(opts.Out, e.logf)
		_, _, _, err := e.taskAndBase(ctx, tr)
		return err
	}
	return fmt.Errorf("no trial of this sweep has base key %q", opts.Base)
}

// execute runs the trials (those opts.Only names, when set; finished ones
// are skipped with opts.Resume) and adds to sum. phase prefixes the
// progress lines ("select: ").
func execute(ctx context.Context, trials []sweep.Trial, opts Options, sum *Summary, phase string) error {
	todo := trials
	if len(opts.Only) > 0 {
		want := map[string]bool{}
		for _, id := range opts.Only {
			want[id] = true
		}
		todo = nil
		for _, tr := range trials {
			if want[tr.ID] {
				todo = append(todo, tr)
			}
		}
	}
	e := &env{dir: opts.Out, revision: gitRevision(filepath.Dir(opts.SweepPath)), passk: opts.passk, tensorboard: opts.TensorBoard}
	var run, passk []sweep.Trial
	skipped := 0
	for _, tr := range todo {
		if opts.Resume && finished(opts.Out, tr.ID) {
			skipped++
			if e.needsPassK(tr) {
				passk = append(passk, tr)
			}
			continue
		}
		run = append(run, tr)
	}
	sum.Skipped += skipped
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	pr := newProgress(logw, opts.Terminal, len(todo), skipped)
	pr.phase = phase
	logf := pr.log
	if skipped > 0 {
		logf("resume: %d finished trials kept, %d to run", skipped, len(run))
	}
	e.logf = logf
	e.stepf = pr.step
	e.bases = newBaseCache(opts.Out, logf)
	ex := opts.Executor
	if ex == nil {
		w := opts.Workers
		if w <= 0 {
			w = DefaultWorkers()
		}
		ex = Local{Workers: w}
	}
	if l, ok := ex.(Local); ok {
		e.workers = l.Workers
	}
	if len(passk) > 0 {
		logf("pass@k: %d finished trials get their %d samples per prompt", len(passk), e.passk.K)
		var mu sync.Mutex
		var first error
		err := ex.Execute(ctx, passk, func(ctx context.Context, tr sweep.Trial) {
			if err := e.passKOnly(ctx, tr); err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("trial %s: %w", tr.ID, err)
				}
				mu.Unlock()
			}
		})
		if err == nil {
			err = first
		}
		if err != nil {
			return err
		}
	}
	var mu sync.Mutex
	xerr := ex.Execute(ctx, run, func(ctx context.Context, tr sweep.Trial) {
		pr.begin(tr.ID)
		err := e.runTrial(ctx, tr)
		mu.Lock()
		sum.Ran++
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			sum.Interrupted++
		default:
			sum.Failed++
		}
		mu.Unlock()
		pr.end(tr.ID, err)
	})
	pr.finish()
	return xerr
}

// finished reports whether a trial's manifest says done and its eval.json
// reads back: a damaged eval.json (a disk error, a hand edit) makes the
// trial redo instead of failing the whole sweep's collection.
func finished(dir, id string) bool {
	var m Manifest
	if err := readJSON(filepath.Join(dir, "runs", id, "manifest.json"), &m); err != nil || m.Status != StatusDone {
		return false
	}
	var ev EvalFile
	return readJSON(filepath.Join(dir, "runs", id, "eval.json"), &ev) == nil && ev.Trial == id
}

// Collect writes DIR/results.csv from every finished trial's eval.json:
// columns trial, task, model, algorithm, seed, metric, value, then one
// column per grid key that varies in the sweep.
func Collect(dir string, trials []sweep.Trial) error {
	// Processes sharing the directory (array tasks) each collect when they
	// finish: under the lock, the last to finish reads every finished
	// trial, so its table is complete.
	l, err := lockWait(context.Background(), filepath.Join(dir, ".results.lock"), nil)
	if err != nil {
		return err
	}
	defer l.Unlock()
	keySet := map[string]bool{}
	for _, tr := range trials {
		for k := range tr.Varying {
			keySet[k] = true
		}
	}
	keys := make([]string, 0, len(keySet))
	for k := range keySet {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	controls := slices.ContainsFunc(trials, func(tr sweep.Trial) bool { return tr.Control != "" })
	header := append([]string{"trial", "task", "model", "algorithm", "seed", "metric", "value"}, keys...)
	if controls {
		header = append(header, "control", "control_of")
	}
	w.Write(header)
	for _, tr := range trials {
		if !finished(dir, tr.ID) {
			continue
		}
		var ev EvalFile
		if err := readJSON(filepath.Join(dir, "runs", tr.ID, "eval.json"), &ev); err != nil {
			return fmt.Errorf("trial %s: eval.json: %w", tr.ID, err)
		}
		names := make([]string, 0, len(ev.Metrics))
		for n := range ev.Metrics {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			row := []string{tr.ID, ev.Task, ev.Model, ev.Algorithm, strconv.FormatUint(ev.Seed, 10), n,
				strconv.FormatFloat(ev.Metrics[n], 'g', -1, 64)}
			for _, k := range keys {
				row = append(row, tr.Varying[k])
			}
			if controls {
				row = append(row, tr.Control, tr.ControlOf)
			}
			w.Write(row)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "results.csv"), buf.Bytes())
}

// gitRevision is the commit of the repository holding dir, if any.
func gitRevision(dir string) string {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
