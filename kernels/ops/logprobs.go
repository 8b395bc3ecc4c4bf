package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/grao-lab/grao/kernels"
)

// LogProbs returns out[i] = log_softmax(logits[i,:])[targets.IDs[i]] for
// logits [N,V] as [N] (kernels.LogSoftmaxGather). A negative target
// marks a row to ignore: its log-prob is 0 and it gets no gradient.
func LogProbs(logits *G.Node, targets *Index) (*G.Node, error) {
	return LogProbsAt(logits, targets, 1)
}

// LogProbsAt is LogProbs with the logits divided by a sampling
// temperature, as TRL and verl score the tokens they sampled at that
// temperature: out[i] = log_softmax(logits[i,:]/temperature)[targets.IDs[i]]
// (kernels.LogSoftmaxGatherAt), with gradient
// dlogits[i,:] = dy[i]/temperature·(onehot − softmax(logits[i,:]/temperature)).
// temperature must be positive and finite; at 1 it is LogProbs exactly
// (same op name, hash and bits).
func LogProbsAt(logits *G.Node, targets *Index, temperature float64) (*G.Node, error) {
	if targets == nil {
		return nil, fmt.Errorf("ops.LogProbs: nil *Index")
	}
	if !(temperature > 0) || math.IsInf(temperature, 1) {
		return nil, fmt.Errorf("ops.LogProbsAt: temperature %g is not positive and finite", temperature)
	}
	return G.ApplyOp(&logProbsOp{targets: targets, temp: temperature}, logits)
}

// opName is the op's name, with the temperature when it is not 1 so that
// gorgonia never merges nodes at different temperatures (%v prints the
// shortest decimal that reads back as the same float64, so distinct
// temperatures get distinct names) and names at temperature 1 stay as
// they were.
func opName(name string, temp float64) string {
	if temp == 1 {
		return name
	}
	return fmt.Sprintf("%s(T=%v)", name, temp)
}

// targetsFor checks the targets against logits of shape s = [N,V].
func targetsFor(op fmt.Stringer, idx *Index, s tensor.Shape) ([]int, error) {
	if len(s) != 2 {
		return nil, fmt.Errorf("%v: logits must be 2-D [N,V], got shape %v", op, s)
	}
	t := idx.IDs
	if len(t) != s[0] {
		return nil, fmt.Errorf("%v: Index has %d targets for %d rows of logits", op, len(t), s[0])
	}
	for i, v := range t {
		if v >= s[1] {
			return nil, fmt.Errorf("%v: targets[%d] = %d is outside the vocabulary [0, %d)", op, i, v, s[1])
		}
	}
	return t, nil
}

type logProbsOp struct {
	opBase
	targets *Index
	temp    float64 // sampling temperature, 1 for plain log-probs
}

func (op *logProbsOp) Arity() int            { return 1 }
func (op *logProbsOp) Type() hm.Type         { return fnType(2, 1) }
func (op *logProbsOp) String() string        { return opName("grao.LogProbs", op.temp) }
func (op *logProbsOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v(%p)", op, op.targets) }
func (op *logProbsOp) Hashcode() uint32      { return hashOf(op) }
func (op *logProbsOp) DiffWRT(int) []bool    { return []bool{true} }

func (op *logProbsOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 1, ds)
	if err != nil {
		return nil, err
	}
	if len(ss[0]) != 2 {
		return nil, fmt.Errorf("%v: logits must be 2-D [N,V], got shape %v", op, ss[0])
	}
	return tensor.Shape{ss[0][0]}, nil
}

func (op *logProbsOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *logProbsOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	s := in[0].Shape()
	t, err := targetsFor(op, op.targets, s)
	if err != nil {
		return nil, err
	}
	out := op.out(p, dt, tensor.Shape{s[0]})
	return run(dt, out, in,
		func(o []float32, in [][]float32) error {
			kernels.LogSoftmaxGatherAt(o, in[0], t, s[0], s[1], op.temp)
			if len(op.targets.Entropy) == s[0] {
				kernels.EntropyAt(op.targets.Entropy, in[0], t, s[0], s[1], op.temp)
			}
			return nil
		},
		func(o []float64, in [][]float64) error {
			kernels.LogSoftmaxGatherAt(o, in[0], t, s[0], s[1], op.temp)
			if len(op.targets.Entropy) == s[0] {
				kernels.EntropyAt(op.targets.Entropy, in[0], t, s[0], s[1], op.temp)
			}
			return nil
		})
}

func (op *logProbsOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if err := checkArity(op, len(inputs)); err != nil {
		return nil, err
	}
	d, err := G.ApplyOp(&logProbsGradOp{targets: op.targets, temp: op.temp}, inputs[0], grad)
	return G.Nodes{d}, err
}

// logProbsGradOp computes dlogits from (logits, dy).
type logProbsGradOp struct {
	opBase
	targets *Index
	temp    float64
}

func (op *logProbsGradOp) Arity() int            { return 2 }
func (op *logProbsGradOp) Type() hm.Type         { return fnType(2, 1, 2) }
func (op *logProbsGradOp) String() string        { return opName("grao.LogProbsGrad", op.temp) }
func (op *logProbsGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v(%p)", op, op.targets) }
func (op *logProbsGradOp) Hashcode() uint32      { return hashOf(op) }

func (op *logProbsGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	ss, err := shapes(op, 2, ds)
	if err != nil {
		return nil, err
	}
	if len(ss[0]) != 2 || !ss[1].Eq(tensor.Shape{ss[0][0]}) {
		return nil, fmt.Errorf("%v: logits %v and upstream gradient %v do not match", op, ss[0], ss[1])
	}
	return ss[0].Clone(), nil
}

func (op *logProbsGradOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *logProbsGradOp) UsePreallocDo(p G.Value, in ...G.Value) (G.Value, error) {
	if err := checkArity(op, len(in)); err != nil {
		return nil, err
	}
	dt, err := floatDtype(op, in...)
	if err != nil {
		return nil, err
	}
	s := in[0].Shape()
	t, err := targetsFor(op, op.targets, s)
	if err != nil {
		return nil, err
	}
	if in[1].Shape().TotalSize() != s[0] {
		return nil, fmt.Errorf("%v: upstream gradient has shape %v, want (%d)", op, in[1].Shape(), s[0])
	}
	out := op.out(p, dt, s)
	return run(dt, out, in,
		func(o []float32, in [][]float32) error {
			kernels.LogSoftmaxGatherAtBackward(o, in[0], t, in[1], s[0], s[1], op.temp)
			return nil
		},
		func(o []float64, in [][]float64) error {
			kernels.LogSoftmaxGatherAtBackward(o, in[0], t, in[1], s[0], s[1], op.temp)
			return nil
		})
}

var (
	_ G.SDOp            = (*logProbsOp)(nil)
	_ G.UsePreallocDoer = (*logProbsOp)(nil)
	_ G.UsePreallocDoer = (*logProbsGradOp)(nil)
)
