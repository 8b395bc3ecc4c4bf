package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
	"github.com/grao-lab/grao/kernels"
)

const sweepHead = `name = "plug"
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
steps = 2
prompts = 2
max_new_tokens = 16
[eval]
prompts = 4
max_new_tokens = 16
[[algorithm]]
name = "grpo"
g = 2
[reward]
kind = "combine"
[[reward.part]]
kind = "judge"
[[reward.part]]
kind = "plugin"
weight = 0.5
`

func runSweep(t *testing.T, dir, src string) (runner.Summary, []sweep.Trial) {
	t.Helper()
	sw, trials, path := parseSweep(t, dir, src)
	sum, err := runner.Run(context.Background(), sw, trials, runner.Options{SweepPath: path, Out: filepath.Join(dir, "out"), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	return sum, trials
}

func manifest(t *testing.T, dir, id string) runner.Manifest {
	t.Helper()
	var m runner.Manifest
	data, err := os.ReadFile(filepath.Join(dir, "out", "runs", id, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// A sweep trains with an external reward plugin (the Go keyword example)
// combined with the task's judge, and records its provenance.
func TestPluginRewardInSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "keyword")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/grao-lab/grao/plugins/examples/keyword").CombinedOutput(); err != nil {
		t.Fatalf("building the example plugin: %v\n%s", err, out)
	}
	sum, trials := runSweep(t, dir, sweepHead+`path = "keyword"
args = ["-keywords", "is"]
`)
	if sum.Failed != 0 {
		t.Fatalf("summary %+v: %+v", sum, manifest(t, dir, trials[0].ID))
	}
	m := manifest(t, dir, trials[0].ID)
	if m.Status != runner.StatusDone || len(m.Reward) == 0 || !strings.Contains(m.Reward[0].Name, "keyword") {
		t.Errorf("manifest %+v: want done with the combined reward's provenance", m)
	}
}

// A plugin that cannot start fails only its trial, with the reason in the
// trial's manifest; results.csv is still written.
func TestBrokenPluginFailsItsTrial(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "broken")
	os.WriteFile(bad, []byte("#!/bin/sh\necho not a handshake\nexit 3\n"), 0o755)
	sum, trials := runSweep(t, dir, sweepHead+`path = "broken"
`)
	if sum.Failed != 1 {
		t.Fatalf("summary %+v: want 1 failed", sum)
	}
	m := manifest(t, dir, trials[0].ID)
	if m.Status != runner.StatusFailed || !strings.Contains(m.Error, "broken") {
		t.Errorf("manifest status %q error %q: want failed naming the plugin", m.Status, m.Error)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "results.csv")); err != nil {
		t.Error(err)
	}
}

// With GRAO_BASE_CACHE set, a second sweep directory reuses the base model
// pre-trained by the first (same model × task × pretrain config), and its
// results are identical.
func TestSharedBaseCache(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	cache := t.TempDir()
	t.Setenv(runner.EnvBaseCache, cache)
	src := strings.Split(sweepHead, "[reward]")[0]
	var evals [2][]byte
	var manifests [2]runner.Manifest
	for i := range evals {
		dir := t.TempDir()
		sum, trials := runSweep(t, dir, src)
		if sum.Failed != 0 {
			t.Fatalf("run %d: %+v", i, sum)
		}
		manifests[i] = manifest(t, dir, trials[0].ID)
		evals[i], _ = os.ReadFile(filepath.Join(dir, "out", "runs", trials[0].ID, "eval.json"))
		if i == 0 {
			if _, err := os.Stat(filepath.Join(cache, trials[0].BaseKey(), "model.safetensors")); err != nil {
				t.Fatalf("base model not saved to the shared cache: %v", err)
			}
		}
		if i == 1 {
			meta, err := os.ReadFile(filepath.Join(dir, "out", "base", trials[0].BaseKey(), "model.safetensors"))
			if err != nil || !strings.Contains(string(meta[:min(len(meta), 4096)]), "copied_from") {
				t.Errorf("second sweep's base was not taken from the shared cache")
			}
		}
	}
	if len(evals[0]) == 0 || string(evals[0]) != string(evals[1]) {
		t.Error("eval.json differs between the sweep that trained the base and the one that reused it")
	}
	for i, m := range manifests {
		if m.BasePretrainedWith != kernels.Current().Name() {
			t.Errorf("run %d: manifest base_pretrained_with %q, want %q", i, m.BasePretrainedWith, kernels.Current().Name())
		}
	}
	// A cached base pre-trained with another BLAS is reused (the key does
	// not hold the BLAS), with a warning, and the manifest says which.
	dir := t.TempDir()
	sw, trials, path := parseSweep(t, dir, src)
	cached := filepath.Join(cache, trials[0].BaseKey())
	p, err := checkpoint.Load(cached)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.Save(cached, p, map[string]string{"pretrained_with": "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if _, err := runner.Run(context.Background(), sw, trials, runner.Options{SweepPath: path, Out: filepath.Join(dir, "out"), Workers: 1, Log: &log}); err != nil {
		t.Fatal(err)
	}
	if m := manifest(t, dir, trials[0].ID); m.BasePretrainedWith != "elsewhere" {
		t.Errorf("manifest base_pretrained_with %q for a base pre-trained elsewhere", m.BasePretrainedWith)
	}
	if want := "pre-trained with elsewhere, this run trains with " + kernels.Current().Name(); !strings.Contains(log.String(), want) {
		t.Errorf("no warning %q in the log:\n%s", want, log.String())
	}
}

// Cancelling the run (SIGINT in the CLI) marks the running trial
// interrupted, never failed or done, and leaves no eval.json behind.
func TestCancelMarksInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	src := strings.Replace(strings.Split(sweepHead, "[reward]")[0], "steps = 10", "steps = 100000", 1)
	path := filepath.Join(dir, "s.toml")
	os.WriteFile(path, []byte(src), 0o644)
	sw, err := sweep.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sw.Resolve()
	trials, err := sw.Expand()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Second, cancel)
	sum, err := runner.Run(ctx, sw, trials, runner.Options{SweepPath: path, Out: filepath.Join(dir, "out"), Workers: 1})
	if !errors.Is(err, context.Canceled) || sum.Interrupted != 1 || sum.Failed != 0 {
		t.Fatalf("summary %+v, err %v: want one interrupted trial and context.Canceled", sum, err)
	}
	if m := manifest(t, dir, trials[0].ID); m.Status != runner.StatusInterrupted {
		t.Errorf("manifest status %q, want interrupted", m.Status)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "runs", trials[0].ID, "eval.json")); err == nil {
		t.Error("an interrupted trial left an eval.json")
	}
}
