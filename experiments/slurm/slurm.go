// Package slurm runs a sweep on a Slurm cluster: it prepares the run
// directory as a local run would, then submits, per base model, one job
// that builds the base model and one job array of the trials on it
// (depending on the base job), and one job that collects results.csv, the
// report and the figures once every array has ended.
//
// The jobs run a copy of the bench binary placed in the run directory
// (DIR/bin/bench), so that a rebuilt binary cannot change a running sweep,
// and every submitted script is kept in DIR/slurm/ to be read or
// resubmitted by hand. Processes meet only through the run directory,
// whose locks (see experiments/runner) make one process build each base
// model and one run each trial; a trial's results are byte-identical to a
// local run's. Scheduler settings never enter trial IDs.
package slurm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/renameio/v2"

	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
)

// Options are the scheduler's settings for a submission.
type Options struct {
	Partition string // --partition
	Account   string // --account
	Time      string // --time of each job, e.g. "2:00:00"
	Mem       string // --mem of each job, e.g. "4G"
	Gres      string // --gres, e.g. "gpu:1"
	// CPUs per job (--cpus-per-task); grao uses them as GOMAXPROCS.
	CPUs int
	// ArrayLimit throttles each trial array to this many tasks at once
	// (--array=…%N); 0: no limit.
	ArrayLimit int
	// Extra lines added to every script, each "#SBATCH …" or a shell
	// command (module loads).
	Extra []string
	// Binary is the bench binary the jobs run (default: this executable),
	// copied into DIR/bin/bench.
	Binary string
	// Wait blocks until every job has left the queue; cancelling ctx then
	// cancels the submitted jobs.
	Wait bool
	Log  io.Writer
}

// Submission is what one Submit sent to the scheduler (DIR/slurm/jobs.json
// lists every submission of the directory).
type Submission struct {
	Time    time.Time         `json:"time"`
	Bases   map[string]string `json:"base_jobs,omitempty"`    // base key → job ID
	Arrays  map[string]string `json:"trial_arrays,omitempty"` // base key → array job ID
	Trials  int               `json:"trials"`
	Collect string            `json:"collect_job"`
}

// JobIDs lists the submission's job IDs.
func (s Submission) JobIDs() []string {
	ids := slices.Concat(slices.Collect(maps.Values(s.Bases)), slices.Collect(maps.Values(s.Arrays)))
	if s.Collect != "" {
		ids = append(ids, s.Collect)
	}
	slices.Sort(ids)
	return ids
}

const jobsFile = "jobs.json"

// Submit prepares run.Out for trials (as runner.Run would, honouring
// run.Resume and run.Force) and submits the jobs of every trial that is not
// finished. Sweeps with [select] are not supported yet.
func Submit(ctx context.Context, sw *sweep.Sweep, trials []sweep.Trial, run runner.Options, so Options) (Submission, error) {
	sub := Submission{Time: time.Now().UTC(), Bases: map[string]string{}, Arrays: map[string]string{}}
	if sw.HasSelection() {
		return sub, errors.New("slurm: sweeps with [select] are not supported by the Slurm executor yet; run the selection locally")
	}
	logw := so.Log
	if logw == nil {
		logw = io.Discard
	}
	out, err := filepath.Abs(run.Out)
	if err != nil {
		return sub, err
	}
	run.Out = out
	if run.SweepPath, err = filepath.Abs(run.SweepPath); err != nil {
		return sub, err
	}
	if err := runner.Prepare(sw, trials, run); err != nil {
		return sub, err
	}
	bin, err := installBinary(so.Binary, out)
	if err != nil {
		return sub, err
	}
	sdir := filepath.Join(out, "slurm")
	if err := os.MkdirAll(filepath.Join(sdir, "logs"), 0o755); err != nil {
		return sub, err
	}
	// Trials still to run, grouped by base model in plan order.
	var keys []string
	groups := map[string][]string{}
	for _, tr := range trials {
		if runner.Finished(out, tr.ID) {
			continue
		}
		k := tr.BaseKey()
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], tr.ID)
		sub.Trials++
	}
	if sub.Trials == 0 {
		fmt.Fprintf(logw, "slurm: every trial of %s is finished; nothing to submit\n", out)
		return sub, nil
	}
	benchRun := []string{bin, "run", run.SweepPath, "--out", out}
	for _, s := range sw.Sets() {
		benchRun = append(benchRun, "--set", s)
	}
	var arrays []string
	for _, k := range keys {
		ids := groups[k]
		var after []string
		if _, err := os.Stat(filepath.Join(out, "base", k, "model.safetensors")); err != nil {
			script := so.script("grao-base-"+k[:8], filepath.Join(sdir, "logs", "base-"+k+"-%j.out"), nil, "",
				"exec "+shellJoin(append(slices.Clone(benchRun), "--base", k)))
			id, err := submitScript(filepath.Join(sdir, "base-"+k+".sh"), script)
			if err != nil {
				return sub, err
			}
			sub.Bases[k] = id
			after = []string{"afterok:" + id}
		}
		idsFile := filepath.Join(sdir, "trials-"+k+".ids")
		if err := renameio.WriteFile(idsFile, []byte(strings.Join(ids, "\n")+"\n"), 0o644); err != nil {
			return sub, err
		}
		array := fmt.Sprintf("0-%d", len(ids)-1)
		if so.ArrayLimit > 0 {
			array += fmt.Sprintf("%%%d", so.ArrayLimit)
		}
		body := fmt.Sprintf("id=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" %s)\nexec %s --trial \"$id\"",
			shellQuote(idsFile), shellJoin(benchRun))
		script := so.script("grao-trials-"+k[:8], filepath.Join(sdir, "logs", "trials-"+k+"-%A_%a.out"), after, array, body)
		id, err := submitScript(filepath.Join(sdir, "trials-"+k+".sh"), script)
		if err != nil {
			return sub, err
		}
		sub.Arrays[k] = id
		arrays = append(arrays, id)
	}
	collect := fmt.Sprintf("%s collect %s\n%s report %s > %s || true\n%s plot %s > /dev/null || true",
		shellQuote(bin), shellQuote(out), shellQuote(bin), shellQuote(out), shellQuote(filepath.Join(out, "report.md")), shellQuote(bin), shellQuote(out))
	// "afterany:1:2": after every array has ended, however.
	cs := so.script("grao-collect", filepath.Join(sdir, "logs", "collect-%j.out"), []string{"afterany:" + strings.Join(arrays, ":")}, "", collect)
	if sub.Collect, err = submitScript(filepath.Join(sdir, "collect.sh"), cs); err != nil {
		return sub, err
	}
	if err := record(sdir, sub); err != nil {
		return sub, err
	}
	fmt.Fprintf(logw, "slurm: %d trials on %d base models submitted: %d base jobs, arrays %v, collect job %s (scripts in %s)\n",
		sub.Trials, len(keys), len(sub.Bases), slices.Sorted(maps.Values(sub.Arrays)), sub.Collect, sdir)
	if !so.Wait {
		return sub, nil
	}
	return sub, wait(ctx, sub.JobIDs(), logw)
}

// script writes an sbatch script: the job's settings, its dependencies,
// then body.
func (so Options) script(name, output string, after []string, array, body string) string {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "#SBATCH --%s=%s\n", k, v)
		}
	}
	line("job-name", name)
	line("output", output)
	line("partition", so.Partition)
	line("account", so.Account)
	line("time", so.Time)
	line("mem", so.Mem)
	line("gres", so.Gres)
	cpus := so.CPUs
	if cpus <= 0 {
		cpus = 2
	}
	line("cpus-per-task", strconv.Itoa(cpus))
	line("array", array)
	if len(after) > 0 {
		line("dependency", strings.Join(after, ","))
		line("kill-on-invalid-dep", "yes")
	}
	for _, x := range so.Extra {
		b.WriteString(x + "\n")
	}
	b.WriteString("set -euo pipefail\n")
	fmt.Fprintf(&b, "export GOMAXPROCS=%d\n", cpus)
	b.WriteString(body + "\n")
	return b.String()
}

// submitScript writes the script to path and submits it; it returns the
// job ID.
func submitScript(path, script string) (string, error) {
	if err := renameio.WriteFile(path, []byte(script), 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("sbatch", "--parsable", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("slurm: sbatch %s: %v: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";") // "id;cluster" on federations
	if _, err := strconv.Atoi(id); err != nil {
		return "", fmt.Errorf("slurm: sbatch %s printed %q, not a job ID", path, out)
	}
	return id, nil
}

// installBinary copies the bench binary into DIR/bin/bench unless an
// identical copy is there (a running job may be executing it: a
// different binary is written beside it and renamed over it).
func installBinary(src, out string) (string, error) {
	if src == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", err
		}
		src = exe
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("slurm: the bench binary: %w", err)
	}
	dst := filepath.Join(out, "bin", "bench")
	if old, err := os.ReadFile(dst); err == nil && sha256.Sum256(old) == sha256.Sum256(data) {
		return dst, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	return dst, renameio.WriteFile(dst, data, 0o755)
}

// record appends sub to DIR/slurm/jobs.json.
func record(sdir string, sub Submission) error {
	subs, err := Submissions(filepath.Dir(sdir))
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(append(subs, sub), "", "  ")
	if err != nil {
		return err
	}
	return renameio.WriteFile(filepath.Join(sdir, jobsFile), append(b, '\n'), 0o644)
}

// Submissions lists a run directory's submissions (none when it was never
// submitted to Slurm).
func Submissions(dir string) ([]Submission, error) {
	b, err := os.ReadFile(filepath.Join(dir, "slurm", jobsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var subs []Submission
	if err := json.Unmarshal(b, &subs); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "slurm", jobsFile), err)
	}
	return subs, nil
}

// Queued returns the directory's job IDs still in the queue (pending or
// running), from squeue.
func Queued(dir string) ([]string, error) {
	subs, err := Submissions(dir)
	if err != nil || len(subs) == 0 {
		return nil, err
	}
	var ids []string
	for _, s := range subs {
		ids = append(ids, s.JobIDs()...)
	}
	return queued(ids)
}

func queued(ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out, err := exec.Command("squeue", "-h", "-o", "%A", "-j", strings.Join(ids, ",")).Output()
	if err != nil {
		// squeue fails when every listed job has left its memory.
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, nil
		}
		return nil, fmt.Errorf("slurm: squeue: %w", err)
	}
	return strings.Fields(string(out)), nil
}

// Cancel cancels every job the directory's submissions made.
func Cancel(dir string) ([]string, error) {
	subs, err := Submissions(dir)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, s := range subs {
		ids = append(ids, s.JobIDs()...)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: no Slurm jobs were submitted from this directory", dir)
	}
	return ids, scancel(ids)
}

func scancel(ids []string) error {
	if out, err := exec.Command("scancel", ids...).CombinedOutput(); err != nil {
		return fmt.Errorf("slurm: scancel: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// wait polls the queue until the jobs have left it; cancelling ctx cancels
// them.
func wait(ctx context.Context, ids []string, logw io.Writer) error {
	last := ""
	for {
		q, err := queued(ids)
		if err != nil {
			return err
		}
		if len(q) == 0 {
			return nil
		}
		if s := strings.Join(q, " "); s != last {
			fmt.Fprintf(logw, "slurm: waiting for %d jobs in the queue\n", len(q))
			last = s
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(logw, "slurm: interrupted: cancelling jobs %s\n", strings.Join(ids, " "))
			if err := scancel(ids); err != nil {
				return err
			}
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-=:,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
