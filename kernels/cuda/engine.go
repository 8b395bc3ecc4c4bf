//go:build grao_cuda

package cuda

import (
	"fmt"
	"strconv"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
)

var _ core.Engine = (*Engine)(nil)

func init() {
	model.RegisterEngine("cuda", func(p *model.Params, oc optim.Config) (core.Engine, error) {
		e, err := New(p, oc)
		if err != nil {
			return nil, err
		}
		return e, nil
	})
}

// Engine is core.Engine on one GPU. The weights, their gradients and
// AdamW's moments are four flat device arrays laid out in Params.All()
// order; activations and KV caches live in device arenas reused from call
// to call. Only token ids, per-token vectors, and (for Sample) each decode
// step's logits rows cross to the host: tokens are drawn on the host with
// the CPU sampler's rules, so a row's stream matches the CPU engine's.
// Not safe for concurrent use.
type Engine struct {
	dev     *device
	cfg     model.Config
	tensors []tensorInfo
	total   int
	// w, g, m, v: weights, accumulated gradients, AdamW moments.
	w, g, m, v ptr
	partial    ptr // grao_sumsq's per-block sums (float64)
	// plain holds nPlain sorted ranges [start, end) of elements (int64
	// pairs) that AdamW does not decay.
	plain  ptr
	nPlain int
	// ones holds nOnes float32 ones for column sums (colSum).
	ones  ptr
	nOnes int

	oc      optim.Config
	frozen  bool
	updates int

	train, score, prefill, decode acts
	cache                         []ptr // per layer [rows, Context, 3d]
	cacheRows                     int
	pending                       *pending
	nBackward                     int
	closed                        bool
}

type tensorInfo struct {
	name   string
	shape  []int
	off, n int
	decay  bool
}

// sumsqBlocks is the grid of the gradient-norm reduction.
const sumsqBlocks = 256

// New copies p to the GPU and prepares AdamW with oc. p is not used
// afterwards.
func New(p *model.Params, oc optim.Config) (*Engine, error) {
	if err := oc.Validate(); err != nil {
		return nil, err
	}
	return newEngine(p, oc, false)
}

// NewFrozen is an engine over a copy of p that scores and samples but
// cannot train (a Snapshot).
func NewFrozen(p *model.Params) (*Engine, error) { return newEngine(p, optim.Config{}, true) }

func newEngine(p *model.Params, oc optim.Config, frozen bool) (*Engine, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	if p.Config.IsMoE() {
		return nil, fmt.Errorf("cuda: mixture-of-experts models run on the CPU engine only")
	}
	dev, err := openDevice()
	if err != nil {
		return nil, err
	}
	e := &Engine{dev: dev, cfg: p.Config, oc: oc, frozen: frozen}
	host := make([]float32, 0, p.Config.NumParams())
	for _, t := range p.All() {
		e.tensors = append(e.tensors, tensorInfo{name: t.Name, shape: append([]int(nil), t.Shape...), off: len(host), n: len(t.Data),
			decay: len(t.Shape) == 2 && t.Shape[1] > 1}) // as model.OptimParams
		host = append(host, t.Data...)
	}
	e.total = len(host)
	e.train.train = true
	plain := plainRanges(e.tensors)
	e.nPlain = len(plain) / 2
	err = dev.do(func(q *queue) {
		arrays := []*ptr{&e.w}
		if !frozen {
			arrays = append(arrays, &e.g, &e.m, &e.v, &e.partial, &e.plain)
		}
		for _, a := range arrays {
			n := int64(4 * e.total)
			switch a {
			case &e.partial:
				n = 8 * sumsqBlocks
			case &e.plain:
				n = 8 * int64(max(1, len(plain)))
			}
			d, err := memAlloc(n)
			if err != nil {
				q.fail(fmt.Errorf("cuda: allocating %d MiB for the weights: %w", n>>20, err))
				return
			}
			*a = d
		}
		toDevice(q, e.w, host)
		if !frozen {
			toDevice(q, e.plain, plain)
			q.zero(e.g, e.total)
			q.zero(e.m, e.total)
			q.zero(e.v, e.total)
		}
	})
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// plainRanges is the tensors without weight decay as sorted element
// ranges, start and end (exclusive) in turn, adjacent ones merged.
func plainRanges(ts []tensorInfo) []int64 {
	var r []int64
	for _, t := range ts {
		switch {
		case t.decay || t.n == 0:
		case len(r) > 0 && r[len(r)-1] == int64(t.off):
			r[len(r)-1] += int64(t.n)
		default:
			r = append(r, int64(t.off), int64(t.off+t.n))
		}
	}
	return r
}

// Close frees the device memory and the context. The engine is unusable
// afterwards.
func (e *Engine) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	e.dev.ctx.Do(func() error {
		for _, a := range []ptr{e.w, e.g, e.m, e.v, e.partial, e.plain, e.ones} {
			if a != 0 {
				memFree(a)
			}
		}
		for _, c := range e.cache {
			memFree(c)
		}
		for _, a := range []*acts{&e.train, &e.score, &e.prefill, &e.decode} {
			a.ar.free()
		}
		return nil
	})
	return e.dev.close()
}

// Device describes the GPU and the cuBLAS library in use.
func (e *Engine) Device() string { return e.dev.info }

// ModelConfig is the architecture (model.ParamsOf reads it).
func (e *Engine) ModelConfig() model.Config { return e.cfg }

// Info implements core.Engine.
func (e *Engine) Info() core.ModelInfo {
	c := e.cfg
	return core.ModelInfo{VocabSize: c.VocabSize, Context: c.Context, ValueHead: c.ValueHead, Params: c.NumParams()}
}

// weight is tensor i's device address; grad its gradient's.
func (e *Engine) weight(i int) ptr { return off(e.w, e.tensors[i].off) }
func (e *Engine) grad(i int) ptr   { return off(e.g, e.tensors[i].off) }

// Indices into Params.All() order.
const (
	iWTE, iWPE = 0, 1
	perBlock   = 12
)

// Offsets of a block's tensors from 2 + perBlock·layer.
const (
	bLN1G = iota
	bLN1B
	bAttnW
	bAttnB
	bProjW
	bProjB
	bLN2G
	bLN2B
	bFCW
	bFCB
	bFC2W
	bFC2B
)

func blockTensor(l, which int) int { return 2 + perBlock*l + which }
func (e *Engine) iLNF() int        { return 2 + perBlock*e.cfg.NLayer }

func (e *Engine) hostArray(src ptr) ([]float32, error) {
	out := make([]float32, e.total)
	return out, e.dev.do(func(q *queue) { toHost(q, out, src) })
}

func (e *Engine) split(flat []float32, prefix string) []core.Tensor {
	out := make([]core.Tensor, len(e.tensors))
	for i, t := range e.tensors {
		out[i] = core.Tensor{Name: prefix + t.name, Shape: append([]int(nil), t.shape...), Data: flat[t.off : t.off+t.n : t.off+t.n]}
	}
	return out
}

// Weights implements core.Engine (host copies).
func (e *Engine) Weights() ([]core.Tensor, error) {
	flat, err := e.hostArray(e.w)
	if err != nil {
		return nil, err
	}
	return e.split(flat, ""), nil
}

// params is a host copy of the weights as model.Params.
func (e *Engine) params() (*model.Params, error) {
	ts, err := e.Weights()
	if err != nil {
		return nil, err
	}
	p, err := model.NewParams(e.cfg)
	if err != nil {
		return nil, err
	}
	for i, t := range p.All() {
		copy(t.Data, ts[i].Data)
	}
	return p, nil
}

// Snapshot implements core.Engine: a frozen engine (its own context and
// memory) over a copy of the current weights.
func (e *Engine) Snapshot() (core.Engine, error) {
	p, err := e.params()
	if err != nil {
		return nil, err
	}
	return NewFrozen(p)
}

// State implements core.Engine, in the CPU engine's layout: each weight
// followed by its two moments, and the update count.
func (e *Engine) State() ([]core.Tensor, map[string]string, error) {
	if e.frozen {
		return nil, nil, core.ErrFrozen
	}
	var parts [3][]core.Tensor
	for k, src := range []ptr{e.w, e.m, e.v} {
		flat, err := e.hostArray(src)
		if err != nil {
			return nil, nil, err
		}
		parts[k] = e.split(flat, []string{"", model.StateMoment1, model.StateMoment2}[k])
	}
	var ts []core.Tensor
	for i := range e.tensors {
		ts = append(ts, parts[0][i], parts[1][i], parts[2][i])
	}
	return ts, map[string]string{model.StateUpdates: strconv.Itoa(e.updates)}, nil
}

// SetState implements core.Engine.
func (e *Engine) SetState(ts []core.Tensor, meta map[string]string) error {
	if e.frozen {
		return core.ErrFrozen
	}
	updates, err := strconv.Atoi(meta[model.StateUpdates])
	if err != nil || updates < 0 {
		return fmt.Errorf("cuda: state: %s=%q is not an update count", model.StateUpdates, meta[model.StateUpdates])
	}
	if want := 3 * len(e.tensors); len(ts) != want {
		return fmt.Errorf("cuda: state holds %d tensors, want %d", len(ts), want)
	}
	byName := make(map[string][]float32, len(ts))
	for _, t := range ts {
		byName[t.Name] = t.Data
	}
	var flats [3][]float32
	for k, prefix := range []string{"", model.StateMoment1, model.StateMoment2} {
		flat := make([]float32, 0, e.total)
		for _, t := range e.tensors {
			d, ok := byName[prefix+t.name]
			if !ok {
				return fmt.Errorf("cuda: state has no tensor %q", prefix+t.name)
			}
			if len(d) != t.n {
				return fmt.Errorf("cuda: state tensor %q has %d elements, want %d", prefix+t.name, len(d), t.n)
			}
			flat = append(flat, d...)
		}
		flats[k] = flat
	}
	if err := e.dev.do(func(q *queue) {
		toDevice(q, e.w, flats[0])
		toDevice(q, e.m, flats[1])
		toDevice(q, e.v, flats[2])
	}); err != nil {
		return err
	}
	e.updates = updates
	return nil
}
