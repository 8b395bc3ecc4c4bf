package ops

import (
	"fmt"
	"hash"
	"unsafe"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/grao-lab/grao/kernels"
)

// LayerNorm normalises each row of x [N,d] and applies the gain g [d] and
// bias b [d] (kernels.LayerNorm).
func LayerNorm(x, g, b *G.Node, eps float64) (*G.Node, error) {
	return G.ApplyOp(&layerNormOp{eps: eps}, x, g, b)
}

type layerNormOp struct {
	opBase
	eps float64
}

func (op *layerNormOp) Arity() int            { return 3 }
func (op *layerNormOp) Type() hm.Type         { return fnType(2, 1, 1, 2) }
func (op *layerNormOp) String() string        { return fmt.Sprintf("grao.LayerNorm{eps=%g}", op.eps) }
func (op *layerNormOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *layerNormOp) Hashcode() uint32      { return hashOf(op) }
func (op *layerNormOp) DiffWRT(n int) []bool  { return []bool{true, true, true} }

func checkLayerNorm(op fmt.Stringer, x, g, b tensor.Shape) error {
	if len(x) != 2 {
		return fmt.Errorf("%v: x must be 2-D [N,d], got shape %v", op, x)
	}
	for _, p := range []struct {
		name string
		s    tensor.Shape
	}{{"gain", g}, {"bias", b}} {
		if len(p.s) != 1 || p.s[0] != x[1] {
			return fmt.Errorf("%v: %s has shape %v, want (%d)", op, p.name, p.s, x[1])
		}
	}
	return nil
}

func (op *layerNormOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 3, ds)
	if err != nil {
		return nil, err
	}
	if err := checkLayerNorm(op, ss[0], ss[1], ss[2]); err != nil {
		return nil, err
	}
	return ss[0].Clone(), nil
}

func (op *layerNormOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *layerNormOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	x := in[0].Shape()
	if err := checkLayerNorm(op, x, in[1].Shape(), in[2].Shape()); err != nil {
		return nil, err
	}
	out := op.out(p, dt, x)
	return run(dt, out, in, layerNormRun[float32](x[0], x[1], op.eps), layerNormRun[float64](x[0], x[1], op.eps))
}

func layerNormRun[T kernels.Float](n, d int, eps float64) func([]T, [][]T) error {
	return func(y []T, in [][]T) error {
		kernels.LayerNorm(y, in[0], in[1], in[2], n, d, eps, nil, nil)
		return nil
	}
}

func (op *layerNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := checkArity(op, len(inputs)); err != nil {
		return nil, err
	}
	x, g := inputs[0], inputs[1]
	out := make(G.Nodes, 3)
	for i := range out {
		var err error
		if out[i], err = G.ApplyOp(&layerNormGradOp{eps: op.eps, wrt: i}, x, g, grad); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// layerNormGradOp computes one of dx, dg, db (wrt = 0, 1, 2) from x, g and
// the upstream gradient. Each recomputes the row statistics, which costs
// O(N·d) and saves threading them through the graph.
type layerNormGradOp struct {
	opBase
	eps float64
	wrt int
}

var lnGradNames = [...]string{"x", "gain", "bias"}

func (op *layerNormGradOp) Arity() int { return 3 }
func (op *layerNormGradOp) Type() hm.Type {
	if op.wrt == 0 {
		return fnType(2, 1, 2, 2)
	}
	return fnType(2, 1, 2, 1)
}
func (op *layerNormGradOp) String() string {
	return fmt.Sprintf("grao.LayerNormGrad{eps=%g,wrt=%s}", op.eps, lnGradNames[op.wrt])
}
func (op *layerNormGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *layerNormGradOp) Hashcode() uint32      { return hashOf(op) }

func (op *layerNormGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 3, ds)
	if err != nil {
		return nil, err
	}
	if !ss[0].Eq(ss[2]) {
		return nil, fmt.Errorf("%v: upstream gradient has shape %v, want %v", op, ss[2], ss[0])
	}
	if op.wrt == 0 {
		return ss[0].Clone(), nil
	}
	return ss[1].Clone(), nil
}

func (op *layerNormGradOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *layerNormGradOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	x := in[0].Shape()
	if err := checkLayerNorm(op, x, in[1].Shape(), in[1].Shape()); err != nil {
		return nil, err
	}
	shape := x
	if op.wrt > 0 {
		shape = in[1].Shape()
	}
	out := op.out(p, dt, shape)
	return run(dt, out, in, layerNormGradRun[float32](op, x[0], x[1]), layerNormGradRun[float64](op, x[0], x[1]))
}

func layerNormGradRun[T kernels.Float](op *layerNormGradOp, n, d int) func([]T, [][]T) error {
	return func(o []T, in [][]T) error {
		var dx, dg, db []T
		switch op.wrt {
		case 0:
			dx = o
		case 1:
			dg = o
		default:
			db = o
		}
		kernels.LayerNormBackward(dx, dg, db, in[2], in[0], in[1], n, d, op.eps)
		return nil
	}
}

// GELU applies gelu_new element-wise (kernels.GELU) to a tensor of any shape.
func GELU(x *G.Node) (*G.Node, error) {
	return G.ApplyOp(&geluOp{dims: x.Dims()}, x)
}

type geluOp struct {
	opBase
	dims int
	// The forward pass keeps gelu'(x) for its gradient op, with the
	// address of the x it was computed from: the gradient uses it only
	// for that same x (else it recomputes), so the cache can never be
	// stale.
	d32 []float32
	d64 []float64
	src unsafe.Pointer
}

func (op *geluOp) Arity() int            { return 1 }
func (op *geluOp) Type() hm.Type         { return fnType(op.dims, op.dims) }
func (op *geluOp) String() string        { return "grao.GELU" }
func (op *geluOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v{%d}", op, op.dims) }
func (op *geluOp) Hashcode() uint32      { return hashOf(op) }
func (op *geluOp) DiffWRT(int) []bool    { return []bool{true} }

func (op *geluOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 1, ds)
	if err != nil {
		return nil, err
	}
	return ss[0].Clone(), nil
}

func (op *geluOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *geluOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	out := op.out(p, dt, in[0].Shape())
	return run(dt, out, in,
		func(y []float32, in [][]float32) error {
			op.d32 = resize(op.d32, len(in[0]))
			kernels.GELUWithDerivative(y, op.d32, in[0])
			op.src = unsafe.Pointer(unsafe.SliceData(in[0]))
			return nil
		},
		func(y []float64, in [][]float64) error {
			op.d64 = resize(op.d64, len(in[0]))
			kernels.GELUWithDerivative(y, op.d64, in[0])
			op.src = unsafe.Pointer(unsafe.SliceData(in[0]))
			return nil
		})
}

func resize[T kernels.Float](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

func (op *geluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := checkArity(op, len(inputs)); err != nil {
		return nil, err
	}
	dx, err := G.ApplyOp(&geluGradOp{dims: op.dims, fwd: op}, inputs[0], grad)
	return G.Nodes{dx}, err
}

// geluGradOp computes dy·gelu'(x) from (x, dy), reusing the derivative
// its forward op kept when it was computed from this x.
type geluGradOp struct {
	opBase
	dims int
	fwd  *geluOp
}

func (op *geluGradOp) Arity() int            { return 2 }
func (op *geluGradOp) Type() hm.Type         { return fnType(op.dims, op.dims, op.dims) }
func (op *geluGradOp) String() string        { return "grao.GELUGrad" }
func (op *geluGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v{%d}", op, op.dims) }
func (op *geluGradOp) Hashcode() uint32      { return hashOf(op) }

func (op *geluGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 2, ds)
	if err != nil {
		return nil, err
	}
	if !ss[0].Eq(ss[1]) {
		return nil, fmt.Errorf("%v: upstream gradient has shape %v, want %v", op, ss[1], ss[0])
	}
	return ss[0].Clone(), nil
}

func (op *geluGradOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *geluGradOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	out := op.out(p, dt, in[0].Shape())
	return run(dt, out, in,
		func(dx []float32, in [][]float32) error {
			if f := op.fwd; f != nil && f.src == unsafe.Pointer(unsafe.SliceData(in[0])) && len(f.d32) == len(in[0]) {
				kernels.GELUBackwardFrom(dx, in[1], f.d32)
			} else {
				kernels.GELUBackward(dx, in[1], in[0])
			}
			return nil
		},
		func(dx []float64, in [][]float64) error {
			if f := op.fwd; f != nil && f.src == unsafe.Pointer(unsafe.SliceData(in[0])) && len(f.d64) == len(in[0]) {
				kernels.GELUBackwardFrom(dx, in[1], f.d64)
			} else {
				kernels.GELUBackward(dx, in[1], in[0])
			}
			return nil
		})
}

var (
	_ G.SDOp            = (*layerNormOp)(nil)
	_ G.UsePreallocDoer = (*layerNormOp)(nil)
	_ G.UsePreallocDoer = (*layerNormGradOp)(nil)
	_ G.SDOp            = (*geluOp)(nil)
	_ G.UsePreallocDoer = (*geluOp)(nil)
	_ G.UsePreallocDoer = (*geluGradOp)(nil)
)
