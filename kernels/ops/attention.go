package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/grao-lab/grao/kernels"
)

// Attention is causal multi-head self-attention (kernels.CausalAttention):
// qkv [batch*seq, 3d] in GPT-2's c_attn layout → [batch*seq, d].
func Attention(qkv *G.Node, batch, seq, nHead int) (*G.Node, error) {
	if batch <= 0 || seq <= 0 || nHead <= 0 {
		return nil, fmt.Errorf("ops.Attention: batch=%d, seq=%d, nHead=%d must be positive", batch, seq, nHead)
	}
	return G.ApplyOp(&attentionOp{attnConfig: attnConfig{batch, seq, nHead}}, qkv)
}

type attnConfig struct{ batch, seq, nHead int }

// check validates qkv's shape and returns d (the model width).
func (c attnConfig) check(op fmt.Stringer, s tensor.Shape) (int, error) {
	if len(s) != 2 || s[0] != c.batch*c.seq || s[1]%(3*c.nHead) != 0 || s[1] == 0 {
		return 0, fmt.Errorf("%v: qkv has shape %v, want (%d, 3·d) with d a positive multiple of %d heads",
			op, s, c.batch*c.seq, c.nHead)
	}
	return s[1] / 3, nil
}

type attentionOp struct {
	opBase
	attnConfig
}

func (op *attentionOp) Arity() int    { return 1 }
func (op *attentionOp) Type() hm.Type { return fnType(2, 2) }
func (op *attentionOp) String() string {
	return fmt.Sprintf("grao.Attention{b=%d,t=%d,h=%d}", op.batch, op.seq, op.nHead)
}
func (op *attentionOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *attentionOp) Hashcode() uint32      { return hashOf(op) }
func (op *attentionOp) DiffWRT(int) []bool    { return []bool{true} }

func (op *attentionOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 1, ds)
	if err != nil {
		return nil, err
	}
	d, err := op.check(op, ss[0])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{ss[0][0], d}, nil
}

func (op *attentionOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *attentionOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	d, err := op.check(op, in[0].Shape())
	if err != nil {
		return nil, err
	}
	out := op.out(p, dt, tensor.Shape{op.batch * op.seq, d})
	hd := d / op.nHead
	return run(dt, out, in,
		func(o []float32, in [][]float32) error {
			kernels.CausalAttention(o, in[0], op.batch, op.seq, op.nHead, hd)
			return nil
		},
		func(o []float64, in [][]float64) error {
			kernels.CausalAttention(o, in[0], op.batch, op.seq, op.nHead, hd)
			return nil
		})
}

func (op *attentionOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := checkArity(op, len(inputs)); err != nil {
		return nil, err
	}
	d, err := G.ApplyOp(&attentionGradOp{attnConfig: op.attnConfig}, inputs[0], grad)
	return G.Nodes{d}, err
}

// attentionGradOp computes dqkv from (qkv, dout), recomputing the
// attention probabilities.
type attentionGradOp struct {
	opBase
	attnConfig
}

func (op *attentionGradOp) Arity() int    { return 2 }
func (op *attentionGradOp) Type() hm.Type { return fnType(2, 2, 2) }
func (op *attentionGradOp) String() string {
	return fmt.Sprintf("grao.AttentionGrad{b=%d,t=%d,h=%d}", op.batch, op.seq, op.nHead)
}
func (op *attentionGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *attentionGradOp) Hashcode() uint32      { return hashOf(op) }

func (op *attentionGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 2, ds)
	if err != nil {
		return nil, err
	}
	d, err := op.check(op, ss[0])
	if err != nil {
		return nil, err
	}
	if !ss[1].Eq(tensor.Shape{ss[0][0], d}) {
		return nil, fmt.Errorf("%v: upstream gradient has shape %v, want (%d, %d)", op, ss[1], ss[0][0], d)
	}
	return ss[0].Clone(), nil
}

func (op *attentionGradOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *attentionGradOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	d, err := op.check(op, in[0].Shape())
	if err != nil {
		return nil, err
	}
	if in[1].Shape().TotalSize() != op.batch*op.seq*d {
		return nil, fmt.Errorf("%v: upstream gradient has shape %v, want (%d, %d)", op, in[1].Shape(), op.batch*op.seq, d)
	}
	out := op.out(p, dt, in[0].Shape())
	hd := d / op.nHead
	return run(dt, out, in,
		func(o []float32, in [][]float32) error {
			kernels.CausalAttentionBackward(o, in[1], in[0], op.batch, op.seq, op.nHead, hd)
			return nil
		},
		func(o []float64, in [][]float64) error {
			kernels.CausalAttentionBackward(o, in[1], in[0], op.batch, op.seq, op.nHead, hd)
			return nil
		})
}

var (
	_ G.SDOp            = (*attentionOp)(nil)
	_ G.UsePreallocDoer = (*attentionOp)(nil)
	_ G.UsePreallocDoer = (*attentionGradOp)(nil)
)
