package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rng returns a seeded PCG generator (every test is deterministic).
func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 42)) }

func randData(r *rand.Rand, n int, scale float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = (2*r.Float64() - 1) * scale
	}
	return s
}

// input adds a named tensor input of the given dtype, shape and values
// (converted to float32 when dt is Float32).
func input(g *G.ExprGraph, dt tensor.Dtype, name string, data []float64, shape ...int) *G.Node {
	var t *tensor.Dense
	if dt == tensor.Float32 {
		s := make([]float32, len(data))
		for i, v := range data {
			s[i] = float32(v)
		}
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(s))
	} else {
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), data...)))
	}
	return G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
}

// weightedSum is a LossFunc Σ w·x over one input: every output element gets
// a distinct random weight, so a gradient routed to the wrong element shows.
func weightedSum(w []float64) LossFunc {
	return func(in, gr [][]float64) float64 {
		var s float64
		for i, x := range in[0] {
			s += w[i] * x
			gr[0][i] = w[i]
		}
		return s
	}
}

// graphCase builds a graph for a float64 finite-difference check: it
// returns the scalar cost and the inputs to differentiate.
type graphCase struct {
	name  string
	build func(g *G.ExprGraph, dt tensor.Dtype) (cost *G.Node, wrt []*G.Node, err error)
}

// mode selects how gradients are obtained.
type mode int

const (
	symbolic mode = iota // G.Grad + plain TapeMachine, read the gradient nodes' values
	dual                 // G.Grad + TapeMachine with BindDualValues, read node.Grad()
)

func (m mode) String() string { return [...]string{"Grad", "BindDualValues"}[m] }

// gradients builds c in a fresh graph, runs it once and returns the cost,
// the gradient of every wrt input and a function that re-evaluates the cost.
func gradients(t *testing.T, c graphCase, m mode) (wrt []*G.Node, grads [][]float64, eval func() float64) {
	t.Helper()
	g := G.NewGraph()
	cost, wrt, err := c.build(g, tensor.Float64)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	var gnodes G.Nodes
	var vm G.VM
	if gnodes, err = G.Grad(cost, wrt...); err != nil {
		t.Fatalf("Grad: %v", err)
	}
	if m == symbolic {
		vm = G.NewTapeMachine(g)
	} else {
		vm = G.NewTapeMachine(g, G.BindDualValues(wrt...))
	}
	t.Cleanup(func() { vm.Close() })
	eval = func() float64 {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatalf("RunAll: %v", err)
		}
		return cost.Value().Data().(float64)
	}
	eval()
	for i, n := range wrt {
		var v G.Value
		if m == symbolic {
			v = gnodes[i].Value()
		} else if v, err = n.Grad(); err != nil {
			t.Fatalf("Grad of %v: %v", n, err)
		}
		grads = append(grads, values(v))
	}
	return wrt, grads, eval
}

// values returns a copy of a float64 value's elements (one for a scalar).
func values(v G.Value) []float64 {
	switch d := v.Data().(type) {
	case float64:
		return []float64{d}
	case []float64:
		return append([]float64(nil), d...)
	}
	panic(fmt.Sprintf("unexpected value %T", v.Data()))
}

// checkGradients compares each gradient with central finite differences of
// the cost, perturbing the inputs' values in place.
func checkGradients(t *testing.T, c graphCase, m mode) {
	t.Helper()
	wrt, grads, eval := gradients(t, c, m)
	const h = 1e-6
	for i, n := range wrt {
		x := values(n.Value())
		set := func(j int, v float64) {
			if n.IsScalar() {
				// A scalar's value is not a slice: rebind it.
				if err := G.Let(n, v); err != nil {
					t.Fatal(err)
				}
				return
			}
			n.Value().Data().([]float64)[j] = v // the bound tensor's backing
		}
		for j := range x {
			old := x[j]
			set(j, old+h)
			lp := eval()
			set(j, old-h)
			lm := eval()
			set(j, old)
			num := (lp - lm) / (2 * h)
			if got := grads[i][j]; math.Abs(got-num) > 1e-6+1e-5*math.Abs(num) {
				t.Fatalf("%s: d/d%s[%d] = %.10g, finite difference %.10g", m, n.Name(), j, got, num)
			}
		}
	}
}

// opCases exercise every op alone (plus the gradients' own matmul forms).
func opCases() []graphCase {
	sum := func(y *G.Node, seed uint64) (*G.Node, error) {
		return Loss("wsum", weightedSum(randData(rng(seed), y.Shape().TotalSize(), 1)), y)
	}
	return []graphCase{
		{"Linear", func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			r := rng(1)
			x := input(g, dt, "x", randData(r, 4*5, 1), 4, 5)
			w := input(g, dt, "w", randData(r, 5*3, 1), 5, 3)
			b := input(g, dt, "b", randData(r, 3, 1), 3)
			y, err := Linear(x, w, b)
			if err != nil {
				return nil, nil, err
			}
			c, err := sum(y, 2)
			return c, []*G.Node{x, w, b}, err
		}},
		{"MatMulNT", func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			r := rng(3)
			x := input(g, dt, "x", randData(r, 3*4, 1), 3, 4)
			w := input(g, dt, "w", randData(r, 6*4, 1), 6, 4)
			y, err := MatMulNT(x, w)
			if err != nil {
				return nil, nil, err
			}
			c, err := sum(y, 4)
			return c, []*G.Node{x, w}, err
		}},
		{"MatMulTN", func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			r := rng(5)
			a := input(g, dt, "a", randData(r, 4*3, 1), 4, 3)
			b := input(g, dt, "b", randData(r, 4*2, 1), 4, 2)
			y, err := MatMul(a, b, true, false)
			if err != nil {
				return nil, nil, err
			}
			c, err := sum(y, 6)
			return c, []*G.Node{a, b}, err
		}},
		{"MatMulTT", func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			r := rng(7)
			a := input(g, dt, "a", randData(r, 4*3, 1), 4, 3)
			b := input(g, dt, "b", randData(r, 2*4, 1), 2, 4)
			y, err := MatMul(a, b, true, true)
			if err != nil {
				return nil, nil, err
			}
			c, err := sum(y, 8)
			return c, []*G.Node{a, b}, err
		}},
		{"LayerNorm", func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			r := rng(9)
			x := input(g, dt, "x", randData(r, 3*7, 2), 3, 7)
			gain := input(g, dt, "g", randData(r, 7, 1.5), 7)
			b := input(g, dt, "b", randData(r, 7, 1), 7)
			y, err := LayerNorm(x, gain, b, 1e-5)
			if err != nil {
				return nil, nil, err
			}
			c, err := sum(y, 10)
			return c, []*G.Node{x, gain, b}, err
		}},
		{"GELU", func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			x := input(g, dt, "x", randData(rng(11), 2*3*2, 4), 2, 3, 2)
			y, err := GELU(x)
			if err != nil {
				return nil, nil, err
			}
			c, err := sum(y, 12)
			return c, []*G.Node{x}, err
		}},
		{"Add", func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			r := rng(21)
			x := input(g, dt, "x", randData(r, 3*4, 1), 3, 4)
			h := input(g, dt, "h", randData(r, 3*4, 1), 3, 4)
			// x feeds both Add and GELU, as the residual stream feeds a
			// block and the skip connection: its gradient is accumulated.
			gx, err := GELU(x)
			if err != nil {
				return nil, nil, err
			}
			y, err := Add(x, h)
			if err != nil {
				return nil, nil, err
			}
			if y, err = Add(y, gx); err != nil {
				return nil, nil, err
			}
			c, err := sum(y, 22)
			return c, []*G.Node{x, h}, err
		}},
		{"Attention", func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			qkv := input(g, dt, "qkv", randData(rng(13), 2*3*18, 1.5), 2*3, 18) // b=2 t=3 d=6 h=2
			y, err := Attention(qkv, 2, 3, 2)
			if err != nil {
				return nil, nil, err
			}
			c, err := sum(y, 14)
			return c, []*G.Node{qkv}, err
		}},
		{"Embed", func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			r := rng(15)
			wte := input(g, dt, "wte", randData(r, 5*4, 1), 5, 4)
			wpe := input(g, dt, "wpe", randData(r, 4*4, 1), 4, 4) // more positions than seq
			y, err := Embed(wte, wpe, &Index{IDs: []int{1, 3, 3, 0, 4, 1}}, 2, 3)
			if err != nil {
				return nil, nil, err
			}
			c, err := sum(y, 16)
			return c, []*G.Node{wte, wpe}, err
		}},
		{"LogProbs", func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			logits := input(g, dt, "logits", randData(rng(17), 4*6, 3), 4, 6)
			y, err := LogProbs(logits, &Index{IDs: []int{5, -1, 0, 2}})
			if err != nil {
				return nil, nil, err
			}
			c, err := sum(y, 18)
			return c, []*G.Node{logits}, err
		}},
		{"LogProbsAt(T=0.7)", func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			logits := input(g, dt, "logits", randData(rng(23), 4*6, 3), 4, 6)
			y, err := LogProbsAt(logits, &Index{IDs: []int{5, -1, 0, 2}}, 0.7)
			if err != nil {
				return nil, nil, err
			}
			c, err := sum(y, 24)
			return c, []*G.Node{logits}, err
		}},
		{"Loss(two inputs, scalar)", func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			r := rng(19)
			a := input(g, dt, "a", randData(r, 3, 1), 3)
			b := input(g, dt, "b", randData(r, 2*2, 1), 2, 2)
			s := G.NewScalar(g, dt, G.WithName("s"), G.WithValue(0.7))
			// L = Σa² · s + Π b (a non-linear function of all three inputs).
			fn := func(in, gr [][]float64) float64 {
				var sa, pb float64 = 0, 1
				for _, v := range in[0] {
					sa += v * v
				}
				for _, v := range in[1] {
					pb *= v
				}
				for i, v := range in[0] {
					gr[0][i] = 2 * v * in[2][0]
				}
				for i := range in[1] {
					p := 1.0
					for j, v := range in[1] {
						if j != i {
							p *= v
						}
					}
					gr[1][i] = p
				}
				gr[2][0] = sa
				return sa*in[2][0] + pb
			}
			c, err := Loss("poly", fn, a, b, s)
			// Scale the cost so the upstream gradient of the loss is not 1.
			if err == nil {
				c, err = G.Mul(c, G.NewConstant(2.5))
			}
			return c, []*G.Node{a, b, s}, err
		}},
	}
}

func TestOpGradients(t *testing.T) {
	for _, c := range opCases() {
		for _, m := range []mode{symbolic, dual} {
			t.Run(c.name+"/"+m.String(), func(t *testing.T) {
				checkGradients(t, c, m)
			})
		}
	}
}
