package ops

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/grao-lab/grao/kernels"
)

// moeCase builds x → router logits (x·Wg) → MoE, with a weighted sum of
// the output plus the router losses as the cost, so the gates, the
// experts, x (through both paths) and Wg (through the gates and the
// auxiliary losses) all carry gradient.
func moeCase(name string, n, d, e, k, h int, wBal, wZ float64, mask []bool) graphCase {
	return graphCase{name, func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
		r := rng(uint64(31 + e*7 + k))
		x := input(g, dt, "x", randData(r, n*d, 1), n, d)
		wg := input(g, dt, "wg", randData(r, d*e, 1.5), d, e)
		wrt := []*G.Node{x, wg}
		var ex []*G.Node
		for i := 0; i < e; i++ {
			ex = append(ex,
				input(g, dt, "w1", randData(r, d*h, 0.7), d, h),
				input(g, dt, "b1", randData(r, h, 0.3), h),
				input(g, dt, "w2", randData(r, h*d, 0.7), h, d),
				input(g, dt, "b2", randData(r, d, 0.3), d))
		}
		wrt = append(wrt, ex...)
		logits, err := MatMul(x, wg, false, false)
		if err != nil {
			return nil, nil, err
		}
		y, err := MoE(x, logits, ex, k)
		if err != nil {
			return nil, nil, err
		}
		c, err := Loss("wsum", weightedSum(randData(rng(99), n*d, 1)), y)
		if err != nil {
			return nil, nil, err
		}
		var mp *[]bool
		if mask != nil {
			mp = &mask
		}
		aux, err := RouterLoss([]*G.Node{logits}, k, wBal, wZ, mp, nil)
		if err != nil {
			return nil, nil, err
		}
		c, err = G.Add(c, aux)
		return c, wrt, err
	}}
}

func TestMoEGradients(t *testing.T) {
	for _, c := range []graphCase{
		moeCase("E4k2", 6, 5, 4, 2, 3, 0.5, 0.1, nil),
		moeCase("E3k1(switch)", 5, 4, 3, 1, 6, 1, 0, nil),
		moeCase("E4k4(all)", 4, 3, 4, 4, 2, 0.3, 0.2, nil),
		moeCase("E5k2 masked", 7, 4, 5, 2, 3, 0.7, 0.3, []bool{true, false, true, true, false, true, true}),
	} {
		for _, m := range []mode{symbolic, dual} {
			t.Run(c.name+"/"+m.String(), func(t *testing.T) { checkGradients(t, c, m) })
		}
	}
}

// The float32 op agrees with the float64 one (same routing, rounding
// apart), and a second run of either gives the same bits.
func TestMoEFloat32MatchesFloat64(t *testing.T) {
	c := moeCase("E4k2", 8, 6, 4, 2, 5, 0.5, 0.1, nil)
	run := func(dt tensor.Dtype) []float64 {
		g := G.NewGraph()
		cost, wrt, err := c.build(g, dt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := G.Grad(cost, wrt...); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g, G.BindDualValues(wrt...))
		defer vm.Close()
		var first []float64
		for rep := 0; rep < 2; rep++ {
			for _, n := range wrt { // the machine accumulates into them
				if gv, err := n.Grad(); err == nil {
					if t, ok := gv.(tensor.Tensor); ok {
						t.Zero()
					}
				}
			}
			vm.Reset()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			var out []float64
			out = append(out, scalarOf(cost.Value()))
			for _, n := range wrt {
				gv, _ := n.Grad()
				out = append(out, asF64(gv)...)
			}
			if rep == 1 {
				for i := range out {
					if out[i] != first[i] {
						t.Fatalf("%v: run 2 differs at %d: %v vs %v", dt, i, out[i], first[i])
					}
				}
			}
			first = out
		}
		return first
	}
	a, b := run(tensor.Float32), run(tensor.Float64)
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-4+1e-4*math.Abs(b[i]) {
			t.Fatalf("element %d: float32 %v, float64 %v", i, a[i], b[i])
		}
	}
}

func scalarOf(v G.Value) float64 {
	switch x := v.Data().(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

func asF64(v G.Value) []float64 {
	switch x := v.Data().(type) {
	case []float32:
		out := make([]float64, len(x))
		for i, f := range x {
			out[i] = float64(f)
		}
		return out
	case []float64:
		return append([]float64(nil), x...)
	}
	return nil
}

// Reference: every row through all experts, densely, mixed by the gates.
func TestMoEForwardMatchesDense(t *testing.T) {
	const n, d, e, k, h = 5, 4, 3, 2, 6
	r := rng(7)
	x, lg := randData(r, n*d, 1), randData(r, n*e, 1)
	var w1, b1, w2, b2 [][]float64
	for i := 0; i < e; i++ {
		w1 = append(w1, randData(r, d*h, 1))
		b1 = append(b1, randData(r, h, 1))
		w2 = append(w2, randData(r, h*d, 1))
		b2 = append(b2, randData(r, d, 1))
	}
	var m kernels.MoE[float64]
	y := make([]float64, n*d)
	m.Forward(y, x, lg, w1, b1, w2, b2, n, d, e, k, h)
	for i := 0; i < n; i++ {
		row := lg[i*e : (i+1)*e]
		// top-2 by brute force, and the softmax over them
		a, b := 0, 1
		if row[b] > row[a] {
			a, b = b, a
		}
		for j := 2; j < e; j++ {
			if row[j] > row[a] {
				a, b = j, a
			} else if row[j] > row[b] {
				b = j
			}
		}
		ga := 1 / (1 + math.Exp(row[b]-row[a]))
		for j := 0; j < d; j++ {
			want := ga*expert(x[i*d:(i+1)*d], w1[a], b1[a], w2[a], b2[a], h)[j] +
				(1-ga)*expert(x[i*d:(i+1)*d], w1[b], b1[b], w2[b], b2[b], h)[j]
			if got := y[i*d+j]; math.Abs(got-want) > 1e-12 {
				t.Fatalf("y[%d,%d] = %v, want %v", i, j, got, want)
			}
		}
	}
}

func expert(x, w1, b1, w2, b2 []float64, h int) []float64 {
	d := len(x)
	u := make([]float64, h)
	for j := range u {
		s := b1[j]
		for i, v := range x {
			s += v * w1[i*h+j]
		}
		u[j] = s / (1 + math.Exp(-2*0.7978845608028654*(s+0.044715*s*s*s)))
	}
	y := make([]float64, d)
	for j := range y {
		s := b2[j]
		for i, v := range u {
			s += v * w2[i*d+j]
		}
		y[j] = s
	}
	return y
}

func TestMoERouteTies(t *testing.T) {
	for _, c := range []struct {
		name   string
		logits []float64
		k      int
		want   []int
	}{
		{"all equal", []float64{1, 1, 1, 1}, 2, []int{0, 1}},
		{"tie for second", []float64{0, 2, 1, 1}, 2, []int{1, 2}},
		{"tie for first", []float64{3, 1, 3, 0}, 1, []int{0}},
		{"descending order", []float64{-1, 5, 2, 7, 3}, 3, []int{3, 1, 4}},
		{"k = E", []float64{2, 2, 1}, 3, []int{0, 1, 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sel := make([]int, c.k)
			gate := make([]float64, c.k)
			kernels.MoERoute(sel, gate, c.logits, 1, len(c.logits), c.k)
			var sum float64
			for j, s := range sel {
				if s != c.want[j] {
					t.Fatalf("selected %v, want %v", sel, c.want)
				}
				sum += gate[j]
			}
			if math.Abs(sum-1) > 1e-15 {
				t.Fatalf("gates %v sum to %v", gate, sum)
			}
		})
	}
}

func TestRouterLossesValues(t *testing.T) {
	for _, c := range []struct {
		name     string
		logits   []float64
		mask     []bool
		e, k     int
		balance  float64
		frac     []float64
		zAtLeast float64
	}{
		// uniform probabilities and uniform routing: the minimum, 1
		{"uniform", []float64{0, 5, 5, 0}, nil, 2, 1, 1, []float64{0.5, 0.5}, 0},
		// every row to expert 0 with probability → 1: the maximum, E
		{"collapsed", []float64{40, 0, 0, 40, 0, 0}, nil, 3, 1, 3, []float64{1, 0, 0}, 1599},
		// the masked row would unbalance it
		{"masked", []float64{9, 0, 0, 9, 0, 9}, []bool{true, true, false}, 2, 1, 1, []float64{0.5, 0.5}, 80},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := len(c.logits) / c.e
			s := kernels.MoERouterLosses(nil, c.logits, c.mask, n, c.e, c.k, 1, 1)
			if math.Abs(s.Balance-c.balance) > 2e-3*c.balance {
				t.Errorf("balance %v, want ≈ %v", s.Balance, c.balance)
			}
			for i, f := range c.frac {
				if s.Frac[i] != f {
					t.Errorf("frac %v, want %v", s.Frac, c.frac)
				}
			}
			if s.Z < c.zAtLeast {
				t.Errorf("z %v, want ≥ %v", s.Z, c.zAtLeast)
			}
		})
	}
}
