package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/grao-lab/grao/kernels"
)

// Index carries integer inputs (token ids or target ids, one per row) into
// a graph. Set IDs before each run; ops read it when they execute.
type Index struct {
	IDs []int
	// Entropy, when it has one entry per row, receives from the log-prob
	// ops the entropy (nats) of each row's distribution at rows with a
	// target (0 elsewhere): a forward-only side output, no gradient.
	Entropy []float64
}

// tv is the element-type variable shared by an op's inputs and output.
var tv = hm.TypeVariable('a')

// tensorOf is the gorgonia type of a dims-dimensional tensor of tv (tv itself
// for a scalar).
func tensorOf(dims int) hm.Type {
	if dims == 0 {
		return tv
	}
	return &G.TensorType{Dims: dims, Of: tv}
}

// fnType builds the function type in₁ → in₂ → … → out from dimensions.
func fnType(dims ...int) hm.Type {
	ts := make([]hm.Type, len(dims))
	for i, d := range dims {
		ts[i] = tensorOf(d)
	}
	return hm.NewFnType(ts...)
}

// serial numbers op instances whose identity matters (they hold state the
// hash cannot see, such as a loss closure), so gorgonia never merges two of
// them into one node.
var serial atomic.Uint64

// hashOf is the fnv-32a hash of an op's WriteHash, as gorgonia's built-in
// ops compute it.
func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// opBase carries the methods every op here shares and the op-owned output
// buffer reused across runs.
type opBase struct{ buf *tensor.Dense }

func (*opBase) ReturnsPtr() bool     { return false }
func (*opBase) CallsExtern() bool    { return false }
func (*opBase) OverwritesInput() int { return -1 }

// out returns a dense tensor of the given dtype and shape to write the
// result into: the register value gorgonia offers when it fits (the
// TapeMachine may offer a register last used by a node of another shape,
// hence the check), else the op's own buffer from an earlier run, else a
// new one that becomes the op's buffer.
func (b *opBase) out(prealloc G.Value, dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	if d, ok := prealloc.(*tensor.Dense); ok && fits(d, dt, shape) {
		return d
	}
	if b.buf != nil && fits(b.buf, dt, shape) {
		return b.buf
	}
	b.buf = tensor.New(tensor.WithShape(shape.Clone()...), tensor.Of(dt))
	return b.buf
}

func fits(d *tensor.Dense, dt tensor.Dtype, shape tensor.Shape) bool {
	return d.Dtype() == dt && d.Shape().Eq(shape) && !d.IsView() && d.IsNativelyAccessible()
}

// dense returns v's elements as a contiguous slice of T. Views (e.g. the
// output of G.Slice) are materialised so that strides need not be handled
// by every kernel.
func dense[T kernels.Float](v G.Value) ([]T, error) {
	if d, ok := v.(*tensor.Dense); ok && d.IsView() {
		m := d.Materialize()
		v = m.(*tensor.Dense)
	}
	s, ok := v.Data().([]T)
	if !ok {
		var zero T
		return nil, fmt.Errorf("value of type %v holds %T, want []%T", v.Dtype(), v.Data(), zero)
	}
	return s, nil
}

// scalar returns a scalar value (the upstream gradient of a loss) as float64.
func scalar(v G.Value) (float64, error) {
	switch x := v.Data().(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case []float64:
		if len(x) == 1 {
			return x[0], nil
		}
	case []float32:
		if len(x) == 1 {
			return float64(x[0]), nil
		}
	}
	return 0, fmt.Errorf("expected a scalar, got shape %v", v.Shape())
}

// floatDtype checks that every value has the same float dtype and returns it.
func floatDtype(op fmt.Stringer, vs ...G.Value) (tensor.Dtype, error) {
	if len(vs) == 0 {
		return tensor.Float64, nil
	}
	dt := vs[0].Dtype()
	if dt != tensor.Float64 && dt != tensor.Float32 {
		return dt, fmt.Errorf("%v: unsupported dtype %v (want float32 or float64)", op, dt)
	}
	for i, v := range vs[1:] {
		if v.Dtype() != dt {
			return dt, fmt.Errorf("%v: input %d has dtype %v, input 0 has %v", op, i+1, v.Dtype(), dt)
		}
	}
	return dt, nil
}

// shapes converts gorgonia's DimSizers (node shapes) to tensor.Shapes.
func shapes(op fmt.Stringer, n int, ds []G.DimSizer) ([]tensor.Shape, error) {
	if len(ds) != n {
		return nil, fmt.Errorf("%v: got %d inputs, want %d", op, len(ds), n)
	}
	ss, err := G.DimSizersToShapes(ds)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", op, err)
	}
	return ss, nil
}

// slicesOf returns the contiguous data of every value as []T.
func slicesOf[T kernels.Float](vs ...G.Value) ([][]T, error) {
	out := make([][]T, len(vs))
	for i, v := range vs {
		s, err := dense[T](v)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

// run computes an op's result into out by calling f32 or f64 with the
// inputs' data, according to dt.
func run(dt tensor.Dtype, out *tensor.Dense, in []G.Value,
	f32 func(out []float32, in [][]float32) error,
	f64 func(out []float64, in [][]float64) error) (G.Value, error) {
	var err error
	if dt == tensor.Float32 {
		var s [][]float32
		if s, err = slicesOf[float32](in...); err == nil {
			err = f32(out.Data().([]float32), s)
		}
	} else {
		var s [][]float64
		if s, err = slicesOf[float64](in...); err == nil {
			err = f64(out.Data().([]float64), s)
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkArity is gorgonia's arity check, which is not exported.
func checkArity(op G.Op, n int) error {
	if n != op.Arity() {
		return fmt.Errorf("%v: got %d inputs, want %d", op, n, op.Arity())
	}
	return nil
}
