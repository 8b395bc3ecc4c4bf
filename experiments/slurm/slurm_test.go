package slurm_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/slurm"
)

const sweepSrc = `name = "slurm-test"
seeds = [1, 2]
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
steps = STEPS
prompts = 2
max_new_tokens = 16
[eval]
prompts = 4
max_new_tokens = 16
[[algorithm]]
name = "sft"
[[algorithm]]
name = "grpo"
g = 2
`

// needSlurm skips without a working Slurm (sinfo answering, a node up),
// unless GRAO_REQUIRE_SLURM=1 (CI, which starts one with
// scripts/slurm-local.sh), where that is a failure.
func needSlurm(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short")
	}
	out, err := exec.Command("sinfo", "-h", "-o", "%T").Output()
	state := strings.TrimSpace(string(out))
	if err == nil && (strings.HasPrefix(state, "idle") || strings.HasPrefix(state, "mixed") || strings.HasPrefix(state, "alloc")) {
		return
	}
	msg := "no usable Slurm here (sinfo: " + strings.TrimSpace(state) + "; start one with scripts/slurm-local.sh)"
	if err != nil {
		msg += ": " + err.Error()
	}
	if os.Getenv("GRAO_REQUIRE_SLURM") == "1" {
		t.Fatal(msg + " and GRAO_REQUIRE_SLURM=1")
	}
	t.Skip(msg)
}

// buildBench builds the bench binary the jobs run.
func buildBench(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bench")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/grao-lab/grao/cmd/bench")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func bench(t *testing.T, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// A sweep run as Slurm jobs builds its base model once (one base job; the
// trial arrays wait for it), and its results.csv equals a local run's at
// the same core count, byte for byte. Cancelling a running sweep stops its
// jobs, and the running trial is recorded as interrupted.
func TestSlurmExecutor(t *testing.T) {
	needSlurm(t)
	bin := buildBench(t)
	dir := t.TempDir()
	sweepPath := filepath.Join(dir, "s.toml")
	os.WriteFile(sweepPath, []byte(strings.Replace(sweepSrc, "STEPS", "2", 1)), 0o644)
	cpus := strconv.Itoa(runtime.GOMAXPROCS(0))

	local := filepath.Join(dir, "local")
	if out, err := bench(t, bin, []string{"GOMAXPROCS=" + cpus}, "run", sweepPath, "--out", local); err != nil {
		t.Fatalf("local run: %v\n%s", err, out)
	}
	cluster := filepath.Join(dir, "cluster")
	out, err := bench(t, bin, nil, "run", sweepPath, "--out", cluster, "--executor", "slurm", "--cpus", cpus, "--wait")
	if err != nil {
		t.Fatalf("slurm run: %v\n%s", err, out)
	}
	want, _ := os.ReadFile(filepath.Join(local, "results.csv"))
	got, _ := os.ReadFile(filepath.Join(cluster, "results.csv"))
	if len(want) == 0 || !bytes.Equal(got, want) {
		t.Errorf("results.csv differs from the local run's:\n%s\nlocal:\n%s", got, want)
	}
	logs, _ := filepath.Glob(filepath.Join(cluster, "slurm", "logs", "*.out"))
	builds := 0
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		builds += strings.Count(string(b), ": pre-training ")
	}
	if builds != 1 {
		t.Errorf("the base model was pre-trained %d times across %d job logs, want once", builds, len(logs))
	}
	for _, f := range []string{"report.md", "slurm/collect.sh", "bin/bench"} {
		if _, err := os.Stat(filepath.Join(cluster, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	sts, err := runner.Status(cluster)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		if s.Status != runner.StatusDone {
			t.Errorf("after the jobs: %+v", s)
		}
	}
	// Resubmitting a finished sweep submits nothing.
	if out, err := bench(t, bin, nil, "run", sweepPath, "--out", cluster, "--executor", "slurm", "--resume"); err != nil || !strings.Contains(out, "nothing to submit") {
		t.Errorf("resubmitting a finished sweep: %v\n%s", err, out)
	}

	// A trial that fails (a learning rate that makes the loss NaN) fails
	// alone: the others finish, status names its error, --wait exits 1.
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte(strings.Replace(sweepSrc, "STEPS", "2", 1)+"[sweep]\n\"train.lr\" = [5e-4, 1e30]\n"), 0o644)
	badDir := filepath.Join(dir, "bad")
	if out, err := bench(t, bin, nil, "run", bad, "--out", badDir, "--executor", "slurm", "--cpus", cpus, "--wait"); err == nil || !strings.Contains(out, "4 of 8 trials did not finish") {
		t.Errorf("a sweep with failing trials: err %v (want exit 1)\n%s", err, out)
	}
	sts, err = runner.Status(badDir)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, s := range sts {
		counts[s.Status]++
		if s.Status == runner.StatusFailed && !strings.Contains(s.Error, "not finite") {
			t.Errorf("failed trial %s: error %q, want the loss's", s.ID, s.Error)
		}
	}
	if counts[runner.StatusDone] != 4 || counts[runner.StatusFailed] != 4 {
		t.Errorf("states %v, want 4 done and 4 failed", counts)
	}

	// A sweep cancelled mid-trial and resubmitted with --resume continues
	// from the trial's checkpoint and ends equal to a local run.
	mid := filepath.Join(dir, "mid.toml")
	os.WriteFile(mid, []byte(strings.Replace(strings.Replace(sweepSrc, "STEPS", "40", 1), "max_new_tokens = 16\n[eval]", "max_new_tokens = 16\ncheckpoint_every = 2\n[eval]", 1)), 0o644)
	midLocal := filepath.Join(dir, "mid-local")
	if out, err := bench(t, bin, []string{"GOMAXPROCS=" + cpus}, "run", mid, "--out", midLocal); err != nil {
		t.Fatalf("local run: %v\n%s", err, out)
	}
	midDir := filepath.Join(dir, "mid")
	if out, err := bench(t, bin, nil, "run", mid, "--out", midDir, "--executor", "slurm", "--cpus", cpus); err != nil {
		t.Fatalf("submit: %v\n%s", err, out)
	}
	deadline := time.Now().Add(3 * time.Minute)
	var ckpt []string
	for len(ckpt) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		ckpt, _ = filepath.Glob(filepath.Join(midDir, "runs", "*", "resume.safetensors"))
	}
	if out, err := bench(t, bin, nil, "cancel", midDir); err != nil || len(ckpt) == 0 {
		t.Fatalf("cancel after a checkpoint (%v): %v\n%s", ckpt, err, out)
	}
	for deadline = time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		if q, err := slurm.Queued(midDir); err == nil && len(q) == 0 {
			break
		}
	}
	out, err = bench(t, bin, nil, "run", mid, "--out", midDir, "--executor", "slurm", "--cpus", cpus, "--resume", "--wait")
	if err != nil {
		t.Fatalf("resubmit: %v\n%s", err, out)
	}
	want, _ = os.ReadFile(filepath.Join(midLocal, "results.csv"))
	got, _ = os.ReadFile(filepath.Join(midDir, "results.csv"))
	if len(want) == 0 || !bytes.Equal(got, want) {
		t.Errorf("cancelled and resumed on Slurm, results.csv differs from the local run's:\n%s\nlocal:\n%s", got, want)
	}
	resumed := 0
	for _, c := range ckpt {
		var m runner.Manifest
		b, _ := os.ReadFile(filepath.Join(filepath.Dir(c), "manifest.json"))
		if json.Unmarshal(b, &m) == nil && m.ResumedFrom > 0 {
			resumed++
		}
	}
	if resumed == 0 {
		t.Errorf("none of the %d trials cancelled after a checkpoint resumed from it", len(ckpt))
	}

	// Cancel a sweep whose trials would run for hours.
	long := filepath.Join(dir, "long.toml")
	os.WriteFile(long, []byte(strings.Replace(sweepSrc, "STEPS", "1000000", 1)), 0o644)
	ldir := filepath.Join(dir, "long")
	if out, err := bench(t, bin, nil, "run", long, "--out", ldir, "--executor", "slurm", "--cpus", cpus); err != nil {
		t.Fatalf("submit: %v\n%s", err, out)
	}
	deadline = time.Now().Add(3 * time.Minute)
	running := ""
	for running == "" && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		sts, _ := runner.Status(ldir)
		for _, s := range sts {
			if s.Status == runner.StatusRunning {
				running = s.ID
			}
		}
	}
	if running == "" {
		slurm.Cancel(ldir)
		t.Fatal("no trial of the long sweep started running in 3 minutes")
	}
	if out, err := bench(t, bin, nil, "cancel", ldir); err != nil {
		t.Fatalf("cancel: %v\n%s", err, out)
	}
	deadline = time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if q, err := slurm.Queued(ldir); err == nil && len(q) == 0 {
			break
		}
		time.Sleep(time.Second)
	}
	if q, _ := slurm.Queued(ldir); len(q) > 0 {
		t.Errorf("jobs %v still queued a minute after bench cancel", q)
	}
	sts, _ = runner.Status(ldir)
	for _, s := range sts {
		if s.ID == running && s.Status != runner.StatusInterrupted && s.Status != runner.StatusLost {
			t.Errorf("the running trial is %q after cancel, want interrupted (or lost)", s.Status)
		}
		if s.Status == runner.StatusDone || s.Status == runner.StatusRunning {
			t.Errorf("after cancel: %+v", s)
		}
	}
	if out, err := bench(t, bin, nil, "status", ldir); err == nil || !strings.Contains(out, "slurm: 0 of this directory's jobs in the queue") {
		t.Errorf("status after cancel: err %v (want exit 1)\n%s", err, out)
	}
}
