package ops

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestConstructionErrors(t *testing.T) {
	g := G.NewGraph()
	dt := tensor.Float64
	m := func(name string, shape ...int) *G.Node {
		n := 1
		for _, v := range shape {
			n *= v
		}
		return input(g, dt, name, make([]float64, n), shape...)
	}
	x, w, b := m("x", 4, 5), m("w", 6, 3), m("b", 3)
	qkv := m("qkv", 6, 12)
	cases := []struct {
		name string
		f    func() (*G.Node, error)
		want string
	}{
		{"linear inner dims", func() (*G.Node, error) { return Linear(x, w, b) }, "inner dimensions differ"},
		{"linear bias", func() (*G.Node, error) { return Linear(x, m("w2", 5, 3), m("b2", 4)) }, "bias has shape (4)"},
		{"matmulNT", func() (*G.Node, error) { return MatMulNT(x, m("w3", 3, 4)) }, "inner dimensions differ"},
		{"layernorm gain", func() (*G.Node, error) { return LayerNorm(x, m("g", 4), m("b3", 5), 1e-5) }, "gain has shape (4)"},
		{"attention heads", func() (*G.Node, error) { return Attention(qkv, 2, 3, 3) }, "multiple of 3 heads"},
		{"attention rows", func() (*G.Node, error) { return Attention(qkv, 2, 2, 2) }, "want (4, 3·d)"},
		{"attention config", func() (*G.Node, error) { return Attention(qkv, 0, 3, 2) }, "must be positive"},
		{"embed positions", func() (*G.Node, error) { return Embed(m("wte", 5, 4), m("wpe", 2, 4), &Index{}, 1, 3) }, "wpe has 2 positions"},
		{"embed nil index", func() (*G.Node, error) { return Embed(m("wte2", 5, 4), m("wpe2", 3, 4), nil, 1, 3) }, "nil *Index"},
		{"logprobs 1-D", func() (*G.Node, error) { return LogProbs(b, &Index{}) }, "logits must be 2-D"},
		{"loss nil fn", func() (*G.Node, error) { return Loss("l", nil, x) }, "nil LossFunc"},
		{"loss no inputs", func() (*G.Node, error) { return Loss("l", weightedSum(nil)) }, "no inputs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.f()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// Wrong Index contents are reported by RunAll, naming the op and the cause.
func TestRunErrors(t *testing.T) {
	cases := []struct {
		name      string
		ids, tgts []int
		want      string
	}{
		{"ids count", []int{1, 2}, []int{0, 0, 0, 0, 0, -1}, "Index has 2 ids, want batch·seq = 6"},
		{"id range", []int{0, 1, 7, 0, 0, 0}, []int{0, 0, 0, 0, 0, -1}, "ids[2] = 7 is outside the vocabulary [0, 7)"},
		{"targets count", []int{0, 0, 0, 0, 0, 0}, []int{0}, "Index has 1 targets for 6 rows"},
		{"target range", []int{0, 0, 0, 0, 0, 0}, []int{0, 9, 0, 0, 0, -1}, "targets[1] = 9 is outside the vocabulary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := G.NewGraph()
			s, err := buildStack(g, tensor.Float32, tinyStack, 1)
			if err != nil {
				t.Fatal(err)
			}
			s.ids.IDs, s.targets.IDs = c.ids, c.tgts
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			if err := vm.RunAll(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// Ops holding different Index pointers must not be merged by gorgonia's
// hash-consing, while identical pure ops may be.
func TestIndexIdentity(t *testing.T) {
	g := G.NewGraph()
	wte := input(g, tensor.Float64, "wte", make([]float64, 20), 5, 4)
	wpe := input(g, tensor.Float64, "wpe", make([]float64, 8), 2, 4)
	a, _ := Embed(wte, wpe, &Index{}, 1, 2)
	b, _ := Embed(wte, wpe, &Index{}, 1, 2)
	if a == b {
		t.Fatal("Embed nodes with different Index were merged")
	}
	la, _ := LogProbs(a, &Index{})
	lb, _ := LogProbs(a, &Index{})
	if la == lb {
		t.Fatal("LogProbs nodes with different Index were merged")
	}
	fa, _ := Loss("x", weightedSum(nil), a)
	fb, _ := Loss("x", weightedSum(nil), a)
	if fa == fb {
		t.Fatal("two Loss nodes were merged")
	}
	ga, _ := GELU(a)
	gb, _ := GELU(a)
	if ga != gb {
		t.Fatal("identical GELU nodes were not merged")
	}
}

// UsePreallocDo writes into a fitting register value and ignores one of
// another shape or dtype (the TapeMachine may offer a register last used by
// a different node).
func TestUsePreallocDo(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{-1, 0, 1, 2, 3, -4}))
	want, err := (&geluOp{dims: 2}).Do(x)
	if err != nil {
		t.Fatal(err)
	}
	wantData := append([]float64(nil), want.Data().([]float64)...)
	cases := []struct {
		name     string
		prealloc *tensor.Dense
		reused   bool
	}{
		{"fits", tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float64)), true},
		{"shape", tensor.New(tensor.WithShape(3, 2), tensor.Of(tensor.Float64)), false},
		{"size", tensor.New(tensor.WithShape(4, 3), tensor.Of(tensor.Float64)), false},
		{"dtype", tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float32)), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := c.prealloc.Clone().(*tensor.Dense)
			got, err := (&geluOp{dims: 2}).UsePreallocDo(c.prealloc, x)
			if err != nil {
				t.Fatal(err)
			}
			if (got == G.Value(c.prealloc)) != c.reused {
				t.Fatalf("reused prealloc = %v, want %v", got == G.Value(c.prealloc), c.reused)
			}
			if !got.Shape().Eq(tensor.Shape{2, 3}) || got.Dtype() != tensor.Float64 {
				t.Fatalf("result %v %v", got.Shape(), got.Dtype())
			}
			for i, v := range got.Data().([]float64) {
				if v != wantData[i] {
					t.Fatalf("result[%d] = %v, want %v", i, v, wantData[i])
				}
			}
			if !c.reused && !before.Eq(c.prealloc) {
				t.Fatal("a prealloc that does not fit was written to")
			}
		})
	}
}
