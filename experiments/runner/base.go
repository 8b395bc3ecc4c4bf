package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/checkpoint"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/optim"
	"github.com/grao-lab/grao/core/pretrain"
	"github.com/grao-lab/grao/core/tokenizer"
	"github.com/grao-lab/grao/experiments/evaluate"
	"github.com/grao-lab/grao/experiments/sweep"
	"github.com/grao-lab/grao/kernels"
)

// EnvBaseCache names an optional directory shared by all sweeps: base
// models are looked up there by BaseKey before pre-training, and saved
// there after. The key covers model, task and pre-training config, not the
// code version: clear the directory after changing the model code.
const EnvBaseCache = "GRAO_BASE_CACHE"

// baseCache builds each base model once per BaseKey (model × task ×
// pretrain config) and keeps it in DIR/base/<key>/; trials clone it. The
// starting model's evaluation outputs (for NAG) are cached the same way.
type baseCache struct {
	dir  string
	logf func(format string, args ...any)

	mu      sync.Mutex
	entries map[string]*baseEntry
}

type baseEntry struct {
	once   sync.Once
	params *model.Params
	err    error
	// pretrainedWith is the BLAS (or "cuda") that pre-trained the base,
	// from its checkpoint when reused ("unknown" for checkpoints from
	// before it was recorded; "" for a user's checkpoint).
	pretrainedWith string
	// tok is the model's tokenizer and tokFiles its files (a BPE model
	// directory's; nil for the byte tokenizer).
	tok      tokenizer.Tokenizer
	tokFiles map[string][]byte

	outMu   sync.Mutex
	outputs map[outKey]evaluate.Outputs

	// calibrations by file name (see cached)
	calMu sync.Mutex
	cal   map[string][]byte
}

// outKey identifies the starting model's outputs on one split's prefix.
type outKey struct {
	cfg   evaluate.Config
	task  string // the task's identity: spec and levels
	split string
	n     int
}

func newBaseCache(dir string, logf func(string, ...any)) *baseCache {
	return &baseCache{dir: dir, logf: logf, entries: map[string]*baseEntry{}}
}

func (c *baseCache) entry(key string) *baseEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		e = &baseEntry{outputs: map[outKey]evaluate.Outputs{}, cal: map[string][]byte{}}
		c.entries[key] = e
	}
	return e
}

// get returns the trial's base model (shared: callers must Clone it).
func (c *baseCache) get(ctx context.Context, tr sweep.Trial, task core.Task) (*model.Params, error) {
	e := c.entry(tr.BaseKey())
	e.once.Do(func() {
		e.tok = tokenizer.Byte{}
		if tr.Pretrain.Checkpoint != "" {
			var m *checkpoint.Model
			if m, e.err = checkpoint.Open(tr.Pretrain.Checkpoint); e.err == nil {
				e.params, e.tok, e.tokFiles = m.Params, m.Tokenizer, m.TokenizerFiles
			}
			return
		}
		e.params, e.pretrainedWith, e.err = c.build(ctx, tr, task)
	})
	return e.params, e.err
}

// pretrainedWith is what pre-trained the trial's base model (after get):
// the BLAS, or "cuda".
func (c *baseCache) pretrainedWith(tr sweep.Trial) string {
	return c.entry(tr.BaseKey()).pretrainedWith
}

// metaPretrainedWith is the base checkpoint's metadata key for it.
const metaPretrainedWith = "pretrained_with"

// engineLabel names what pre-trains on device (pretrain.RunOn's rule):
// another engine by its name, the CPU engine by its BLAS, whose roundings
// differ between BLAS libraries.
func engineLabel(device string) string {
	if device != "" && device != "cpu" {
		return device
	}
	return kernels.Current().Name()
}

// tokenizer is the tokenizer of the trial's base model (after get) and
// the files it was read from (nil for the byte tokenizer).
func (c *baseCache) tokenizer(tr sweep.Trial) (tokenizer.Tokenizer, map[string][]byte) {
	e := c.entry(tr.BaseKey())
	if e.tok == nil {
		return tokenizer.Byte{}, nil
	}
	return e.tok, e.tokFiles
}

// outputs returns the base model's evaluation outputs for NAG. taskID
// names the task at its levels: trials on one base may evaluate different
// splits or levels.
func (c *baseCache) outputs(ctx context.Context, tr sweep.Trial, taskID string, task core.Task, base *model.Params, exs []core.Example, ec evaluate.Config) (evaluate.Outputs, error) {
	e := c.entry(tr.BaseKey())
	e.outMu.Lock()
	defer e.outMu.Unlock()
	k := outKey{ec, taskID, tr.Eval.Split, len(exs)}
	if o, ok := e.outputs[k]; ok {
		return o, nil
	}
	eng, err := scorerOn(tr.Train.Device, base)
	if err != nil {
		return evaluate.Outputs{}, err
	}
	o, err := evaluate.Generate(ctx, eng, task, exs, ec)
	if err == nil {
		e.outputs[k] = o
	}
	return o, err
}

func (c *baseCache) build(ctx context.Context, tr sweep.Trial, task core.Task) (*model.Params, string, error) {
	dir := filepath.Join(c.dir, "base", tr.BaseKey())
	shared := ""
	if root := os.Getenv(EnvBaseCache); root != "" {
		shared = filepath.Join(root, tr.BaseKey())
	}
	// One process builds a base model; others (array tasks of a cluster
	// job, sweeps sharing GRAO_BASE_CACHE) wait for it and load what it
	// saved. Locks are taken in one order, shared cache first.
	for _, d := range []string{shared, dir} {
		if d == "" {
			continue
		}
		l, err := lockWait(ctx, d+".lock", func(pid int) {
			c.logf("base %s: waiting for process %d, which is building it (%s)", tr.BaseKey(), pid, d)
		})
		if err != nil {
			return nil, "", err
		}
		defer l.Unlock()
	}
	for _, d := range []string{dir, shared} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "model.safetensors")); err != nil {
			continue
		}
		p, err := checkpoint.Load(d)
		if err != nil {
			c.logf("base %s: cached checkpoint in %s unreadable (%v), ignoring it", tr.BaseKey(), d, err)
			continue
		}
		with := "unknown"
		if md, err := checkpoint.Metadata(d); err == nil && md[metaPretrainedWith] != "" {
			with = md[metaPretrainedWith]
		}
		c.logf("base %s: reusing %s (pre-trained with %s)", tr.BaseKey(), d, with)
		// The key does not hold the BLAS (so that a cache serves runs on
		// any), but the base's roundings came from it: say so when they
		// will mix with another's.
		if now := engineLabel(tr.Train.Device); with != now {
			c.logf("base %s: warning: pre-trained with %s, this run trains with %s; manifests record both (base_pretrained_with, blas)", tr.BaseKey(), with, now)
		}
		if d != dir {
			err = checkpoint.Save(dir, p, map[string]string{"base_key": tr.BaseKey(), "copied_from": d, metaPretrainedWith: with})
		}
		return p, with, err
	}
	mc, err := modelConfig(tr.Model)
	if err != nil {
		return nil, "", err
	}
	ps := tr.Pretrain
	oc := optim.DefaultConfig()
	oc.LR = ps.LR
	oc.Schedule = optim.Schedule{Kind: "cosine", Warmup: ps.Warmup, Total: ps.Steps, MinFactor: 0.1}
	cfg := pretrain.Config{Model: mc, Steps: ps.Steps, Batch: ps.Batch, Seq: mc.Context, Optim: oc, Seed: ps.Seed}
	c.logf("base %s: pre-training %s on %s (%d steps)", tr.BaseKey(), tr.Model.Label, tr.Task.Name, ps.Steps)
	start := time.Now()
	var lastLoss float64
	every := max(ps.Steps/10, 1)
	var data pretrain.Data = pretrain.Docs(task.Corpus())
	if ps.Pack {
		data = pretrain.Packed(task.Corpus())
	}
	report := func(pr pretrain.Progress) {
		lastLoss = pr.Loss
		if pr.Step%every == 0 {
			c.logf("base %s: step %d/%d loss %.3f (%.0fs)", tr.BaseKey(), pr.Step, ps.Steps, pr.Loss, time.Since(start).Seconds())
		}
	}
	eng, err := pretrain.RunOn(ctx, tr.Train.Device, cfg, data, report)
	if err != nil {
		return nil, "", fmt.Errorf("pre-training base model: %w", err)
	}
	p, err := model.ParamsOf(eng)
	if err != nil {
		return nil, "", err
	}
	with := engineLabel(tr.Train.Device)
	meta := map[string]string{"base_key": tr.BaseKey(), "task": tr.Task.Name, "steps": fmt.Sprint(ps.Steps), metaPretrainedWith: with}
	for _, d := range []string{dir, shared} {
		if d == "" {
			continue
		}
		if err := checkpoint.Save(d, p, meta); err != nil {
			return nil, "", err
		}
	}
	c.logf("base %s: done in %.0fs, final loss %.3f", tr.BaseKey(), time.Since(start).Seconds(), lastLoss)
	return p, with, nil
}

// modelConfig turns a model spec into an architecture.
func modelConfig(ms sweep.ModelSpec) (model.Config, error) {
	c, err := model.Preset(ms.Preset)
	if err != nil {
		return c, err
	}
	if ms.DModel > 0 {
		c.DModel = ms.DModel
	}
	if ms.NLayer > 0 {
		c.NLayer = ms.NLayer
	}
	if ms.NHead > 0 {
		c.NHead = ms.NHead
	}
	if ms.Context > 0 {
		c.Context = ms.Context
	}
	return c, c.Validate()
}

// scorerOn is an engine over a copy of p on the trials' device, for
// evaluation (the CPU's frozen engine over p itself by default).
func scorerOn(device string, p *model.Params) (core.Engine, error) {
	if device == "" || device == "cpu" {
		return model.NewFrozen(p), nil
	}
	return model.NewEngine(device, p.Clone(), optim.DefaultConfig())
}
