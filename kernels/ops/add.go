package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Add is the element-wise sum of two tensors of the same shape (the
// residual connections). gorgonia's own Add allocates a fresh result
// tensor on every run; this one writes into a buffer it keeps, which saves
// an allocation and a copy of the residual stream per block and step.
func Add(a, b *G.Node) (*G.Node, error) {
	if !a.Shape().Eq(b.Shape()) {
		return nil, fmt.Errorf("grao.Add: shapes %v and %v differ", a.Shape(), b.Shape())
	}
	return G.ApplyOp(&addOp{dims: a.Dims()}, a, b)
}

type addOp struct {
	opBase
	dims int
}

func (op *addOp) Arity() int            { return 2 }
func (op *addOp) Type() hm.Type         { return fnType(op.dims, op.dims, op.dims) }
func (op *addOp) String() string        { return "grao.Add" }
func (op *addOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v{%d}", op, op.dims) }
func (op *addOp) Hashcode() uint32      { return hashOf(op) }
func (op *addOp) DiffWRT(int) []bool    { return []bool{true, true} }

func (op *addOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 2, ds)
	if err != nil {
		return nil, err
	}
	if !ss[0].Eq(ss[1]) {
		return nil, fmt.Errorf("%v: shapes %v and %v differ", op, ss[0], ss[1])
	}
	return ss[0].Clone(), nil
}

func (op *addOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *addOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	out := op.out(p, dt, in[0].Shape())
	return run(dt, out, in,
		func(y []float32, in [][]float32) error { addInto(y, in[0], in[1]); return nil },
		func(y []float64, in [][]float64) error { addInto(y, in[0], in[1]); return nil })
}

func addInto[T float32 | float64](y, a, b []T) {
	b, y = b[:len(a)], y[:len(a)]
	for i, v := range a {
		y[i] = v + b[i]
	}
}

// SymDiff passes the upstream gradient to both inputs unchanged.
func (op *addOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := checkArity(op, len(inputs)); err != nil {
		return nil, err
	}
	return G.Nodes{grad, grad}, nil
}
