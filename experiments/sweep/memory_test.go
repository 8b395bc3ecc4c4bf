package sweep

import (
	"math"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core"
)

// The estimate is within a factor of 1.5 of the trial peaks measured in
// the study (small model, 8 prompts per step; manifest trial_rss_mib).
func TestEstimateMemoryMatchesMeasured(t *testing.T) {
	small := ModelSpec{DModel: 128, NLayer: 2, NHead: 4, Context: 128}
	for _, tc := range []struct {
		name     string
		needs    core.Needs
		measured float64 // MiB
	}{
		{"sft", core.Needs{Reference: true}, 195},
		{"grpo", core.Needs{Samples: 16}, 1500}, // 1178–1821 over seeds
		{"grao", core.Needs{Samples: 16, Reference: true}, 1590},
	} {
		m := EstimateMemory(Trial{Model: small, Train: TrainSpec{Prompts: 8}}, tc.needs)
		got := m.Total() / (1 << 20)
		if r := got / tc.measured; r < 1/1.5 || r > 1.5 {
			t.Errorf("%s: estimated %.0f MiB, measured %.0f", tc.name, got, tc.measured)
		}
	}
	// Absurd shapes give a huge finite-or-infinite number, never a
	// negative one from an overflow.
	huge := EstimateMemory(Trial{Model: ModelSpec{DModel: 1 << 20, NLayer: 100_000_000, NHead: 4, Context: 1 << 20},
		Train: TrainSpec{Prompts: 1_000_000_000}}, core.Needs{Samples: 100_000_000})
	if !(huge.Total() > 1e18) || math.IsNaN(huge.Total()) {
		t.Errorf("absurd shapes estimate %v bytes", huge.Total())
	}
}

const memSweep = `name = "m"
seeds = [1]
[model]
preset = "tiny"
d_model = 1048576
[task]
name = "arith"
digits = 2
[train]
prompts = 8
max_new_tokens = 16
[eval]
max_new_tokens = 16
[[algorithm]]
name = "grpo"
`

// Over this machine's memory is a warning; over memory_limit an error at
// the key's line; a bad size is an error.
func TestMemoryLimit(t *testing.T) {
	s, err := Parse([]byte(memSweep), "m.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expand(); err != nil {
		t.Fatalf("without a limit a huge trial must only warn: %v", err)
	}
	if machineMemory() > 0 && (len(s.Warnings()) != 1 || !strings.Contains(s.Warnings()[0], "more than this machine's")) {
		t.Errorf("warnings %q", s.Warnings())
	}
	s, err = Parse([]byte("memory_limit = \"8GiB\"\n"+memSweep), "m.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expand(); err == nil || !strings.Contains(err.Error(), "m.toml:1: memory_limit: trial grpo-s1-") {
		t.Errorf("over the limit: %v", err)
	}
	s, _ = Parse([]byte("memory_limit = \"lots\"\n"+memSweep), "m.toml")
	if s != nil {
		if _, err := s.Expand(); err == nil || !strings.Contains(err.Error(), `"lots" is not a size`) {
			t.Errorf("bad size: %v", err)
		}
	}
	for in, want := range map[string]float64{"16GiB": 16 << 30, "512 MiB": 512 << 20, "2.5GB": 2.5e9, "1024": 1024} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %v, %v", in, got, err)
		}
	}
}
