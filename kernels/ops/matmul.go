package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/grao-lab/grao/kernels"
)

// Linear returns x·w + b for x [N,k], w [k,n] (GPT-2's Conv1D layout) and
// b [n]: one node backed by a single BLAS call, with the bias broadcast
// fused in (gorgonia's BroadcastAdd allocates and is slow).
func Linear(x, w, b *G.Node) (*G.Node, error) {
	return G.ApplyOp(&matMulOp{bias: true}, x, w, b)
}

// MatMulNT returns x·wᵀ for x [N,k], w [n,k] without materialising wᵀ
// (the tied LM head: logits = h·wteᵀ).
func MatMulNT(x, w *G.Node) (*G.Node, error) {
	return G.ApplyOp(&matMulOp{transB: true}, x, w)
}

// MatMul returns op(a)·op(b) with op(x) = xᵀ when the flag is set, for 2-D
// a and b. Linear and MatMulNT are the common cases.
func MatMul(a, b *G.Node, transA, transB bool) (*G.Node, error) {
	return G.ApplyOp(&matMulOp{transA: transA, transB: transB}, a, b)
}

// matMulOp computes C = op(A)·op(B) (+ bias broadcast over rows) with
// kernels.Gemm. Its gradients are matMulOps again (with the transposes
// rearranged), so they are differentiable too, and a colSumOp for the bias.
type matMulOp struct {
	opBase
	transA, transB, bias bool
}

func (op *matMulOp) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}

func (op *matMulOp) Type() hm.Type {
	if op.bias {
		return fnType(2, 2, 1, 2)
	}
	return fnType(2, 2, 2)
}

func (op *matMulOp) String() string {
	return fmt.Sprintf("grao.MatMul{tA=%t,tB=%t,bias=%t}", op.transA, op.transB, op.bias)
}

func (op *matMulOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *matMulOp) Hashcode() uint32      { return hashOf(op) }

// dims returns m, n, k of op(A) [m,k] · op(B) [k,n] and checks that the
// inner dimensions (and the bias) agree.
func (op *matMulOp) dims(ss []tensor.Shape) (m, n, k int, err error) {
	a, b := ss[0], ss[1]
	if len(a) != 2 || len(b) != 2 {
		return 0, 0, 0, fmt.Errorf("%v: want 2-D inputs, got shapes %v and %v", op, a, b)
	}
	m, k = a[0], a[1]
	if op.transA {
		m, k = k, m
	}
	kb, n := b[0], b[1]
	if op.transB {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, fmt.Errorf("%v: inner dimensions differ: %v and %v", op, a, b)
	}
	if op.bias && (len(ss[2]) != 1 || ss[2][0] != n) {
		return 0, 0, 0, fmt.Errorf("%v: bias has shape %v, want (%d)", op, ss[2], n)
	}
	return m, n, k, nil
}

func (op *matMulOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, op.Arity(), ds)
	if err != nil {
		return nil, err
	}
	m, n, _, err := op.dims(ss)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{m, n}, nil
}

func (op *matMulOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *matMulOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	ss := make([]tensor.Shape, len(in))
	for i, v := range in {
		ss[i] = v.Shape()
	}
	m, n, k, err := op.dims(ss)
	if err != nil {
		return nil, err
	}
	out := op.out(p, dt, tensor.Shape{m, n})
	return run(dt, out, in, matMulRun[float32](op, m, n, k, ss), matMulRun[float64](op, m, n, k, ss))
}

func matMulRun[T kernels.Float](op *matMulOp, m, n, k int, ss []tensor.Shape) func([]T, [][]T) error {
	return func(c []T, in [][]T) error {
		beta := T(0)
		if op.bias {
			kernels.ParallelFor(m, m*n, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					copy(c[i*n:(i+1)*n], in[2])
				}
			})
			beta = 1
		}
		kernels.Gemm(op.transA, op.transB, m, n, k, 1, in[0], ss[0][1], in[1], ss[1][1], beta, c, n)
		return nil
	}
}

func (op *matMulOp) DiffWRT(n int) []bool {
	w := make([]bool, n)
	for i := range w {
		w[i] = true
	}
	return w
}

// SymDiff: for C = op(A)·op(B) with upstream gradient D = dC,
//
//	NN: dA = D·Bᵀ,   dB = Aᵀ·D
//	NT: dA = D·B,    dB = Dᵀ·A
//	TN: dA = B·Dᵀ,   dB = A·D
//	TT: dA = Bᵀ·Dᵀ,  dB = Dᵀ·Aᵀ
//
// and d(bias) = column sums of D.
func (op *matMulOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := checkArity(op, len(inputs)); err != nil {
		return nil, err
	}
	a, b, d := inputs[0], inputs[1], grad
	var da, db *G.Node
	var err error
	switch {
	case !op.transA && !op.transB:
		if da, err = MatMul(d, b, false, true); err == nil {
			db, err = MatMul(a, d, true, false)
		}
	case !op.transA && op.transB:
		if da, err = MatMul(d, b, false, false); err == nil {
			db, err = MatMul(d, a, true, false)
		}
	case op.transA && !op.transB:
		if da, err = MatMul(b, d, false, true); err == nil {
			db, err = MatMul(a, d, false, false)
		}
	default:
		if da, err = MatMul(b, d, true, true); err == nil {
			db, err = MatMul(d, a, true, true)
		}
	}
	if err != nil {
		return nil, err
	}
	if !op.bias {
		return G.Nodes{da, db}, nil
	}
	dbias, err := G.ApplyOp(&colSumOp{}, d)
	if err != nil {
		return nil, err
	}
	return G.Nodes{da, db, dbias}, nil
}

// colSumOp sums a [N,n] matrix over rows (the bias gradient).
type colSumOp struct{ opBase }

func (op *colSumOp) Arity() int            { return 1 }
func (op *colSumOp) Type() hm.Type         { return fnType(2, 1) }
func (op *colSumOp) String() string        { return "grao.ColSum" }
func (op *colSumOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *colSumOp) Hashcode() uint32      { return hashOf(op) }

func (op *colSumOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 1, ds)
	if err != nil {
		return nil, err
	}
	if len(ss[0]) != 2 {
		return nil, fmt.Errorf("%v: want a 2-D input, got shape %v", op, ss[0])
	}
	return tensor.Shape{ss[0][1]}, nil
}

func (op *colSumOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *colSumOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	s := in[0].Shape()
	if len(s) != 2 {
		return nil, fmt.Errorf("%v: want a 2-D input, got shape %v", op, s)
	}
	out := op.out(p, dt, tensor.Shape{s[1]})
	return run(dt, out, in, colSum[float32](s[0], s[1]), colSum[float64](s[0], s[1]))
}

func colSum[T kernels.Float](rows, n int) func([]T, [][]T) error {
	return func(out []T, in [][]T) error {
		kernels.ColSum(out, in[0], rows, n)
		return nil
	}
}

var (
	_ G.SDOp            = (*matMulOp)(nil)
	_ G.UsePreallocDoer = (*matMulOp)(nil)
	_ G.UsePreallocDoer = (*colSumOp)(nil)
)
