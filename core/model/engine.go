package model

import (
	"context"
	"fmt"
	"strconv"

	G "gorgonia.org/gorgonia"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/kernels/ops"
)

// CPU is the engine on this machine's processors: training runs on
// gorgonia graphs (one per batch shape, built on first use and kept),
// scoring and sampling on the hand-written KV-cache path, AdamW on the
// weights in place. The weights are Params' own arrays throughout, so
// Params always holds the current policy.
type CPU struct {
	p    *Params
	opts CPUOptions
	opt  *optim.AdamW // nil for a frozen snapshot

	graphs map[graphKey]*Graph
	// run is the graph of the pending LogProbs, paused inside its loss
	// node until Backward supplies the gradient.
	run *pendingRun
	// grads of the last Backward (gorgonia's buffers) and, when several
	// Backward calls precede a Step, their sum.
	grads, acc [][]float32
	nBackward  int

	samplers  map[int]*Sampler
	scorer    *Scorer
	lastGraph *Graph
}

var _ core.Engine = (*CPU)(nil)

// CPUOptions configure a CPU engine.
type CPUOptions struct {
	// Optim is the optimiser of Step.
	Optim optim.Config
	// Seq fixes the training graphs' length (≤ the context). By default a
	// batch runs on the graph for its longest sequence rounded up to a
	// quarter of the context: rollouts usually end well before the
	// context, and a shorter graph costs less (attention quadratically
	// less); positions past a sequence's end are masked either way, so
	// only rounding differs.
	Seq int
	// Float64 builds float64 graphs on copies of the weights, for
	// finite-difference checks of gradients through the model; such an
	// engine cannot Step.
	Float64 bool
}

// graphBuckets is the number of graph lengths a CPU engine may build for
// one batch size.
const graphBuckets = 4

type graphKey struct {
	rows, seq int
	temp      float64
}

// NewCPU makes an engine training p in place (p gets a value head first
// when withValue is set and it has none).
func NewCPU(p *Params, opts CPUOptions) (*CPU, error) {
	if opts.Seq < 0 || opts.Seq > p.Config.Context {
		return nil, fmt.Errorf("model: graph length %d outside [1, %d]", opts.Seq, p.Config.Context)
	}
	e := newCPU(p, opts)
	var err error
	if e.opt, err = optim.NewAdamW(opts.Optim, OptimParams(p)); err != nil {
		return nil, err
	}
	return e, nil
}

func newCPU(p *Params, opts CPUOptions) *CPU {
	return &CPU{p: p, opts: opts, graphs: map[graphKey]*Graph{}, samplers: map[int]*Sampler{}}
}

// OptimParams lists p's tensors for the optimiser: weight decay on
// matrices (embeddings included, as GPT-2 practice), not on biases or
// layer-norm gains.
func OptimParams(p *Params) []optim.Param {
	var out []optim.Param
	for _, t := range p.All() {
		out = append(out, optim.Param{Name: t.Name, Data: t.Data, Decay: len(t.Shape) == 2 && t.Shape[1] > 1})
	}
	return out
}

// Params are the engine's weights, trained in place.
func (e *CPU) Params() *Params { return e.p }

// Info implements core.Engine.
func (e *CPU) Info() core.ModelInfo {
	c := e.p.Config
	return core.ModelInfo{VocabSize: c.VocabSize, Context: c.Context, ValueHead: c.ValueHead, Params: c.NumParams()}
}

// graphFor returns the graph for rows sequences of at most maxLen tokens
// at temperature temp.
func (e *CPU) graphFor(rows, maxLen int, temp float64) (*Graph, error) {
	ctxLen := e.p.Config.Context
	seq := e.opts.Seq
	if seq == 0 {
		unit := max(1, ctxLen/graphBuckets)
		seq = min(ctxLen, (maxLen+unit-1)/unit*unit)
		if e.opts.Float64 {
			seq = ctxLen
		}
	}
	key := graphKey{rows, seq, temp}
	if g, ok := e.graphs[key]; ok {
		return g, nil
	}
	dtype := G.Float32
	if e.opts.Float64 {
		dtype = G.Float64
	}
	g, err := NewGraphAt(e.p, rows, seq, dtype, temp)
	if err != nil {
		return nil, err
	}
	g.entropy = make([]float64, rows*seq)
	inputs := []*G.Node{g.LogP}
	if g.Value != nil {
		inputs = append(inputs, g.Value)
	}
	// The router losses enter as the engine loss's last input, which both
	// adds their gradient and runs them before the loss node pauses, so
	// LogProbs can report them.
	if aux := g.RouterLoss(); aux != nil {
		inputs = append(inputs, aux)
	}
	run := &pendingRun{graph: g}
	loss, err := ops.Loss("engine", run.loss, inputs...)
	if err != nil {
		return nil, err
	}
	if err := g.Compile(loss); err != nil {
		return nil, err
	}
	g.run = run
	e.graphs[key] = g
	return g, nil
}

// pendingRun adapts the graph's single forward-and-backward run to
// LogProbs then Backward: the run starts on its own goroutine and pauses
// in its loss node, after the forward pass, until Backward hands it the
// gradient of the per-token quantities. (Channels, not a coroutine:
// gorgonia runs the ops on a goroutine of its own.)
type pendingRun struct {
	graph *Graph
	spans []Span
	fwd   *core.Forward
	// paused is signalled when the run reaches its loss node; resume
	// tells it to go on with the gradient (true) or with none (false,
	// the pass is discarded); done is closed when the run has returned.
	paused         chan struct{}
	resume         chan bool
	done           chan struct{}
	dlogp, dvalues [][]float64
	err            error
	entropy        bool
}

// loss is the graph's loss node: it publishes the forward results, waits
// for Backward, and scatters the gradient it brought.
func (r *pendingRun) loss(in, grad [][]float64) float64 {
	f := r.fwd
	for i, s := range r.spans {
		f.LogP[i] = append([]float64(nil), in[0][s.Off:s.Off+s.Len]...)
		if r.graph.Value != nil {
			f.Values[i] = append([]float64(nil), in[1][s.Off:s.Off+s.Len]...)
		}
		if r.entropy {
			f.Entropy[i] = append([]float64(nil), r.graph.entropy[s.Off:s.Off+s.Len]...)
		}
	}
	f.Losses, f.Metrics = r.graph.RouterStats()
	r.paused <- struct{}{}
	if !<-r.resume {
		return 0 // grad stays zero: the discarded run changes nothing
	}
	for i, s := range r.spans {
		copy(grad[0][s.Off:s.Off+s.Len], r.dlogp[i])
		if r.graph.Value != nil && r.dvalues != nil {
			copy(grad[1][s.Off:s.Off+s.Len], r.dvalues[i])
		}
	}
	if r.graph.RouterLoss() != nil {
		aux := len(in) - 1
		grad[aux][0] = 1
		return in[aux][0]
	}
	return 0
}

// LogProbs implements core.Engine.
func (e *CPU) LogProbs(seqs []core.Sequence, opts core.ForwardOptions) (*core.Forward, error) {
	e.abandon()
	if len(seqs) == 0 {
		return nil, fmt.Errorf("model: LogProbs of no sequences")
	}
	e.keepGrads()
	temp, err := opts.Temp()
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	maxLen := 0
	for _, s := range seqs {
		maxLen = max(maxLen, len(s.Tokens))
	}
	g, err := e.graphFor(len(seqs), maxLen, temp)
	if err != nil {
		return nil, err
	}
	spans, err := g.Load(seqs)
	if err != nil {
		return nil, err
	}
	r := g.run
	r.spans, r.err, r.entropy = spans, nil, opts.Entropy
	r.dlogp, r.dvalues = nil, nil
	r.fwd = &core.Forward{LogP: make([][]float64, len(seqs))}
	if g.Value != nil {
		r.fwd.Values = make([][]float64, len(seqs))
	}
	if opts.Entropy {
		r.fwd.Entropy = make([][]float64, len(seqs))
		g.targets.Entropy = g.entropy
	} else {
		g.targets.Entropy = nil
	}
	r.paused, r.resume, r.done = make(chan struct{}), make(chan bool), make(chan struct{})
	go func() {
		defer close(r.done)
		r.err = g.Run()
	}()
	select {
	case <-r.paused:
	case <-r.done:
		if r.err == nil {
			r.err = fmt.Errorf("model: graph finished without reaching its loss")
		}
		return nil, r.err
	}
	e.run, e.lastGraph = r, g
	return r.fwd, nil
}

// abandon finishes a pending run with a zero gradient.
func (e *CPU) abandon() {
	if e.run != nil {
		e.run.finish(false)
		e.run = nil
	}
}

// finish lets a paused run complete, with the gradient Backward set
// (keep) or none, and waits for it.
func (r *pendingRun) finish(keep bool) {
	r.resume <- keep
	<-r.done
}

// Backward implements core.Engine.
func (e *CPU) Backward(dlogp, dvalues [][]float64) error {
	r := e.run
	if r == nil {
		return fmt.Errorf("model: Backward without a pending LogProbs")
	}
	e.run = nil
	if dlogp == nil && dvalues == nil {
		r.finish(false)
		return nil
	}
	if len(dlogp) != len(r.spans) || (dvalues != nil && len(dvalues) != len(r.spans)) {
		r.finish(false)
		return fmt.Errorf("model: Backward got gradients of %d and %d sequences, the forward pass had %d", len(dlogp), len(dvalues), len(r.spans))
	}
	for i, s := range r.spans {
		if len(dlogp[i]) != s.Len || (dvalues != nil && len(dvalues[i]) != s.Len) {
			r.finish(false)
			return fmt.Errorf("model: Backward: sequence %d's gradient does not have its %d scored tokens", i, s.Len)
		}
	}
	r.dlogp, r.dvalues = dlogp, dvalues
	r.finish(true)
	if r.err != nil {
		return r.err
	}
	if e.opts.Float64 {
		return nil
	}
	grads, err := r.graph.Grads()
	if err != nil {
		return err
	}
	e.nBackward++
	if e.nBackward == 1 {
		e.grads = grads // read in place by Step unless another pass comes first
		return nil
	}
	for i, g := range grads { // e.acc holds the earlier passes' sum (keepGrads)
		a := e.acc[i]
		for j, v := range g {
			a[j] += v
		}
	}
	e.grads = e.acc
	return nil
}

// keepGrads copies a first Backward's gradients out of its graph's buffers
// before another pass runs: a second pass before Step may run on the same
// graph (fixed-length graphs, a batch of the same shape) and overwrite them.
func (e *CPU) keepGrads() {
	if e.nBackward != 1 {
		return
	}
	if e.acc == nil {
		e.acc = make([][]float32, len(e.grads))
		for i, g := range e.grads {
			e.acc[i] = make([]float32, len(g))
		}
	}
	for i, g := range e.grads {
		copy(e.acc[i], g)
	}
	e.grads = e.acc
}

// Step implements core.Engine.
func (e *CPU) Step() (core.StepStats, error) {
	if e.opt == nil || e.opts.Float64 {
		return core.StepStats{}, core.ErrFrozen
	}
	if e.nBackward == 0 {
		return core.StepStats{}, fmt.Errorf("model: Step without Backward")
	}
	st, err := e.opt.Step(e.grads)
	e.grads, e.nBackward = nil, 0
	return st, err
}

// Score implements core.Engine with the inference path, one sequence at a
// time.
func (e *CPU) Score(seqs []core.Sequence, opts core.ForwardOptions) (*core.Forward, error) {
	temp, err := opts.Temp()
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if e.scorer == nil {
		e.scorer = NewScorer(e.p)
	}
	f := &core.Forward{LogP: make([][]float64, len(seqs))}
	if opts.Entropy {
		f.Entropy = make([][]float64, len(seqs))
	}
	withValues := e.p.VW != nil
	if withValues {
		f.Values = make([][]float64, len(seqs))
	}
	for i, s := range seqs {
		var ent *[]float64
		if opts.Entropy {
			ent = &f.Entropy[i]
		}
		var vals []float64
		if f.LogP[i], vals, err = e.scorer.score(s, temp, ent, withValues); err != nil {
			return nil, fmt.Errorf("model: sequence %d: %w", i, err)
		}
		if withValues {
			f.Values[i] = vals
		}
	}
	return f, nil
}

// defaultSampleBlock is how many rows a CPU engine decodes together when
// SampleConfig.Block is 0.
const defaultSampleBlock = 64

// Sample implements core.Engine.
func (e *CPU) Sample(ctx context.Context, prompts [][]int, cfg core.SampleConfig) ([]core.Completion, error) {
	rows := cfg.Block
	if rows == 0 {
		rows = defaultSampleBlock
	}
	rows = max(1, min(rows, len(prompts)))
	s, ok := e.samplers[rows]
	if !ok {
		s = NewSampler(e.p, rows)
		e.samplers[rows] = s
	}
	return s.GenerateContext(ctx, prompts, cfg)
}

// Snapshot implements core.Engine: a frozen copy of the weights.
func (e *CPU) Snapshot() (core.Engine, error) { return NewFrozen(e.p.Clone()), nil }

// NewFrozen is an engine over p that scores and samples but cannot train.
func NewFrozen(p *Params) *CPU { return newCPU(p, CPUOptions{}) }

// Weights implements core.Engine (copies).
func (e *CPU) Weights() ([]core.Tensor, error) {
	var out []core.Tensor
	for _, t := range e.p.All() {
		out = append(out, core.Tensor{Name: t.Name, Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)})
	}
	return out, nil
}

// The layout of an engine's State, shared by every engine so that a state
// saved by one restores into another: each weight under its own name, its
// AdamW moments under these prefixes, and the update count under
// StateUpdates.
const (
	StateMoment1 = "adam_m/"
	StateMoment2 = "adam_v/"
	StateUpdates = "optimiser_updates"
)

// State implements core.Engine: the weights under their own names, AdamW's
// moments under adam_m/ and adam_v/, and the update count. The tensors
// share the engine's arrays; write them out before the next Step.
func (e *CPU) State() ([]core.Tensor, map[string]string, error) {
	if e.opt == nil {
		return nil, nil, core.ErrFrozen
	}
	m, v, updates := e.opt.Moments()
	var ts []core.Tensor
	for i, p := range e.p.All() {
		ts = append(ts, *p,
			core.Tensor{Name: StateMoment1 + p.Name, Shape: p.Shape, Data: m[i]},
			core.Tensor{Name: StateMoment2 + p.Name, Shape: p.Shape, Data: v[i]})
	}
	return ts, map[string]string{StateUpdates: strconv.Itoa(updates)}, nil
}

// SetState implements core.Engine.
func (e *CPU) SetState(ts []core.Tensor, meta map[string]string) error {
	if e.opt == nil {
		return core.ErrFrozen
	}
	updates, err := strconv.Atoi(meta[StateUpdates])
	if err != nil {
		return fmt.Errorf("model: state: %s: %w", StateUpdates, err)
	}
	params := e.p.All()
	if want := 3 * len(params); len(ts) != want {
		return fmt.Errorf("model: state holds %d tensors, want %d", len(ts), want)
	}
	byName := make(map[string][]float32, len(ts))
	for _, t := range ts {
		byName[t.Name] = t.Data
	}
	get := func(name string, n int) ([]float32, error) {
		d, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("model: state has no tensor %q", name)
		}
		if len(d) != n {
			return nil, fmt.Errorf("model: state tensor %q has %d elements, want %d", name, len(d), n)
		}
		return d, nil
	}
	weights := make([][]float32, len(params))
	m := make([][]float32, len(params))
	v := make([][]float32, len(params))
	for i, p := range params {
		if weights[i], err = get(p.Name, len(p.Data)); err != nil {
			return err
		}
		if m[i], err = get(StateMoment1+p.Name, len(p.Data)); err != nil {
			return err
		}
		if v[i], err = get(StateMoment2+p.Name, len(p.Data)); err != nil {
			return err
		}
	}
	if err := e.opt.Restore(m, v, updates); err != nil {
		return err
	}
	// Weights last, in place: graphs and samplers read these arrays.
	for i, p := range params {
		copy(p.Data, weights[i])
	}
	return nil
}

// Float64Weights returns the weights of the float64 graph the last
// LogProbs ran on and their gradients from the last Backward, for
// finite-difference checks: writing into a weight array changes the next
// LogProbs.
func (e *CPU) Float64Weights() (weights, grads [][]float64, err error) {
	if !e.opts.Float64 || e.lastGraph == nil {
		return nil, nil, fmt.Errorf("model: Float64Weights needs a float64 engine that has run")
	}
	return e.lastGraph.Float64Weights()
}

// LastGraphSeq is the length of the graph the last LogProbs ran on (0
// before any): tests check that short batches run on short graphs.
func (e *CPU) LastGraphSeq() int {
	if e.lastGraph == nil {
		return 0
	}
	return e.lastGraph.Seq
}

// ParamsOf returns an engine's weights as Params: a CPU engine's own
// (live: they change with its next Step), another engine's as a host copy
// when it can tell its architecture (a ModelConfig() Config method).
func ParamsOf(e core.Engine) (*Params, error) {
	if c, ok := e.(*CPU); ok {
		return c.p, nil
	}
	mc, ok := e.(interface{ ModelConfig() Config })
	if !ok {
		return nil, fmt.Errorf("model: engine %T does not describe its architecture", e)
	}
	ts, err := e.Weights()
	if err != nil {
		return nil, err
	}
	p, err := NewParams(mc.ModelConfig())
	if err != nil {
		return nil, err
	}
	all := p.All()
	if len(ts) != len(all) {
		return nil, fmt.Errorf("model: engine has %d weight tensors, its architecture %d", len(ts), len(all))
	}
	for i, t := range ts {
		if t.Name != all[i].Name || len(t.Data) != len(all[i].Data) {
			return nil, fmt.Errorf("model: engine weight %d is %s of %d elements, want %s of %d", i, t.Name, len(t.Data), all[i].Name, len(all[i].Data))
		}
		copy(all[i].Data, t.Data)
	}
	return p, nil
}

// ModelConfig is the architecture.
func (e *CPU) ModelConfig() Config { return e.p.Config }
