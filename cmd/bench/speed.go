package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/pretrain"
	"github.com/grao-lab/grao/core/tokenizer"
	"github.com/grao-lab/grao/kernels"
)

func init() {
	register(command{name: "speed", summary: "measure training and sampling throughput", run: runSpeed})
}

// speedRow is one measurement; JSON field names are a contract for
// scripts comparing runs.
type speedRow struct {
	Model       string  `json:"model"`
	BLAS        string  `json:"blas"`
	Kind        string  `json:"kind"` // "train" | "sample"
	Batch       int     `json:"batch"`
	Seq         int     `json:"seq,omitempty"`
	TokensPerS  float64 `json:"tokens_per_s"`
	MsPerStep   float64 `json:"ms_per_step,omitempty"`
	GFLOPs      float64 `json:"gflops"`
	Repetitions int     `json:"repetitions"`
}

type speedReport struct {
	Version    string     `json:"version"`
	GoVersion  string     `json:"go"`
	GOMAXPROCS int        `json:"gomaxprocs"`
	BLASInfo   string     `json:"blas_info"`
	Rows       []speedRow `json:"results"`
}

func runSpeed(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("speed", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	models := fs.String("models", "small,medium", "comma-separated model presets")
	blas := fs.String("blas", "current", "BLAS to measure: current, gonum, openblas or both")
	trainSteps := fs.Int("train-steps", 3, "timed training steps per model (after one warm-up)")
	batch := fs.Int("batch", 16, "training batch (sequences)")
	newTokens := fs.Int("new-tokens", 64, "tokens generated per sampling row")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	backends, err := speedBackends(*blas)
	if err != nil {
		return err
	}
	rep := speedReport{Version: versionString(), GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), BLASInfo: kernels.Current().Info()}
	for _, name := range strings.Split(*models, ",") {
		mc, err := model.Preset(strings.TrimSpace(name))
		if err != nil {
			return badInput("--models: %v", err)
		}
		for _, b := range backends {
			prev := kernels.Use(b)
			rows, err := measureModel(name, mc, *trainSteps, *batch, *newTokens)
			kernels.Use(prev)
			if err != nil {
				return err
			}
			for i := range rows {
				rows[i].BLAS = b.Name()
			}
			rep.Rows = append(rep.Rows, rows...)
			if !*asJSON {
				fmt.Fprintf(stderr, "measured %s with %s\n", name, b.Name())
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "grao %s, %s, GOMAXPROCS=%d, %s\n", rep.Version, rep.GoVersion, rep.GOMAXPROCS, rep.BLASInfo)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tblas\tkind\tbatch\ttokens/s\tms/step\tGFLOP/s\t")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.0f\t%.1f\t%.1f\t\n", r.Model, r.BLAS, r.Kind, r.Batch, r.TokensPerS, r.MsPerStep, r.GFLOPs)
	}
	return tw.Flush()
}

func speedBackends(which string) ([]kernels.Backend, error) {
	switch which {
	case "current":
		return []kernels.Backend{kernels.Current()}, nil
	case "gonum":
		return []kernels.Backend{kernels.Gonum{}}, nil
	case "openblas", "both":
		ob, err := kernels.OpenBLAS()
		if err != nil {
			return nil, badInput("--blas %s: %v", which, err)
		}
		if which == "both" {
			return []kernels.Backend{ob, kernels.Gonum{}}, nil
		}
		return []kernels.Backend{ob}, nil
	}
	return nil, badInput("--blas must be current, gonum, openblas or both, got %q", which)
}

// measureModel times full training steps (forward, backward, AdamW) on
// random full-length sequences, then KV-cache sampling at batch 1 and 32.
func measureModel(name string, mc model.Config, steps, batch, newTokens int) ([]speedRow, error) {
	seq := mc.Context
	oc := optim.DefaultConfig()
	cfg := pretrain.Config{Model: mc, Steps: steps + 1, Batch: batch, Seq: seq, Optim: oc, Seed: 1}
	var stepTimes []time.Duration
	last := time.Now()
	_, err := pretrain.Run(context.Background(), cfg, randomText{}, nil, func(pr pretrain.Progress) {
		now := time.Now()
		if pr.Step > 1 { // the first step builds buffers
			stepTimes = append(stepTimes, now.Sub(last))
		}
		last = now
	})
	if err != nil {
		return nil, err
	}
	var total time.Duration
	for _, d := range stepTimes {
		total += d
	}
	perStep := total.Seconds() / float64(len(stepTimes))
	tokens := float64(batch * seq)
	var fwd float64
	for t := 0; t < seq; t++ {
		fwd += mc.FLOPsPerToken(t)
	}
	// Backward costs about twice the forward.
	rows := []speedRow{{Model: name, Kind: "train", Batch: batch, Seq: seq, TokensPerS: tokens / perStep,
		MsPerStep: perStep * 1e3, GFLOPs: 3 * fwd * float64(batch) / perStep / 1e9, Repetitions: len(stepTimes)}}

	p, err := model.Init(mc, 1)
	if err != nil {
		return nil, err
	}
	for _, b := range []int{1, 32} {
		prompt := []int{tokenizer.BOS, 'H', 'i'}
		prompts := make([][]int, b)
		for i := range prompts {
			prompts[i] = prompt
		}
		n := min(newTokens, mc.Context-len(prompt))
		s := model.NewSampler(p, b)
		// Temperature 1 on a random model rarely hits EOS; count what was made.
		cfg := model.SampleConfig{Temperature: 1, MaxNew: n, Seed: 1}
		if _, err := s.Generate(prompts, cfg); err != nil { // warm-up
			return nil, err
		}
		start := time.Now()
		outs, err := s.Generate(prompts, cfg)
		if err != nil {
			return nil, err
		}
		el := time.Since(start).Seconds()
		var made int
		var flops float64
		for _, o := range outs {
			made += len(o.Tokens)
			for t := range o.Tokens {
				flops += mc.FLOPsPerToken(len(prompt) + t)
			}
		}
		rows = append(rows, speedRow{Model: name, Kind: "sample", Batch: b, TokensPerS: float64(made) / el,
			GFLOPs: flops / el / 1e9, Repetitions: 1})
	}
	return rows, nil
}

// randomText feeds training steps with random bytes (speed only).
type randomText struct{}

func (randomText) Next(rng *rand.Rand, n, seq int) [][]int {
	out := make([][]int, n)
	for i := range out {
		ids := make([]int, seq)
		ids[0] = tokenizer.BOS
		for j := 1; j < seq; j++ {
			ids[j] = 32 + rng.IntN(95)
		}
		out[i] = ids
	}
	return out
}
