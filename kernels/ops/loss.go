package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LossFunc computes a scalar loss from float64 inputs and writes
// dLoss/dinput into grads (same lengths as inputs, zeroed before each
// call). Inputs are read-only. It is how an algorithm's objective (GRAO,
// DPO, GRPO, …) enters the graph as one node: the per-sequence arithmetic
// is plain Go with a hand-written gradient, tested once, instead of dozens
// of small gorgonia nodes.
type LossFunc func(inputs, grads [][]float64) float64

// Loss returns a scalar node computing fn over the given inputs (any
// shapes, one dtype). Its backward pass multiplies fn's gradients by the
// upstream gradient. name only labels the node.
func Loss(name string, fn LossFunc, inputs ...*G.Node) (*G.Node, error) {
	if fn == nil {
		return nil, fmt.Errorf("ops.Loss %q: nil LossFunc", name)
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("ops.Loss %q: no inputs", name)
	}
	op := &lossOp{name: name, fn: fn, id: serial.Add(1)}
	for _, n := range inputs {
		op.dims = append(op.dims, n.Dims())
	}
	op.in64 = make([][]float64, len(inputs))
	op.grads = make([][]float64, len(inputs))
	return G.ApplyOp(op, inputs...)
}

// lossOp evaluates fn and keeps the gradients it wrote for the
// lossGradOps, which take the loss node as an input so that they always
// run after it.
type lossOp struct {
	name  string
	fn    LossFunc
	id    uint64 // closures cannot be compared: every Loss is distinct
	dims  []int
	in64  [][]float64 // float64 copies of float32 inputs
	grads [][]float64 // dLoss/dinput from the latest run
}

func (op *lossOp) Arity() int            { return len(op.dims) }
func (op *lossOp) Type() hm.Type         { return fnType(append(append([]int(nil), op.dims...), 0)...) }
func (op *lossOp) String() string        { return fmt.Sprintf("grao.Loss{%s}", op.name) }
func (op *lossOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v#%d", op, op.id) }
func (op *lossOp) Hashcode() uint32      { return hashOf(op) }
func (op *lossOp) ReturnsPtr() bool      { return false }
func (op *lossOp) CallsExtern() bool     { return false }
func (op *lossOp) OverwritesInput() int  { return -1 }
func (op *lossOp) DiffWRT(n int) []bool {
	w := make([]bool, n)
	for i := range w {
		w[i] = true
	}
	return w
}

func (op *lossOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	if len(ds) != len(op.dims) {
		return nil, fmt.Errorf("%v: got %d inputs, want %d", op, len(ds), len(op.dims))
	}
	return tensor.ScalarShape(), nil
}

// float64s returns v's elements as float64, converting into buf (grown as
// needed) when v is float32. Scalars become one-element slices.
func float64s(v G.Value, buf []float64) ([]float64, []float64, error) {
	switch x := v.Data().(type) {
	case float64:
		buf = append(buf[:0], x)
		return buf, buf, nil
	case float32:
		buf = append(buf[:0], float64(x))
		return buf, buf, nil
	}
	if v.Dtype() == tensor.Float64 {
		s, err := dense[float64](v)
		return s, buf, err
	}
	s, err := dense[float32](v)
	if err != nil {
		return nil, buf, err
	}
	buf = buf[:0]
	for _, x := range s {
		buf = append(buf, float64(x))
	}
	return buf, buf, nil
}

func (op *lossOp) Do(in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	xs := make([][]float64, len(in))
	for i, v := range in {
		if xs[i], op.in64[i], err = float64s(v, op.in64[i]); err != nil {
			return nil, fmt.Errorf("%v: input %d: %w", op, i, err)
		}
		g := op.grads[i]
		if cap(g) < len(xs[i]) {
			g = make([]float64, len(xs[i]))
		}
		op.grads[i] = g[:len(xs[i])]
		clear(op.grads[i])
	}
	l := op.fn(xs, op.grads)
	if dt == tensor.Float32 {
		return G.NewF32(float32(l)), nil
	}
	return G.NewF64(l), nil
}

func (op *lossOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := checkArity(op, len(inputs)); err != nil {
		return nil, err
	}
	out := make(G.Nodes, len(inputs))
	for i, x := range inputs {
		var err error
		if out[i], err = G.ApplyOp(&lossGradOp{parent: op, wrt: i}, x, output, grad); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lossGradOp returns the parent's stored gradient for input wrt, scaled by
// the upstream gradient. Its inputs are (x_wrt, loss, upstream).
type lossGradOp struct {
	opBase
	parent *lossOp
	wrt    int
}

func (op *lossGradOp) Arity() int { return 3 }
func (op *lossGradOp) Type() hm.Type {
	d := op.parent.dims[op.wrt]
	return fnType(d, 0, 0, d)
}
func (op *lossGradOp) String() string {
	return fmt.Sprintf("grao.LossGrad{%s,wrt=%d}", op.parent.name, op.wrt)
}
func (op *lossGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v#%d", op, op.parent.id) }
func (op *lossGradOp) Hashcode() uint32      { return hashOf(op) }

func (op *lossGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 3, ds)
	if err != nil {
		return nil, err
	}
	return ss[0].Clone(), nil
}

func (op *lossGradOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *lossGradOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	up, err := scalar(in[2])
	if err != nil {
		return nil, fmt.Errorf("%v: upstream gradient: %w", op, err)
	}
	g := op.parent.grads[op.wrt]
	dt := in[0].Dtype()
	shape := in[0].Shape()
	if len(g) != shape.TotalSize() {
		return nil, fmt.Errorf("%v: gradient has %d elements for an input of shape %v (did the loss run?)", op, len(g), shape)
	}
	if shape.IsScalar() {
		if dt == tensor.Float32 {
			return G.NewF32(float32(g[0] * up)), nil
		}
		return G.NewF64(g[0] * up), nil
	}
	out := op.out(p, dt, shape)
	switch o := out.Data().(type) {
	case []float32:
		for i, v := range g {
			o[i] = float32(v * up)
		}
	case []float64:
		for i, v := range g {
			o[i] = v * up
		}
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, dt)
	}
	return out, nil
}

var (
	_ G.SDOp            = (*lossOp)(nil)
	_ G.UsePreallocDoer = (*lossGradOp)(nil)
)
