package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/grao-lab/grao/kernels"
)

// Embed returns wte[ids[i]] + wpe[i % seq] for the batch*seq token ids in
// ids (read at run time), as [batch*seq, d]. wte is [vocab, d], wpe is
// [positions, d] with positions >= seq.
func Embed(wte, wpe *G.Node, ids *Index, batch, seq int) (*G.Node, error) {
	if ids == nil {
		return nil, fmt.Errorf("ops.Embed: nil *Index")
	}
	if batch <= 0 || seq <= 0 {
		return nil, fmt.Errorf("ops.Embed: batch=%d, seq=%d must be positive", batch, seq)
	}
	return G.ApplyOp(&embedOp{embedConfig: embedConfig{ids, batch, seq}}, wte, wpe)
}

type embedConfig struct {
	ids        *Index
	batch, seq int
}

func (c embedConfig) check(op fmt.Stringer, wte, wpe tensor.Shape) error {
	if len(wte) != 2 || len(wpe) != 2 || wte[1] != wpe[1] {
		return fmt.Errorf("%v: wte %v and wpe %v must be 2-D with the same width", op, wte, wpe)
	}
	if wpe[0] < c.seq {
		return fmt.Errorf("%v: wpe has %d positions, sequence length is %d", op, wpe[0], c.seq)
	}
	return nil
}

// idsFor returns the ids after checking their count and range, so that a
// bad batch becomes an error rather than a kernel panic.
func (c embedConfig) idsFor(op fmt.Stringer, vocab int) ([]int, error) {
	ids := c.ids.IDs
	if len(ids) != c.batch*c.seq {
		return nil, fmt.Errorf("%v: Index has %d ids, want batch·seq = %d", op, len(ids), c.batch*c.seq)
	}
	for i, id := range ids {
		if id < 0 || id >= vocab {
			return nil, fmt.Errorf("%v: ids[%d] = %d is outside the vocabulary [0, %d)", op, i, id, vocab)
		}
	}
	return ids, nil
}

type embedOp struct {
	opBase
	embedConfig
}

func (op *embedOp) Arity() int    { return 2 }
func (op *embedOp) Type() hm.Type { return fnType(2, 2, 2) }
func (op *embedOp) String() string {
	return fmt.Sprintf("grao.Embed{b=%d,t=%d}", op.batch, op.seq)
}
func (op *embedOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v(%p)", op, op.ids) }
func (op *embedOp) Hashcode() uint32      { return hashOf(op) }
func (op *embedOp) DiffWRT(int) []bool    { return []bool{true, true} }

func (op *embedOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 2, ds)
	if err != nil {
		return nil, err
	}
	if err := op.check(op, ss[0], ss[1]); err != nil {
		return nil, err
	}
	return tensor.Shape{op.batch * op.seq, ss[0][1]}, nil
}

func (op *embedOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *embedOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	wte, wpe := in[0].Shape(), in[1].Shape()
	if err := op.check(op, wte, wpe); err != nil {
		return nil, err
	}
	ids, err := op.idsFor(op, wte[0])
	if err != nil {
		return nil, err
	}
	d := wte[1]
	out := op.out(p, dt, tensor.Shape{op.batch * op.seq, d})
	return run(dt, out, in,
		func(h []float32, in [][]float32) error { kernels.Embed(h, in[0], in[1], ids, op.seq, d); return nil },
		func(h []float64, in [][]float64) error { kernels.Embed(h, in[0], in[1], ids, op.seq, d); return nil })
}

func (op *embedOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := checkArity(op, len(inputs)); err != nil {
		return nil, err
	}
	out := make(G.Nodes, 2)
	for i := range out {
		var err error
		if out[i], err = G.ApplyOp(&embedGradOp{embedConfig: op.embedConfig, wrt: i}, inputs[i], grad); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// embedGradOp scatters the upstream gradient into a table shaped like its
// first input: wte (wrt = 0, rows by token id) or wpe (wrt = 1, rows by
// position). The table input only supplies the shape.
type embedGradOp struct {
	opBase
	embedConfig
	wrt int
}

func (op *embedGradOp) Arity() int    { return 2 }
func (op *embedGradOp) Type() hm.Type { return fnType(2, 2, 2) }
func (op *embedGradOp) String() string {
	return fmt.Sprintf("grao.EmbedGrad{b=%d,t=%d,wrt=%s}", op.batch, op.seq, [...]string{"wte", "wpe"}[op.wrt])
}
func (op *embedGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v(%p)", op, op.ids) }
func (op *embedGradOp) Hashcode() uint32      { return hashOf(op) }

func (op *embedGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 2, ds)
	if err != nil {
		return nil, err
	}
	if len(ss[0]) != 2 || !ss[1].Eq(tensor.Shape{op.batch * op.seq, ss[0][1]}) {
		return nil, fmt.Errorf("%v: table %v and upstream gradient %v do not match", op, ss[0], ss[1])
	}
	return ss[0].Clone(), nil
}

func (op *embedGradOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *embedGradOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	table := in[0].Shape()
	if len(table) != 2 || !in[1].Shape().Eq(tensor.Shape{op.batch * op.seq, table[1]}) {
		return nil, fmt.Errorf("%v: table %v and upstream gradient %v do not match", op, table, in[1].Shape())
	}
	var ids []int
	if op.wrt == 0 {
		if ids, err = op.idsFor(op, table[0]); err != nil {
			return nil, err
		}
	} else {
		// Positions only depend on the row index; the ids themselves are
		// not read, but their count must still be right.
		ids = op.ids.IDs
		if len(ids) != op.batch*op.seq {
			return nil, fmt.Errorf("%v: Index has %d ids, want batch·seq = %d", op, len(ids), op.batch*op.seq)
		}
	}
	d := table[1]
	out := op.out(p, dt, table)
	return run(dt, out, in, embedGradRun[float32](op.wrt, ids, op.seq, d), embedGradRun[float64](op.wrt, ids, op.seq, d))
}

func embedGradRun[T kernels.Float](wrt int, ids []int, seq, d int) func([]T, [][]T) error {
	return func(o []T, in [][]T) error {
		if wrt == 0 {
			kernels.EmbedBackward(o, nil, in[1], ids, seq, d)
		} else {
			kernels.EmbedBackward(nil, o, in[1], ids, seq, d)
		}
		return nil
	}
}

var (
	_ G.SDOp            = (*embedOp)(nil)
	_ G.UsePreallocDoer = (*embedOp)(nil)
	_ G.UsePreallocDoer = (*embedGradOp)(nil)
)
