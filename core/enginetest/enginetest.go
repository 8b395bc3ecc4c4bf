// Package enginetest is the conformance suite of core.Engine: an engine
// (a GPU engine, a faster CPU engine) runs Run and is checked against
// grao's reference CPU engine on the same weights and inputs — per-token
// log-probs, values and entropies, the gradient of every weight (of one
// pass, and summed over passes before a Step), one AdamW update, greedy
// samples — and for the contract's rules (snapshots are
// frozen, state round-trips, misuse is an error).
package enginetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/tokenizer"
)

// Factory builds the engine under test over a copy of p, training with oc.
type Factory func(p *model.Params, oc optim.Config) (core.Engine, error)

// Tolerance is the relative difference Run accepts between the engine and
// the reference (fp32 engines that reorder sums need about 1e-4).
var Tolerance = 1e-4

// Config is the architecture Run checks on: small, with a value head.
func Config() model.Config {
	return model.Config{VocabSize: tokenizer.VocabSize, DModel: 32, NLayer: 2, NHead: 4, Context: 32, LNEps: 1e-5, ValueHead: true}
}

// Run checks the engine newEngine builds, on Config().
func Run(t *testing.T, newEngine Factory) { RunConfig(t, Config(), newEngine) }

// RunConfig is Run on another architecture (a mixture of experts, a
// GPT-2 vocabulary): the engine must support it.
func RunConfig(t *testing.T, c model.Config, newEngine Factory) {
	p := weights(t, c)
	seqs := batch(p.Config)
	t.Run("forward", func(t *testing.T) { checkForward(t, newEngine, p, seqs) })
	t.Run("gradients", func(t *testing.T) { checkGradients(t, newEngine, p, seqs) })
	t.Run("accumulation", func(t *testing.T) { checkAccumulation(t, newEngine, p, seqs) })
	t.Run("adamw", func(t *testing.T) { checkAdamW(t, newEngine, p, seqs) })
	t.Run("greedy", func(t *testing.T) { checkGreedy(t, newEngine, p) })
	t.Run("snapshot", func(t *testing.T) { checkSnapshot(t, newEngine, p, seqs) })
	t.Run("state", func(t *testing.T) { checkState(t, newEngine, p, seqs) })
	t.Run("misuse", func(t *testing.T) { checkMisuse(t, newEngine, p, seqs) })
}

// weights are a model whose layer norms and biases are not at their
// initial values, so that every weight's gradient path is exercised.
func weights(t *testing.T, c model.Config) *model.Params {
	t.Helper()
	p, err := model.Init(c, 7)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ts := range p.All() {
		for i := range ts.Data {
			ts.Data[i] += float32(rng.NormFloat64() * 0.05)
		}
	}
	return p
}

// batch is a few sequences of different lengths and prompt lengths.
func batch(c model.Config) []core.Sequence {
	rng := rand.New(rand.NewPCG(3, 4))
	var out []core.Sequence
	for _, n := range []int{c.Context, 9, 17, 2} {
		ids := []int{tokenizer.BOS}
		for len(ids) < n {
			ids = append(ids, rng.IntN(256))
		}
		out = append(out, core.Sequence{Tokens: ids, Start: max(1, n/3)})
	}
	return out
}

func build(t *testing.T, newEngine Factory, p *model.Params, oc optim.Config) core.Engine {
	t.Helper()
	e, err := newEngine(p.Clone(), oc)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func reference(t *testing.T, p *model.Params, oc optim.Config) *model.CPU {
	t.Helper()
	e, err := model.NewCPU(p.Clone(), model.CPUOptions{Optim: oc})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// near reports whether got is within Tolerance of want, relative to the
// larger of |want| and scale.
func near(got, want, scale float64) bool {
	return math.Abs(got-want) <= Tolerance*math.Max(math.Abs(want), scale)
}

func compare(t *testing.T, what string, got, want [][]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d sequences, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s: sequence %d has %d values, want %d", what, i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if !near(got[i][j], want[i][j], 1) && bad < 5 {
				bad++
				t.Errorf("%s[%d][%d] = %.9g, reference %.9g", what, i, j, got[i][j], want[i][j])
			}
		}
	}
}

func checkForward(t *testing.T, newEngine Factory, p *model.Params, seqs []core.Sequence) {
	oc := optim.DefaultConfig()
	for _, temp := range []float64{1, 0.7} {
		opts := core.ForwardOptions{Temperature: temp, Entropy: true}
		want, err := reference(t, p, oc).LogProbs(seqs, opts)
		if err != nil {
			t.Fatal(err)
		}
		e := build(t, newEngine, p, oc)
		got, err := e.LogProbs(seqs, opts)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("T=%v ", temp)
		compare(t, name+"LogProbs logp", got.LogP, want.LogP)
		compare(t, name+"LogProbs values", got.Values, want.Values)
		compare(t, name+"LogProbs entropy", got.Entropy, want.Entropy)
		for i, h := range want.Entropy {
			for j, x := range h {
				if !(x > 0 && x <= math.Log(float64(p.Config.VocabSize))+1e-9) {
					t.Fatalf("%sreference entropy [%d][%d] = %v outside (0, log V]", name, i, j, x)
				}
			}
		}
		scored, err := e.Score(seqs, opts)
		if err != nil {
			t.Fatal(err)
		}
		compare(t, name+"Score logp", scored.LogP, want.LogP)
		compare(t, name+"Score values", scored.Values, want.Values)
		compare(t, name+"Score entropy", scored.Entropy, want.Entropy)
		// Score between LogProbs and Backward leaves the pending pass alone.
		if err := e.Backward(zeros(got.LogP), zeros(got.Values)); err != nil {
			t.Errorf("Backward after Score: %v", err)
		}
	}
	e := build(t, newEngine, p, oc)
	got, err := e.LogProbs(seqs, core.ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Entropy != nil {
		t.Error("entropy computed without being asked for")
	}
	if info := e.Info(); info.VocabSize != p.Config.VocabSize || info.Context != p.Config.Context || !info.ValueHead || info.Params != p.Config.NumParams() {
		t.Errorf("Info() = %+v for config %+v", info, p.Config)
	}
}

// coefficients are a fixed "loss": dL/dlogp and dL/dvalues.
func coefficients(f *core.Forward) (dlogp, dvalues [][]float64) {
	rng := rand.New(rand.NewPCG(9, 9))
	fill := func(xs [][]float64) [][]float64 {
		out := make([][]float64, len(xs))
		for i, x := range xs {
			out[i] = make([]float64, len(x))
			for j := range x {
				out[i][j] = 2*rng.Float64() - 1
			}
		}
		return out
	}
	return fill(f.LogP), fill(f.Values)
}

func zeros(xs [][]float64) [][]float64 {
	out := make([][]float64, len(xs))
	for i, x := range xs {
		out[i] = make([]float64, len(x))
	}
	return out
}

// gradientProbe is an AdamW whose first update is the negative gradient to
// about 1e-6 relative: m̂ = g, √v̂ = |g|, and Δw = −lr·g/(|g| + ε) with
// lr = ε = 1e6, no decay, no clipping. It reads the gradient of every
// weight through the Engine interface alone.
func gradientProbe() optim.Config {
	oc := optim.DefaultConfig()
	oc.LR, oc.Eps, oc.WeightDecay, oc.ClipNorm = 1e6, 1e6, 0, 0
	return oc
}

// step runs LogProbs and Backward with the fixed coefficients on each
// batch of seqs, then Step, and returns the weights after it.
func step(t *testing.T, e core.Engine, seqs ...[]core.Sequence) []core.Tensor {
	t.Helper()
	for _, part := range seqs {
		f, err := e.LogProbs(part, core.ForwardOptions{})
		if err != nil {
			t.Fatal(err)
		}
		dl, dv := coefficients(f)
		if err := e.Backward(dl, dv); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Step(); err != nil {
		t.Fatal(err)
	}
	w, err := e.Weights()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func checkGradients(t *testing.T, newEngine Factory, p *model.Params, seqs []core.Sequence) {
	oc := gradientProbe()
	want := step(t, reference(t, p, oc), seqs)
	got := step(t, build(t, newEngine, p, oc), seqs)
	before := p.All()
	compareWeights(t, "gradient of", got, want, func(i, j int, w float32) float64 { return float64(before[i].Data[j]) - float64(w) })
}

// checkAccumulation: LogProbs/Backward passes before one Step add their
// gradients, as Backward's contract says, whether the passes run on
// different graphs or the same one (a later pass must not overwrite what
// an earlier one left). Under gradientProbe an update is linear in the
// gradient (lr·g/(|g|+eps) with eps ≫ |g|), so the expected weights are
// the reference's single-batch updates added up: this does not rely on
// the reference's own accumulation.
func checkAccumulation(t *testing.T, newEngine Factory, p *model.Params, seqs []core.Sequence) {
	oc := gradientProbe()
	before := p.All()
	for _, tc := range []struct {
		name  string
		parts [][]core.Sequence
	}{
		{"two batches", [][]core.Sequence{seqs[:2], seqs[2:]}},
		{"two batches of one shape", [][]core.Sequence{seqs, shifted(seqs)}},
	} {
		want := make([]core.Tensor, len(before))
		for i, b := range before {
			want[i] = core.Tensor{Name: b.Name, Data: slices.Clone(b.Data)}
		}
		for _, part := range tc.parts {
			for i, w := range step(t, reference(t, p, oc), part) {
				for j, v := range w.Data {
					want[i].Data[j] -= before[i].Data[j] - v
				}
			}
		}
		got := step(t, build(t, newEngine, p, oc), tc.parts...)
		compareWeights(t, "gradient ("+tc.name+") of", got, want, func(i, j int, w float32) float64 { return float64(before[i].Data[j]) - float64(w) })
	}
}

// shifted is seqs with other tokens after BOS: a batch of the same shape
// (the same graph, where an engine keys graphs by shape) and another
// gradient.
func shifted(seqs []core.Sequence) []core.Sequence {
	out := make([]core.Sequence, len(seqs))
	for i, s := range seqs {
		ids := slices.Clone(s.Tokens)
		for j := 1; j < len(ids); j++ {
			ids[j] = (ids[j] + 7) % 256
		}
		out[i] = core.Sequence{Tokens: ids, Start: s.Start}
	}
	return out
}

func checkAdamW(t *testing.T, newEngine Factory, p *model.Params, seqs []core.Sequence) {
	for _, c := range []struct {
		name string
		set  func(*optim.Config)
	}{
		// Clipping on: the gradient norm is larger.
		{"clipped", func(oc *optim.Config) { oc.ClipNorm = 0.5 }},
		// At the default weight decay of 0.01 its effect, lr·0.01·w, is
		// below the tolerance; at 50 it shrinks every decayed weight by
		// 5%, so decaying a bias or a layer-norm gain (or not decaying a
		// matrix) shows.
		{"strong decay", func(oc *optim.Config) { oc.WeightDecay = 50 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			oc := optim.DefaultConfig()
			c.set(&oc)
			want := step(t, reference(t, p, oc), seqs)
			got := step(t, build(t, newEngine, p, oc), seqs)
			compareWeights(t, "AdamW update of", got, want, func(_, _ int, w float32) float64 { return float64(w) })
		})
	}
}

// compareWeights compares f of every weight of got and want, each tensor
// relative to its own largest magnitude.
func compareWeights(t *testing.T, what string, got, want []core.Tensor, f func(i, j int, w float32) float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d weight tensors, reference %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || len(got[i].Data) != len(want[i].Data) {
			t.Fatalf("weight %d is %s of %d, reference %s of %d", i, got[i].Name, len(got[i].Data), want[i].Name, len(want[i].Data))
		}
		var scale float64
		for j, w := range want[i].Data {
			scale = math.Max(scale, math.Abs(f(i, j, w)))
		}
		for j := range want[i].Data {
			g, w := f(i, j, got[i].Data[j]), f(i, j, want[i].Data[j])
			if !near(g, w, scale) {
				t.Errorf("%s %s[%d]: %.9g, reference %.9g", what, want[i].Name, j, g, w)
				break
			}
		}
	}
}

func prompts() [][]int {
	enc := tokenizer.Byte{}
	var out [][]int
	for _, s := range []string{"Human: 2+2=?\nAssistant:", "ab", "The quick brown fox"} {
		out = append(out, append([]int{tokenizer.BOS}, enc.Encode(s)...))
	}
	return out
}

func checkGreedy(t *testing.T, newEngine Factory, p *model.Params) {
	cfg := core.SampleConfig{MaxNew: 8}
	want, err := reference(t, p, optim.DefaultConfig()).Sample(context.Background(), prompts(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := build(t, newEngine, p, optim.DefaultConfig()).Sample(context.Background(), prompts(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if fmt.Sprint(got[i].Tokens) != fmt.Sprint(want[i].Tokens) || got[i].Stopped != want[i].Stopped {
			t.Errorf("greedy completion %d: %v (stopped %v), reference %v (stopped %v)", i, got[i].Tokens, got[i].Stopped, want[i].Tokens, want[i].Stopped)
			continue
		}
		for j := range want[i].LogProbs {
			if !near(float64(got[i].LogProbs[j]), float64(want[i].LogProbs[j]), 1) {
				t.Errorf("greedy completion %d token %d: log-prob %v, reference %v", i, j, got[i].LogProbs[j], want[i].LogProbs[j])
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := build(t, newEngine, p, optim.DefaultConfig()).Sample(ctx, prompts(), cfg); !errors.Is(err, context.Canceled) {
		t.Errorf("Sample with a cancelled context: err %v, want context.Canceled", err)
	}
}

func checkSnapshot(t *testing.T, newEngine Factory, p *model.Params, seqs []core.Sequence) {
	e := build(t, newEngine, p, optim.DefaultConfig())
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	before, err := snap.Score(seqs, core.ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	step(t, e, seqs)
	after, err := snap.Score(seqs, core.ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before.LogP) != fmt.Sprint(after.LogP) {
		t.Error("a snapshot's log-probs changed when the engine trained")
	}
	moved, err := e.Score(seqs, core.ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(moved.LogP) == fmt.Sprint(after.LogP) {
		t.Error("the engine's log-probs did not change with a step")
	}
	if _, err := snap.Step(); err == nil {
		t.Error("a snapshot took an optimiser step")
	}
}

func checkState(t *testing.T, newEngine Factory, p *model.Params, seqs []core.Sequence) {
	oc := optim.DefaultConfig()
	a := build(t, newEngine, p, oc)
	step(t, a, seqs)
	ts, meta, err := a.State()
	if err != nil {
		t.Fatal(err)
	}
	// Copies: the state may share the engine's arrays.
	saved := make([]core.Tensor, len(ts))
	for i, x := range ts {
		saved[i] = core.Tensor{Name: x.Name, Shape: x.Shape, Data: append([]float32(nil), x.Data...)}
	}
	b := build(t, newEngine, p, oc)
	if err := b.SetState(saved, meta); err != nil {
		t.Fatal(err)
	}
	wa, wb := step(t, a, seqs), step(t, b, seqs)
	for i := range wa {
		if fmt.Sprint(wa[i].Data) != fmt.Sprint(wb[i].Data) {
			t.Errorf("after restoring the state, the next step differs in %s", wa[i].Name)
			break
		}
	}
	if err := b.SetState(saved[1:], meta); err == nil {
		t.Error("SetState accepted a state with a tensor missing")
	}
}

func checkMisuse(t *testing.T, newEngine Factory, p *model.Params, seqs []core.Sequence) {
	e := build(t, newEngine, p, optim.DefaultConfig())
	if err := e.Backward([][]float64{{1}}, nil); err == nil {
		t.Error("Backward without LogProbs succeeded")
	}
	if _, err := e.Step(); err == nil {
		t.Error("Step without Backward succeeded")
	}
	f, err := e.LogProbs(seqs, core.ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Backward(zeros(f.LogP)[1:], nil); err == nil {
		t.Error("Backward with a sequence's gradient missing succeeded")
	}
	// A discarded pass leaves no gradient behind.
	if _, err := e.LogProbs(seqs, core.ForwardOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Backward(nil, nil); err != nil {
		t.Fatalf("discarding the pending pass: %v", err)
	}
	if _, err := e.Step(); err == nil {
		t.Error("Step after a discarded pass succeeded")
	}
	bad := []core.Sequence{{Tokens: []int{tokenizer.BOS, p.Config.VocabSize}, Start: 1}}
	if _, err := e.LogProbs(bad, core.ForwardOptions{}); err == nil {
		t.Error("LogProbs accepted a token outside the vocabulary")
	}
	if _, err := e.Score(bad, core.ForwardOptions{}); err == nil {
		t.Error("Score accepted a token outside the vocabulary")
	}
	if _, err := e.LogProbs(seqs, core.ForwardOptions{Temperature: -1}); err == nil {
		t.Error("LogProbs accepted temperature −1")
	}
}
