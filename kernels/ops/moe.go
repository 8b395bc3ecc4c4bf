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

// MoE is a mixture-of-experts MLP as one node (kernels.MoE): x [N,d] is
// routed by logits [N,E] (the router's output, a node of its own so that
// its auxiliary losses can read it) to each row's top k experts, whose
// gelu MLPs are mixed by the softmax over the selected logits. experts
// holds, per expert in order, c_fc.weight [d,H], c_fc.bias [H],
// c_proj.weight [H,d], c_proj.bias [d]. Gradients reach x, the logits
// (through the gates) and every expert's weights.
func MoE(x, logits *G.Node, experts []*G.Node, k int) (*G.Node, error) {
	if len(experts) == 0 || len(experts)%4 != 0 {
		return nil, fmt.Errorf("grao.MoE: want 4 tensors per expert, got %d", len(experts))
	}
	e := len(experts) / 4
	if k < 1 || k > e {
		return nil, fmt.Errorf("grao.MoE: top-k %d outside [1,%d]", k, e)
	}
	op := &moeOp{e: e, k: k, id: serial.Add(1)}
	return G.ApplyOp(op, append([]*G.Node{x, logits}, experts...)...)
}

// moeOp keeps its forward state (routing, activations) for its gradient
// op, with the addresses of the x and logits it was computed from: the
// gradient uses it only for those same inputs, else it recomputes.
type moeOp struct {
	opBase
	e, k int
	id   uint64 // the state is per node: never merge two
	m32  kernels.MoE[float32]
	m64  kernels.MoE[float64]
	src  [2]unsafe.Pointer
}

func (op *moeOp) Arity() int { return 2 + 4*op.e }
func (op *moeOp) dims() []int {
	ds := []int{2, 2}
	for i := 0; i < op.e; i++ {
		ds = append(ds, 2, 1, 2, 1)
	}
	return ds
}
func (op *moeOp) Type() hm.Type         { return fnType(append(op.dims(), 2)...) }
func (op *moeOp) String() string        { return fmt.Sprintf("grao.MoE{E=%d,k=%d}", op.e, op.k) }
func (op *moeOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v#%d", op, op.id) }
func (op *moeOp) Hashcode() uint32      { return hashOf(op) }
func (op *moeOp) DiffWRT(n int) []bool {
	w := make([]bool, n)
	for i := range w {
		w[i] = true
	}
	return w
}

// sizes checks the input shapes and returns N, d, H.
func (op *moeOp) sizes(ss []tensor.Shape) (n, d, h int, err error) {
	x, lg := ss[0], ss[1]
	if len(x) != 2 || len(lg) != 2 || lg[0] != x[0] || lg[1] != op.e {
		return 0, 0, 0, fmt.Errorf("%v: x %v and logits %v, want [N,d] and [N,%d]", op, x, lg, op.e)
	}
	n, d = x[0], x[1]
	if len(ss[2]) != 2 || ss[2][0] != d {
		return 0, 0, 0, fmt.Errorf("%v: expert 0 c_fc.weight has shape %v, want (%d, H)", op, ss[2], d)
	}
	h = ss[2][1]
	for ex := 0; ex < op.e; ex++ {
		want := []tensor.Shape{{d, h}, {h}, {h, d}, {d}}
		for j, w := range want {
			if s := ss[2+4*ex+j]; !s.Eq(w) {
				return 0, 0, 0, fmt.Errorf("%v: expert %d tensor %d has shape %v, want %v", op, ex, j, s, w)
			}
		}
	}
	return n, d, h, nil
}

func (op *moeOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, op.Arity(), ds)
	if err != nil {
		return nil, err
	}
	n, d, _, err := op.sizes(ss)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{n, d}, nil
}

func valueShapes(in []G.Value) []tensor.Shape {
	ss := make([]tensor.Shape, len(in))
	for i, v := range in {
		ss[i] = v.Shape()
	}
	return ss
}

// experts splits the expert inputs into c_fc.weight, c_fc.bias,
// c_proj.weight and c_proj.bias lists.
func experts[T kernels.Float](in [][]T) (w1, b1, w2, b2 [][]T) {
	for i := 0; i+3 < len(in); i += 4 {
		w1, b1, w2, b2 = append(w1, in[i]), append(b1, in[i+1]), append(w2, in[i+2]), append(b2, in[i+3])
	}
	return
}

func (op *moeOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *moeOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	n, d, h, err := op.sizes(valueShapes(in))
	if err != nil {
		return nil, err
	}
	out := op.out(p, dt, tensor.Shape{n, d})
	return run(dt, out, in,
		func(y []float32, in [][]float32) error {
			w1, b1, w2, b2 := experts(in[2:])
			op.m32.Forward(y, in[0], in[1], w1, b1, w2, b2, n, d, op.e, op.k, h)
			op.src = [2]unsafe.Pointer{unsafe.Pointer(unsafe.SliceData(in[0])), unsafe.Pointer(unsafe.SliceData(in[1]))}
			return nil
		},
		func(y []float64, in [][]float64) error {
			w1, b1, w2, b2 := experts(in[2:])
			op.m64.Forward(y, in[0], in[1], w1, b1, w2, b2, n, d, op.e, op.k, h)
			op.src = [2]unsafe.Pointer{unsafe.Pointer(unsafe.SliceData(in[0])), unsafe.Pointer(unsafe.SliceData(in[1]))}
			return nil
		})
}

// SymDiff computes every gradient in one moeGradOp (its output is dx);
// the others are read from it by moePickOps, which take it as an input so
// that they run after it.
func (op *moeOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := checkArity(op, len(inputs)); err != nil {
		return nil, err
	}
	g := &moeGradOp{fwd: op}
	dx, err := G.ApplyOp(g, append(append(G.Nodes{}, inputs...), grad)...)
	if err != nil {
		return nil, err
	}
	out := G.Nodes{dx}
	for i, x := range inputs[1:] {
		pk, err := G.ApplyOp(&moePickOp{parent: g, wrt: i + 1, dims: x.Dims()}, x, dx)
		if err != nil {
			return nil, err
		}
		out = append(out, pk)
	}
	return out, nil
}

// moeGradOp takes the forward inputs and dy; it returns dx and keeps the
// other gradients (Params order: logits, then each expert's four) for the
// pick ops.
type moeGradOp struct {
	opBase
	fwd *moeOp
	g32 [][]float32
	g64 [][]float64
}

func (op *moeGradOp) Arity() int { return op.fwd.Arity() + 1 }
func (op *moeGradOp) Type() hm.Type {
	return fnType(append(op.fwd.dims(), 2, 2)...)
}
func (op *moeGradOp) String() string {
	return fmt.Sprintf("grao.MoEGrad{E=%d,k=%d}", op.fwd.e, op.fwd.k)
}
func (op *moeGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v#%d", op, op.fwd.id) }
func (op *moeGradOp) Hashcode() uint32      { return hashOf(op) }

func (op *moeGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, op.Arity(), ds)
	if err != nil {
		return nil, err
	}
	n, d, _, err := op.fwd.sizes(ss[:len(ss)-1])
	if err != nil {
		return nil, err
	}
	if dy := ss[len(ss)-1]; !dy.Eq(tensor.Shape{n, d}) {
		return nil, fmt.Errorf("%v: upstream gradient has shape %v, want (%d, %d)", op, dy, n, d)
	}
	return tensor.Shape{n, d}, nil
}

func (op *moeGradOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *moeGradOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	ss := valueShapes(in)
	n, d, h, err := op.fwd.sizes(ss[:len(ss)-1])
	if err != nil {
		return nil, err
	}
	out := op.out(p, dt, tensor.Shape{n, d})
	f := op.fwd
	return run(dt, out, in,
		func(dx []float32, in [][]float32) error {
			op.g32 = moeBackward(&f.m32, f, op.g32, dx, in, ss, n, d, h)
			return nil
		},
		func(dx []float64, in [][]float64) error {
			op.g64 = moeBackward(&f.m64, f, op.g64, dx, in, ss, n, d, h)
			return nil
		})
}

func moeBackward[T kernels.Float](m *kernels.MoE[T], f *moeOp, grads [][]T, dx []T, in [][]T, ss []tensor.Shape, n, d, h int) [][]T {
	x, logits, dy := in[0], in[1], in[len(in)-1]
	w1, b1, w2, b2 := experts(in[2 : len(in)-1])
	src := [2]unsafe.Pointer{unsafe.Pointer(unsafe.SliceData(x)), unsafe.Pointer(unsafe.SliceData(logits))}
	if f.src != src || m.N != n || m.E != f.e {
		m.Forward(make([]T, n*d), x, logits, w1, b1, w2, b2, n, d, f.e, f.k, h)
	}
	if len(grads) != len(in)-1 {
		grads = make([][]T, len(in)-1)
	}
	for i := 1; i < len(grads); i++ {
		grads[i] = growSlice(grads[i], ss[i].TotalSize())
	}
	dw1, db1, dw2, db2 := experts(grads[2:])
	m.Backward(dx, grads[1], dw1, db1, dw2, db2, dy, w1, w2)
	return grads
}

func growSlice[T kernels.Float](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// moePickOp returns the gradient of input wrt that its parent computed;
// its inputs are (that input, the parent's output).
type moePickOp struct {
	opBase
	parent *moeGradOp
	wrt    int
	dims   int
}

func (op *moePickOp) Arity() int    { return 2 }
func (op *moePickOp) Type() hm.Type { return fnType(op.dims, 2, op.dims) }
func (op *moePickOp) String() string {
	return fmt.Sprintf("grao.MoEGradPick{wrt=%d}", op.wrt)
}
func (op *moePickOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v#%d", op, op.parent.fwd.id) }
func (op *moePickOp) Hashcode() uint32      { return hashOf(op) }

func (op *moePickOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 2, ds)
	if err != nil {
		return nil, err
	}
	return ss[0].Clone(), nil
}

func (op *moePickOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *moePickOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	shape := in[0].Shape()
	out := op.out(p, dt, shape)
	switch o := out.Data().(type) {
	case []float32:
		if op.wrt >= len(op.parent.g32) || len(op.parent.g32[op.wrt]) != len(o) {
			return nil, fmt.Errorf("%v: no gradient of shape %v (did the gradient op run?)", op, shape)
		}
		copy(o, op.parent.g32[op.wrt])
	case []float64:
		if op.wrt >= len(op.parent.g64) || len(op.parent.g64[op.wrt]) != len(o) {
			return nil, fmt.Errorf("%v: no gradient of shape %v (did the gradient op run?)", op, shape)
		}
		copy(o, op.parent.g64[op.wrt])
	}
	return out, nil
}

// RouterLoss returns a scalar node: the weighted router losses of every
// MoE layer, wBalance·mean_l Balance_l + wZ·mean_l Z_l
// (kernels.MoERouterLosses), over the rows where mask is true (the real
// tokens; mask is read at run time, nil for all rows). Averaging over
// layers keeps a coefficient's meaning independent of depth. report, when
// set, receives each run's per-layer losses and utilisation.
func RouterLoss(logits []*G.Node, k int, wBalance, wZ float64, mask *[]bool, report func([]kernels.RouterLosses)) (*G.Node, error) {
	if len(logits) == 0 {
		return nil, fmt.Errorf("grao.RouterLoss: no router logits")
	}
	L := float64(len(logits))
	fn := func(in, grads [][]float64) float64 {
		var m []bool
		if mask != nil {
			m = *mask
		}
		stats := make([]kernels.RouterLosses, len(in))
		var total float64
		for l, lg := range in {
			s := logits[l].Shape()
			n, e := s[0], s[1]
			if m != nil && len(m) != n {
				m = nil
			}
			stats[l] = kernels.MoERouterLosses(grads[l], lg, m, n, e, k, wBalance/L, wZ/L)
			total += (wBalance*stats[l].Balance + wZ*stats[l].Z) / L
		}
		if report != nil {
			report(stats)
		}
		return total
	}
	return Loss("router", fn, logits...)
}

var (
	_ G.SDOp            = (*moeOp)(nil)
	_ G.UsePreallocDoer = (*moeOp)(nil)
	_ G.UsePreallocDoer = (*moeGradOp)(nil)
	_ G.UsePreallocDoer = (*moePickOp)(nil)
)
