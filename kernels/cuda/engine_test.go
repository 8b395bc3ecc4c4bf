//go:build grao_cuda

package cuda

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/enginetest"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/tokenizer"
	"github.com/grao-lab/grao/kernels"
)

// These tests need a GPU (see cuda_test.go); scripts/gpu-check.sh builds
// them here and runs them there.

func openEngine(t testing.TB, p *model.Params, oc optim.Config) *Engine {
	t.Helper()
	e, err := New(p, oc)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestEngineConformance is the suite every engine passes against the CPU
// reference.
func TestEngineConformance(t *testing.T) {
	var engines []*Engine
	t.Cleanup(func() {
		for _, e := range engines {
			e.Close()
		}
	})
	enginetest.Run(t, func(p *model.Params, oc optim.Config) (core.Engine, error) {
		e, err := New(p, oc)
		if err != nil {
			return nil, err
		}
		engines = append(engines, e)
		t.Log(e.Device())
		return e, nil
	})
}

// Sampling at a temperature, with top-k and top-p, draws the CPU engine's
// tokens: the logits agree to float32 rounding and the draws use the same
// streams and rules, so only a near-tie could differ.
func TestEngineSamplesLikeCPU(t *testing.T) {
	p, err := model.Init(enginetest.Config(), 11)
	if err != nil {
		t.Fatal(err)
	}
	prompts := [][]int{{tokenizer.BOS, 'a', 'b'}, {tokenizer.BOS}, {tokenizer.BOS, 'x', 'y', 'z', 'w'}}
	cfg := core.SampleConfig{Temperature: 0.8, TopK: 20, TopP: 0.9, MaxNew: 12, Seed: 5, Block: 2}
	want, err := model.NewFrozen(p.Clone()).Sample(context.Background(), prompts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := openEngine(t, p.Clone(), optim.DefaultConfig())
	got, err := e.Sample(context.Background(), prompts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if len(got[i].Tokens) != len(want[i].Tokens) {
			t.Errorf("row %d: %v, CPU %v", i, got[i].Tokens, want[i].Tokens)
			continue
		}
		for j := range want[i].Tokens {
			if got[i].Tokens[j] != want[i].Tokens[j] || math.Abs(float64(got[i].LogProbs[j]-want[i].LogProbs[j])) > 1e-4 {
				t.Errorf("row %d token %d: %d (%v), CPU %d (%v)", i, j, got[i].Tokens[j], got[i].LogProbs[j], want[i].Tokens[j], want[i].LogProbs[j])
				break
			}
		}
	}
}

// ParamsOf reads the engine's weights back through ModelConfig.
func TestEngineParamsOf(t *testing.T) {
	p, err := model.Init(enginetest.Config(), 12)
	if err != nil {
		t.Fatal(err)
	}
	q, err := model.ParamsOf(openEngine(t, p.Clone(), optim.DefaultConfig()))
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range p.All() {
		for j, x := range w.Data {
			if q.All()[i].Data[j] != x {
				t.Fatalf("%s[%d] = %v after the round trip, want %v", w.Name, j, q.All()[i].Data[j], x)
			}
		}
	}
}

// kernelEngine is a minimal engine whose device runs single kernels.
func kernelEngine(t *testing.T) *Engine {
	p, err := model.Init(model.Config{VocabSize: 8, DModel: 4, NLayer: 1, NHead: 1, Context: 4, LNEps: 1e-5}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return openEngine(t, p, optim.DefaultConfig())
}

func randn(rng *rand.Rand, n int, scale float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64()*scale + 0.1)
	}
	return out
}

// alloc copies host arrays to fresh device buffers (freed with the test).
func alloc(t *testing.T, e *Engine, q *queue, xs ...[]float32) []ptr {
	var ar arena
	var size int64
	for _, x := range xs {
		size += (4*int64(len(x)) + 255) &^ 255
	}
	ar.reserve(q, size+256)
	t.Cleanup(func() { e.dev.ctx.Do(func() error { ar.free(); return nil }) })
	out := make([]ptr, len(xs))
	for i, x := range xs {
		out[i] = ar.take(4 * int64(len(x)))
		toDevice(q, out[i], x)
	}
	return out
}

func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > tol*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("%s[%d] = %v, Go kernel %v", what, i, got[i], want[i])
		}
	}
}

// Layer norm forward and backward (dx, dg, db) agree with package
// kernels on random rows.
func TestKernelLayerNorm(t *testing.T) {
	e := kernelEngine(t)
	rng := rand.New(rand.NewPCG(1, 1))
	const n, d, eps = 37, 300, 1e-5
	x, g, b, dy := randn(rng, n*d, 2), randn(rng, d, 1), randn(rng, d, 1), randn(rng, n*d, 1)
	wantY, wantDX, wantDG, wantDB := make([]float32, n*d), make([]float32, n*d), make([]float32, d), make([]float32, d)
	kernels.LayerNorm(wantY, x, g, b, n, d, eps, nil, nil)
	kernels.LayerNormBackward(wantDX, wantDG, wantDB, dy, x, g, n, d, eps)
	y, dx, dgb := make([]float32, n*d), make([]float32, n*d), make([]float32, 2*d)
	err := e.dev.do(func(q *queue) {
		p := alloc(t, e, q, x, g, b, dy, y, dx, dgb, make([]float32, 2*n*d))
		dX, dG, dB, dDY, dYo, dDX, dDGB, prod := p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
		q.zero(dDGB, 2*d)
		q.rows(kLayerNormFwd, n, dYo, dX, dG, dB, n, d, float64(eps))
		q.rows(kLayerNormBwd, n, dDX, prod, dDY, dX, dG, n, d, float64(eps), 0)
		e.colSum(q, dDGB, prod, n, 2*d) // the gain's gradient, then the bias's
		toHost(q, y, dYo)
		toHost(q, dx, dDX)
		toHost(q, dgb, dDGB)
	})
	dg, db := dgb[:d], dgb[d:]
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "y", y, wantY, 1e-5)
	closeTo(t, "dx", dx, wantDX, 1e-4)
	closeTo(t, "dg", dg, wantDG, 1e-4)
	closeTo(t, "db", db, wantDB, 1e-4)
}

// GELU forward and backward agree with package kernels.
func TestKernelGELU(t *testing.T) {
	e := kernelEngine(t)
	rng := rand.New(rand.NewPCG(2, 2))
	const n = 10000
	x, dy := randn(rng, n, 3), randn(rng, n, 1)
	wantY, wantDX := make([]float32, n), make([]float32, n)
	kernels.GELU(wantY, x)
	kernels.GELUBackward(wantDX, dy, x)
	y, dx := make([]float32, n), make([]float32, n)
	err := e.dev.do(func(q *queue) {
		p := alloc(t, e, q, x, dy, y, dx)
		q.elems(kGELUFwd, n, p[2], p[0], n)
		q.elems(kGELUBwd, n, p[3], p[1], p[0], n)
		toHost(q, y, p[2])
		toHost(q, dx, p[3])
	})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "gelu", y, wantY, 1e-5)
	closeTo(t, "gelu'", dx, wantDX, 1e-5)
}

// Log-softmax-gather at a temperature, its gradient and the entropy agree
// with package kernels, ignored rows included.
func TestKernelLogSoftmax(t *testing.T) {
	e := kernelEngine(t)
	rng := rand.New(rand.NewPCG(3, 3))
	const n, v = 9, 1000
	logits, dy := randn(rng, n*v, 4), randn(rng, n, 1)
	targets := make([]int, n)
	tg32 := make([]float32, n) // int32 bits, copied as 4-byte words
	for i := range targets {
		targets[i] = rng.IntN(v)
		if i == 3 {
			targets[i] = -1
		}
	}
	for _, temp := range []float64{1, 0.7} {
		want, wantD, wantH := make([]float32, n), make([]float32, n*v), make([]float64, n)
		kernels.LogSoftmaxGatherAt(want, logits, targets, n, v, temp)
		kernels.LogSoftmaxGatherAtBackward(wantD, logits, targets, dy, n, v, temp)
		kernels.EntropyAt(wantH, logits, targets, n, v, temp)
		got, gotD, gotH := make([]float32, n), make([]float32, n*v), make([]float64, n)
		ids := make([]int32, n)
		for i, x := range targets {
			ids[i] = int32(x)
		}
		err := e.dev.do(func(q *queue) {
			p := alloc(t, e, q, logits, dy, tg32, got, gotD, make([]float32, 2*n))
			toDevice(q, p[2], ids)
			q.rows(kLogPFwd, n, p[3], p[5], p[0], p[2], n, v, temp)
			q.rows(kLogPBwd, n, p[4], p[0], p[2], p[1], n, v, temp)
			toHost(q, got, p[3])
			toHost(q, gotD, p[4])
			toHost(q, gotH, p[5])
		})
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "logp", got, want, 1e-5)
		closeTo(t, "dlogits", gotD, wantD, 1e-5)
		for i := range wantH {
			if math.Abs(gotH[i]-wantH[i]) > 1e-9*math.Max(1, wantH[i]) {
				t.Fatalf("T=%v entropy[%d] = %v, Go kernel %v", temp, i, gotH[i], wantH[i])
			}
		}
	}
}

// embedOrder sorts a batch's positions by token id, in order within an
// id, leaving out padding.
func TestEmbedOrder(t *testing.T) {
	for _, c := range []struct {
		name  string
		ids   []int32
		T     int
		lens  []int
		want  []int32
		nkeys int
	}{
		{"one row", []int32{3, 1, 3}, 3, []int{3}, []int32{1, 3 /* starts */, 0, 1, 3 /* order */, 1, 0, 2}, 2},
		{"padding left out", []int32{2, 0, 0, 0, 2, 5}, 3, []int{1, 3}, []int32{0, 2, 5, 0, 1, 3, 4, 3, 0, 4, 5}, 3},
		{"nothing", []int32{0, 0}, 2, []int{0}, []int32{0}, 0},
	} {
		got, nkeys := embedOrder(c.ids, c.T, c.lens, 6)
		if !slices.Equal(got, c.want) || nkeys != c.nkeys {
			t.Errorf("%s: %v with %d keys, want %v with %d", c.name, got, nkeys, c.want, c.nkeys)
		}
	}
}
