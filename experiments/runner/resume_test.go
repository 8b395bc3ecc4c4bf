package runner_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
	"github.com/grao-lab/grao/experiments/tensorboard"
	"github.com/grao-lab/grao/kernels"
)

// resumeSweep trains long enough for several checkpoints, with the random
// reward, whose stream is state the checkpoint must carry too.
const resumeSweep = `name = "resume"
seeds = [1]
[model]
preset = "tiny"
[task]
name = "arith"
digits = 1
train_size = 200
eval_size = 40
[pretrain]
steps = 10
[train]
steps = 8
prompts = 2
max_new_tokens = 16
eval_every = 3
checkpoint_every = 2
[eval]
prompts = 4
max_new_tokens = 16
[reward]
kind = "random"
[[algorithm]]
name = "grpo"
g = 2
`

// killChildEnv makes the test binary the child of TestKillMidTrialResumes:
// it runs the sweep into the directory named and stops dead at the
// checkpoint after step 4, where the parent SIGKILLs it.
const killChildEnv = "GRAO_TEST_KILL_CHILD"

func runResumeSweep(t *testing.T, out string, resume bool) []sweep.Trial {
	t.Helper()
	sw, trials, path := parseSweep(t, filepath.Dir(out), resumeSweep)
	if _, err := runner.Run(context.Background(), sw, trials, runner.Options{SweepPath: path, Out: out, Workers: 1, Resume: resume, TensorBoard: true}); err != nil {
		t.Fatal(err)
	}
	return trials
}

// A trial SIGKILLed mid-way, with a torn last line in its log, continues
// from its last checkpoint on --resume and ends byte-identical to an
// uninterrupted run: eval.json, samples, final weights, results.csv, and
// metrics.jsonl apart from wall times.
func TestKillMidTrialResumes(t *testing.T) {
	if out := os.Getenv(killChildEnv); out != "" {
		runner.SetAfterCheckpoint(func(id string, step int) {
			if step == 4 {
				fmt.Println("checkpointed", id)
				select {} // wait for SIGKILL
			}
		})
		runResumeSweep(t, out, false)
		t.Fatal("the child finished its sweep: it should have stopped at step 4")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	wantDir := filepath.Join(dir, "whole", "out")
	os.MkdirAll(filepath.Dir(wantDir), 0o755)
	trials := runResumeSweep(t, wantDir, false)
	id := trials[0].ID

	gotDir := filepath.Join(dir, "killed", "out")
	os.MkdirAll(filepath.Dir(gotDir), 0o755)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillMidTrialResumes$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+gotDir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "checkpointed") {
				line <- sc.Text()
				return
			}
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		if !ok {
			cmd.Wait()
			t.Fatalf("the child ended without reaching its checkpoint; stderr:\n%s", stderr.String())
		}
		t.Logf("child: %s", l)
	case <-time.After(5 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the child did not reach its checkpoint in 5 minutes")
	}
	cmd.Process.Kill() // SIGKILL: no cleanup runs
	cmd.Wait()

	tdir := filepath.Join(gotDir, "runs", id)
	if _, err := os.Stat(filepath.Join(tdir, "resume.safetensors")); err != nil {
		t.Fatalf("no checkpoint left by the killed trial: %v", err)
	}
	// A crash in the middle of a write leaves a torn line.
	f, err := os.OpenFile(filepath.Join(tdir, "metrics.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"step":5,"lo`)
	f.Close()

	runResumeSweep(t, gotDir, true)

	m := manifest(t, filepath.Dir(gotDir), id)
	if m.ResumedFrom != 4 || m.Status != runner.StatusDone {
		t.Errorf("manifest: status %q, resumed_from_step %d; want done from step 4", m.Status, m.ResumedFrom)
	}
	if want := kernels.ReadCPUInfo(1).Model; m.CPU != want || m.GOMAXPROCS < 1 || m.BLAS == "" {
		t.Errorf("manifest: cpu %q (want %q), gomaxprocs %d, blas %q", m.CPU, want, m.GOMAXPROCS, m.BLAS)
	}
	if _, err := os.Stat(filepath.Join(tdir, "resume.safetensors")); !os.IsNotExist(err) {
		t.Errorf("the finished trial kept its checkpoint (stat: %v)", err)
	}
	for _, name := range []string{"eval.json", "samples.jsonl", "model.safetensors"} {
		want, _ := os.ReadFile(filepath.Join(wantDir, "runs", id, name))
		got, _ := os.ReadFile(filepath.Join(tdir, name))
		if len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("%s differs from the uninterrupted run's (%d vs %d bytes)", name, len(got), len(want))
		}
	}
	want, _ := os.ReadFile(filepath.Join(wantDir, "results.csv"))
	got, _ := os.ReadFile(filepath.Join(gotDir, "results.csv"))
	if !bytes.Equal(got, want) {
		t.Errorf("results.csv differs:\n got %s\nwant %s", got, want)
	}
	wl, gl := withoutTiming(t, filepath.Join(wantDir, "runs", id, "metrics.jsonl")), withoutTiming(t, filepath.Join(tdir, "metrics.jsonl"))
	if strings.Join(gl, "\n") != strings.Join(wl, "\n") {
		t.Errorf("metrics.jsonl differs (timing aside):\n got %s\nwant %s", strings.Join(gl, "\n     "), strings.Join(wl, "\n     "))
	}
	wt, gt := tbScalars(t, filepath.Join(wantDir, runner.TensorBoardDir, id)), tbScalars(t, filepath.Join(gotDir, runner.TensorBoardDir, id))
	if len(wt) == 0 || fmt.Sprint(gt) != fmt.Sprint(wt) {
		t.Errorf("TensorBoard scalars differ (timing aside):\n got %v\nwant %v", gt, wt)
	}
}

// tbScalars reads a trial's TensorBoard event files: step → tag → value,
// without wall times; a step logged twice for one tag is an error.
func tbScalars(t *testing.T, dir string) map[int64]map[string]float32 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	if len(files) != 1 {
		t.Fatalf("%s: %d event files, want 1", dir, len(files))
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, err := tensorboard.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]map[string]float32{}
	for _, ev := range evs {
		for _, v := range ev.GetSummary().GetValue() {
			if strings.HasPrefix(v.GetTag(), "train/timing/") {
				continue
			}
			if out[ev.GetStep()] == nil {
				out[ev.GetStep()] = map[string]float32{}
			}
			if _, dup := out[ev.GetStep()][v.GetTag()]; dup {
				t.Errorf("%s: step %d, %s logged twice", dir, ev.GetStep(), v.GetTag())
			}
			out[ev.GetStep()][v.GetTag()] = v.GetSimpleValue()
		}
	}
	return out
}

// withoutTiming returns a metrics.jsonl's lines with the wall-time field
// removed, each re-encoded canonically.
func withoutTiming(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%s: line %q: %v", path, l, err)
		}
		delete(m, "timing")
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	return out
}
