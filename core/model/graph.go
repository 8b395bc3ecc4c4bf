package model

import (
	"fmt"
	"math"
	"runtime"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/kernels/ops"
)

// Graph is the training graph for a fixed batch shape (Batch rows of Seq
// positions), built once and run every step (Load → Run → Grads), which
// keeps gorgonia's memory flat. Its weight nodes share their backing
// arrays with Params (float32), so optimiser updates of Params are seen by
// the next Run without copying. A Graph is not safe for concurrent use;
// build one per goroutine (gorgonia machines must not share tensors).
type Graph struct {
	Params     *Params
	Batch, Seq int
	// Temperature is the sampling temperature LogP is computed at, fixed
	// when the graph is built: 1 for NewGraph.
	Temperature float64

	g            *G.ExprGraph
	ids, targets *ops.Index
	// LogP[r*Seq+i] = log π(token at position i+1 of row r | positions ≤ i),
	// 0 where the target is not scored; π is softmax(logits/Temperature).
	LogP *G.Node
	// Value[r*Seq+i] is the value head at position i (nil without a head).
	Value   *G.Node
	weights []*G.Node // Params.All() order
	values  []*tensor.Dense
	machine G.VM
	loss    *G.Node
	// run and entropy serve the CPU engine that built the graph.
	run     *pendingRun
	entropy []float64
	// moe is the mixture-of-experts state (nil for a dense model).
	moe *graphMoE
}

// NewGraph builds the forward graph. dtype is G.Float32 for training
// (weights shared with p) or G.Float64 for gradient checks (weights copied).
func NewGraph(p *Params, batch, seq int, dtype tensor.Dtype) (*Graph, error) {
	return NewGraphAt(p, batch, seq, dtype, 1)
}

// NewGraphAt is NewGraph with LogP at a sampling temperature:
// LogP = log_softmax(logits/temperature)[target] (ops.LogProbsAt), the
// log-probs of the distribution that rollouts sampled at that temperature
// were drawn from (before any top-k/top-p truncation), as TRL and verl
// score them. Gradients flow through the division. The value head is not
// affected. temperature must be positive and finite; 1 is NewGraph exactly.
func NewGraphAt(p *Params, batch, seq int, dtype tensor.Dtype, temperature float64) (*Graph, error) {
	c := p.Config
	if batch <= 0 || seq <= 0 || seq > c.Context {
		return nil, fmt.Errorf("model: graph shape %d×%d invalid for context %d", batch, seq, c.Context)
	}
	if err := checkTemperature(temperature); err != nil {
		return nil, err
	}
	gr := &Graph{Params: p, Batch: batch, Seq: seq, Temperature: temperature, g: G.NewGraph(),
		ids: &ops.Index{IDs: make([]int, batch*seq)}, targets: &ops.Index{IDs: make([]int, batch*seq)}}
	for _, t := range p.All() {
		var back *tensor.Dense
		switch dtype {
		case G.Float32:
			back = tensor.New(tensor.WithShape(t.Shape...), tensor.WithBacking(t.Data))
		case G.Float64:
			d := make([]float64, len(t.Data))
			for i, v := range t.Data {
				d[i] = float64(v)
			}
			back = tensor.New(tensor.WithShape(t.Shape...), tensor.WithBacking(d))
		default:
			return nil, fmt.Errorf("model: unsupported graph dtype %v", dtype)
		}
		n := G.NewTensor(gr.g, dtype, len(t.Shape), G.WithShape(t.Shape...), G.WithName(t.Name), G.WithValue(back))
		gr.weights = append(gr.weights, n)
		gr.values = append(gr.values, back)
	}
	if err := gr.build(); err != nil {
		return nil, fmt.Errorf("model: building graph: %w", err)
	}
	return gr, nil
}

func (gr *Graph) build() error {
	c := gr.Params.Config
	w := gr.weights
	wte, wpe := w[0], w[1]
	x, err := ops.Embed(wte, wpe, gr.ids, gr.Batch, gr.Seq)
	if err != nil {
		return err
	}
	k := 2
	for _, b := range gr.Params.Blocks {
		ln1g, ln1b, attnW, attnB, projW, projB := w[k], w[k+1], w[k+2], w[k+3], w[k+4], w[k+5]
		ln2g, ln2b := w[k+6], w[k+7]
		mlp := w[k+8 : k+len(b.tensors())]
		k += len(b.tensors())
		h, err := ops.LayerNorm(x, ln1g, ln1b, c.LNEps)
		if err != nil {
			return err
		}
		if h, err = ops.Linear(h, attnW, attnB); err != nil {
			return err
		}
		if h, err = ops.Attention(h, gr.Batch, gr.Seq, c.NHead); err != nil {
			return err
		}
		if h, err = ops.Linear(h, projW, projB); err != nil {
			return err
		}
		if x, err = ops.Add(x, h); err != nil {
			return err
		}
		if h, err = ops.LayerNorm(x, ln2g, ln2b, c.LNEps); err != nil {
			return err
		}
		if h, err = gr.mlp(h, mlp); err != nil {
			return err
		}
		if x, err = ops.Add(x, h); err != nil {
			return err
		}
	}
	if err := gr.buildRouterLoss(); err != nil {
		return err
	}
	hf, err := ops.LayerNorm(x, w[k], w[k+1], c.LNEps)
	if err != nil {
		return err
	}
	logits, err := ops.MatMulNT(hf, wte)
	if err != nil {
		return err
	}
	if gr.LogP, err = ops.LogProbsAt(logits, gr.targets, gr.Temperature); err != nil {
		return err
	}
	if c.ValueHead {
		v, err := ops.Linear(hf, w[k+2], w[k+3])
		if err != nil {
			return err
		}
		if gr.Value, err = G.Reshape(v, tensor.Shape{gr.Batch * gr.Seq}); err != nil {
			return err
		}
	}
	return nil
}

// Sequence is one row of a batch (core.Sequence).
type Sequence = core.Sequence

// Span locates a sequence's scored log-probs in LogP: LogP[Off+j] is the
// log-prob of Tokens[Start+j], j < Len.
type Span struct{ Off, Len int }

// Load lays out up to Batch sequences for the next Run (unused rows are
// padding) and returns where each one's scored log-probs land.
func (gr *Graph) Load(seqs []Sequence) ([]Span, error) {
	if len(seqs) > gr.Batch {
		return nil, fmt.Errorf("model: %d sequences for a graph of batch %d", len(seqs), gr.Batch)
	}
	pad := gr.Params.Config.Specials().PAD
	for i := range gr.ids.IDs {
		gr.ids.IDs[i] = pad
		gr.targets.IDs[i] = -1
	}
	spans := make([]Span, len(seqs))
	V := gr.Params.Config.VocabSize
	for r, s := range seqs {
		if len(s.Tokens) > gr.Seq {
			return nil, fmt.Errorf("model: sequence %d has %d tokens, the graph holds %d", r, len(s.Tokens), gr.Seq)
		}
		if s.Start < 1 || s.Start > len(s.Tokens) {
			return nil, fmt.Errorf("model: sequence %d: start %d outside [1,%d]", r, s.Start, len(s.Tokens))
		}
		base := r * gr.Seq
		for i, t := range s.Tokens {
			if t < 0 || t >= V {
				return nil, fmt.Errorf("model: sequence %d: token %d outside the vocabulary", r, t)
			}
			gr.ids.IDs[base+i] = t
			if i >= s.Start {
				gr.targets.IDs[base+i-1] = t
			}
		}
		spans[r] = Span{Off: base + s.Start - 1, Len: len(s.Tokens) - s.Start}
	}
	gr.loadMask(seqs)
	return spans, nil
}

// Compile prepares the backward pass for a scalar loss built on LogP (and
// Value). Call once.
func (gr *Graph) Compile(loss *G.Node) error {
	if gr.machine != nil {
		return fmt.Errorf("model: graph already compiled")
	}
	if _, err := G.Grad(loss, gr.weights...); err != nil {
		return fmt.Errorf("model: differentiating: %w", err)
	}
	gr.loss = loss
	m := G.NewTapeMachine(gr.g, G.BindDualValues(gr.weights...))
	// gorgonia sets a finalizer on every tape machine (a no-op without its
	// cuda build tag). The Go runtime never collects a cycle that holds an
	// object with a finalizer, and a machine reaches itself whenever a
	// loss op's closure leads back to this Graph (a trainer's loss method
	// holds the trainer, which holds its graphs): every finished trial's
	// graphs, weights, optimiser and buffers then stay live. Drop it.
	runtime.SetFinalizer(m, nil)
	gr.machine = m
	return nil
}

// Graph returns the expression graph, to add loss nodes before Compile.
func (gr *Graph) Graph() *G.ExprGraph { return gr.g }

// Run executes forward and backward once for the loaded batch; read the
// results with LossValue, LogPValues and Grads before the next Run.
func (gr *Graph) Run() error {
	if gr.machine == nil {
		return fmt.Errorf("model: Run before Compile")
	}
	// The machine adds each run's gradients into the weights' dual values;
	// gorgonia's solvers zero them after a step, and so must we.
	for _, w := range gr.weights {
		if gv, err := w.Grad(); err == nil {
			if t, ok := gv.(tensor.Tensor); ok {
				t.Zero()
			}
		}
	}
	gr.machine.Reset()
	return gr.machine.RunAll()
}

// LossValue is the loss of the last Run.
func (gr *Graph) LossValue() float64 { return scalar(gr.loss.Value()) }

// LogPValues returns LogP of the last Run as float64 (a copy).
func (gr *Graph) LogPValues() []float64 { return toF64(gr.LogP.Value()) }

// ValueValues returns the value head of the last Run (nil without one).
func (gr *Graph) ValueValues() []float64 {
	if gr.Value == nil {
		return nil
	}
	return toF64(gr.Value.Value())
}

// Grads returns the gradient of every weight (Params.All() order) from the
// last Run, float32, backed by gorgonia's buffers (valid until next Run).
func (gr *Graph) Grads() ([][]float32, error) {
	out := make([][]float32, len(gr.weights))
	for i, w := range gr.weights {
		gv, err := w.Grad()
		if err != nil {
			return nil, fmt.Errorf("model: gradient of %s: %w", w.Name(), err)
		}
		d, ok := gv.Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("model: gradient of %s is %T, want float32", w.Name(), gv.Data())
		}
		out[i] = d
	}
	return out, nil
}

// Float64Weights returns the weight arrays of a float64 graph (Params.All()
// order) and their gradients from the last Run, for finite-difference
// checks: writing into a weight array changes the next Run. It fails on a
// float32 graph, whose weights are Params' own arrays.
func (gr *Graph) Float64Weights() (weights, grads [][]float64, err error) {
	for i, w := range gr.weights {
		d, ok := gr.values[i].Data().([]float64)
		if !ok {
			return nil, nil, fmt.Errorf("model: Float64Weights on a %v graph", gr.values[i].Dtype())
		}
		gv, err := w.Grad()
		if err != nil {
			return nil, nil, fmt.Errorf("model: gradient of %s: %w", w.Name(), err)
		}
		weights = append(weights, d)
		grads = append(grads, gv.Data().([]float64))
	}
	return weights, grads, nil
}

// checkTemperature accepts the temperatures log-probs can be taken at:
// greedy decoding (0) has no distribution to score against.
func checkTemperature(temperature float64) error {
	if !(temperature > 0) || math.IsInf(temperature, 1) {
		return fmt.Errorf("model: log-prob temperature must be positive and finite, got %g", temperature)
	}
	return nil
}

func scalar(v G.Value) float64 {
	switch x := v.Data().(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	case []float32:
		return float64(x[0])
	case []float64:
		return x[0]
	}
	return 0
}

func toF64(v G.Value) []float64 {
	switch x := v.Data().(type) {
	case []float32:
		out := make([]float64, len(x))
		for i, f := range x {
			out[i] = float64(f)
		}
		return out
	case []float64:
		return append([]float64(nil), x...)
	}
	return nil
}
