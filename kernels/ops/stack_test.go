package ops

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// stackConfig describes a small GPT-2-style model used to test the ops
// together (and to benchmark them).
type stackConfig struct {
	vocab, d, nHead, layers, batch, seq, positions int
}

// stack is one built model graph.
type stack struct {
	cost, logProbs *G.Node
	params         []*G.Node
	ids, targets   *Index
}

// buildStack builds Embed → [LayerNorm → Linear → Attention → Linear → +res
// → LayerNorm → Linear → GELU → Linear → +res]×layers → LayerNorm →
// MatMulNT(wte) → LogProbs → Loss. wte is used twice (input embedding and
// tied LM head), so its gradient is the sum of two contributions. Weights
// come from a seeded RNG; the loss is a non-linear function of the
// log-probs so its gradient is not constant.
func buildStack(g *G.ExprGraph, dt tensor.Dtype, c stackConfig, seed uint64) (*stack, error) {
	r := rng(seed)
	s := &stack{ids: &Index{}, targets: &Index{}}
	param := func(name string, scale float64, shape ...int) *G.Node {
		n := 1
		for _, v := range shape {
			n *= v
		}
		p := input(g, dt, name, randData(r, n, scale), shape...)
		s.params = append(s.params, p)
		return p
	}
	ones := func(name string, n int) *G.Node {
		data := randData(r, n, 0.1)
		for i := range data {
			data[i]++
		}
		p := input(g, dt, name, data, n)
		s.params = append(s.params, p)
		return p
	}
	d := c.d
	wte := param("wte", 0.5, c.vocab, d)
	wpe := param("wpe", 0.5, c.positions, d)
	h, err := Embed(wte, wpe, s.ids, c.batch, c.seq)
	if err != nil {
		return nil, err
	}
	must := func(n *G.Node, e error) *G.Node {
		if e != nil && err == nil {
			err = e
		}
		return n
	}
	for l := 0; l < c.layers; l++ {
		p := fmt.Sprintf("h%d.", l)
		x := must(LayerNorm(h, ones(p+"ln1.g", d), param(p+"ln1.b", 0.1, d), 1e-5))
		qkv := must(Linear(x, param(p+"attn.w", 0.4, d, 3*d), param(p+"attn.b", 0.1, 3*d)))
		a := must(Attention(qkv, c.batch, c.seq, c.nHead))
		a = must(Linear(a, param(p+"proj.w", 0.4, d, d), param(p+"proj.b", 0.1, d)))
		h = must(G.Add(h, a))
		x = must(LayerNorm(h, ones(p+"ln2.g", d), param(p+"ln2.b", 0.1, d), 1e-5))
		m := must(Linear(x, param(p+"fc.w", 0.4, d, 4*d), param(p+"fc.b", 0.1, 4*d)))
		m = must(GELU(m))
		m = must(Linear(m, param(p+"mproj.w", 0.2, 4*d, d), param(p+"mproj.b", 0.1, d)))
		h = must(G.Add(h, m))
	}
	h = must(LayerNorm(h, ones("lnf.g", d), param("lnf.b", 0.1, d), 1e-5))
	logits := must(MatMulNT(h, wte))
	s.logProbs = must(LogProbs(logits, s.targets))
	if err != nil {
		return nil, err
	}
	// L = -mean(lp) + 0.05·mean(lp²) over counted positions.
	s.cost, err = Loss("nll+sq", func(in, gr [][]float64) float64 {
		var l float64
		n := float64(len(in[0]))
		for i, v := range in[0] {
			l += -v/n + 0.05*v*v/n
			gr[0][i] = -1/n + 0.1*v/n
		}
		return l
	}, s.logProbs)
	return s, err
}

// fill sets ids and targets for a batch from a seed: targets are the next
// id (language modelling), the last position of each sequence is ignored.
func (s *stack) fill(c stackConfig, seed uint64) {
	r := rng(seed)
	n := c.batch * c.seq
	s.ids.IDs = make([]int, n)
	s.targets.IDs = make([]int, n)
	for i := range s.ids.IDs {
		s.ids.IDs[i] = r.IntN(c.vocab)
	}
	for i := range s.targets.IDs {
		if (i+1)%c.seq == 0 {
			s.targets.IDs[i] = -1
		} else {
			s.targets.IDs[i] = s.ids.IDs[i+1]
		}
	}
}

var tinyStack = stackConfig{vocab: 7, d: 6, nHead: 2, layers: 1, batch: 2, seq: 3, positions: 4}

func TestStackGradients(t *testing.T) {
	c := graphCase{name: "stack", build: func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
		s, err := buildStack(g, dt, tinyStack, 1)
		if err != nil {
			return nil, nil, err
		}
		s.fill(tinyStack, 2)
		return s.cost, s.params, nil
	}}
	for _, m := range []mode{symbolic, dual} {
		t.Run(m.String(), func(t *testing.T) { checkGradients(t, c, m) })
	}
}

// run is one evaluation's results, copied out of the graph.
type run1 struct {
	cost     float64
	logProbs []float64
	grads    [][]float64
}

// freshRun builds a new graph, fills it with batch seed bs and runs it once.
func freshRun(t *testing.T, c stackConfig, bs uint64) run1 {
	t.Helper()
	g := G.NewGraph()
	s, err := buildStack(g, tensor.Float64, c, 1)
	if err != nil {
		t.Fatal(err)
	}
	s.fill(c, bs)
	if _, err := G.Grad(s.cost, s.params...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(s.params...))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return collect(t, s)
}

func collect(t *testing.T, s *stack) run1 {
	t.Helper()
	out := run1{cost: s.cost.Value().Data().(float64), logProbs: values(s.logProbs.Value())}
	for _, p := range s.params {
		gv, err := p.Grad()
		if err != nil {
			t.Fatal(err)
		}
		out.grads = append(out.grads, values(gv))
	}
	return out
}

func sameRun(t *testing.T, what string, got, want run1) {
	t.Helper()
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12+1e-9*math.Abs(b) }
	if !close(got.cost, want.cost) {
		t.Fatalf("%s: cost %v, want %v", what, got.cost, want.cost)
	}
	for i := range want.logProbs {
		if !close(got.logProbs[i], want.logProbs[i]) {
			t.Fatalf("%s: logProbs[%d] %v, want %v", what, i, got.logProbs[i], want.logProbs[i])
		}
	}
	for p := range want.grads {
		for i := range want.grads[p] {
			if !close(got.grads[p][i], want.grads[p][i]) {
				t.Fatalf("%s: grad %d[%d] %v, want %v", what, p, i, got.grads[p][i], want.grads[p][i])
			}
		}
	}
}

// TestMachineReuse runs one machine several times with different Index
// contents (the training loop's pattern: fill → RunAll → read → Reset) and
// compares every result with a freshly built graph: buffers reused across
// runs must not leak values from one run into the next.
func TestMachineReuse(t *testing.T) {
	c := stackConfig{vocab: 11, d: 8, nHead: 2, layers: 2, batch: 3, seq: 5, positions: 6}
	g := G.NewGraph()
	s, err := buildStack(g, tensor.Float64, c, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(s.cost, s.params...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(s.params...))
	defer vm.Close()
	for step, bs := range []uint64{10, 11, 10, 12} {
		s.fill(c, bs)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		sameRun(t, fmt.Sprintf("step %d (batch %d)", step, bs), collect(t, s), freshRun(t, c, bs))
		// BindDualValues accumulates into the parameters' gradients across
		// runs (useful for micro-batches); like gorgonia's solvers, zero
		// them after use.
		for _, p := range s.params {
			gv, _ := p.Grad()
			gv.(tensor.Tensor).Zero()
		}
		vm.Reset()
	}
}

// TestFloat32MatchesFloat64 compares the forward pass in both precisions.
func TestFloat32MatchesFloat64(t *testing.T) {
	c := stackConfig{vocab: 50, d: 32, nHead: 4, layers: 2, batch: 2, seq: 8, positions: 8}
	var lps [2][]float64
	for k, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := G.NewGraph()
		s, err := buildStack(g, dt, c, 3)
		if err != nil {
			t.Fatal(err)
		}
		s.fill(c, 4)
		vm := G.NewTapeMachine(g)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		switch v := s.logProbs.Value().Data().(type) {
		case []float64:
			lps[k] = append([]float64(nil), v...)
		case []float32:
			for _, x := range v {
				lps[k] = append(lps[k], float64(x))
			}
		}
		vm.Close()
	}
	for i, want := range lps[0] {
		if got := lps[1][i]; math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Fatalf("logProbs[%d]: float32 %v, float64 %v", i, got, want)
		}
	}
}
