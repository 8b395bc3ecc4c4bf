package sweep

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/rewards"
)

// Defaults. Every one is written into each trial's config.toml; the README
// snippet documents them and a test checks that it mentions every key.
const (
	DefaultPreset = "small"

	DefaultDataSeed  = 1
	DefaultTieMargin = 0.05 // rewards.DefaultTieMargin (tested)
	DefaultDigits    = 2    // arith only

	DefaultPretrainSteps  = 600
	DefaultPretrainBatch  = 32
	DefaultPretrainLR     = 3e-3
	DefaultPretrainWarmup = 30
	DefaultPretrainSeed   = 1

	DefaultTrainSteps   = 40
	DefaultTrainPrompts = 8
	DefaultTrainLR      = 5e-4
	DefaultSchedule     = "constant"
	DefaultWeightDecay  = 0.01 // the paper's
	DefaultClipNorm     = 1.0
	DefaultTemperature  = 0.7 // the paper's rollout temperature
	DefaultTopP         = 1.0
	DefaultMaxNew       = 48

	DefaultTruncate  = "none"
	DefaultEvalSplit = "eval"
	// DefaultEvalPoints is the number of evaluations over training
	// (eval_every = steps/DefaultEvalPoints), enough to interpolate
	// steps_to_90 between points 5% of training apart.
	DefaultEvalPoints = 20
	// DefaultCheckpoints is how many training-state checkpoints a trial
	// saves by default (train.checkpoint_every = steps / DefaultCheckpoints).
	DefaultCheckpoints = 10

	DefaultSelectMetric = "reward"
	DefaultSelectSeed   = 1000

	DefaultCalibratePrompts = 64
	DefaultCalibrateSamples = 16
	DefaultCalibrateSeed    = 1

	DefaultMetric = "RAS"
)

// DefaultMetrics are the report's table rows.
var DefaultMetrics = []string{"RAS", "NAG"}

// explicitFn reports whether a key (display form, e.g. "train.lr") was
// written in the file or set by the grid: only then does a zero value stay.
type explicitFn func(key string) bool

func fillInt(p *int, def int, explicit bool) {
	if *p == 0 && !explicit {
		*p = def
	}
}

func fillUint(p *uint64, def uint64, explicit bool) {
	if *p == 0 && !explicit {
		*p = def
	}
}

func fillFloat(p *float64, def float64, explicit bool) {
	if *p == 0 && !explicit {
		*p = def
	}
}

func fillString(p *string, def string, explicit bool) {
	if *p == "" && !explicit {
		*p = def
	}
}

func resolveModel(m *ModelSpec, ex explicitFn) {
	fillString(&m.Preset, DefaultPreset, ex("model.preset"))
	p, err := model.Preset(m.Preset)
	if err != nil {
		return // reported by validation
	}
	fillInt(&m.DModel, p.DModel, ex("model.d_model"))
	fillInt(&m.NLayer, p.NLayer, ex("model.n_layer"))
	fillInt(&m.NHead, p.NHead, ex("model.n_head"))
	fillInt(&m.Context, p.Context, ex("model.context"))
	if m.Label == "" && !ex("model.label") {
		m.Label = m.Preset
		if m.DModel != p.DModel || m.NLayer != p.NLayer || m.NHead != p.NHead || m.Context != p.Context {
			m.Label = fmt.Sprintf("d%dl%d", m.DModel, m.NLayer)
		}
	}
}

func resolveTask(t *TaskSpec, ex explicitFn) {
	fillUint(&t.DataSeed, DefaultDataSeed, ex("task.data_seed"))
	fillFloat(&t.TieMargin, DefaultTieMargin, ex("task.tie_margin"))
	fillString(&t.Truncate, DefaultTruncate, ex("task.truncate"))
	if t.Name == "arith" {
		fillInt(&t.Digits, DefaultDigits, ex("task.digits"))
	}
}

func resolvePretrain(p *PretrainSpec, ex explicitFn) {
	fillInt(&p.Steps, DefaultPretrainSteps, ex("pretrain.steps"))
	fillInt(&p.Batch, DefaultPretrainBatch, ex("pretrain.batch"))
	fillFloat(&p.LR, DefaultPretrainLR, ex("pretrain.lr"))
	fillInt(&p.Warmup, DefaultPretrainWarmup, ex("pretrain.warmup"))
	fillUint(&p.Seed, DefaultPretrainSeed, ex("pretrain.seed"))
	if !ex("pretrain.pack") {
		p.Pack = true
	}
}

func resolveTrain(t *TrainSpec, ex explicitFn) {
	fillInt(&t.Steps, DefaultTrainSteps, ex("train.steps"))
	fillInt(&t.Prompts, DefaultTrainPrompts, ex("train.prompts"))
	fillFloat(&t.LR, DefaultTrainLR, ex("train.lr"))
	fillString(&t.Schedule, DefaultSchedule, ex("train.schedule"))
	fillFloat(&t.WeightDecay, DefaultWeightDecay, ex("train.weight_decay"))
	fillFloat(&t.ClipNorm, DefaultClipNorm, ex("train.clip_norm"))
	fillFloat(&t.Temperature, DefaultTemperature, ex("train.temperature"))
	fillFloat(&t.TopP, DefaultTopP, ex("train.top_p"))
	fillInt(&t.MaxNew, DefaultMaxNew, ex("train.max_new_tokens"))
	fillInt(&t.EvalEvery, max(1, t.Steps/DefaultEvalPoints), ex("train.eval_every"))
	fillInt(&t.CheckpointEvery, max(1, t.Steps/DefaultCheckpoints), ex("train.checkpoint_every"))
	if t.Device == "cpu" { // the default, written out: the same trials
		t.Device = ""
	}
	if !ex("train.tempered_logprobs") {
		t.TemperedLogProbs = true
	}
}

// resolveEval leaves eval.prompts at 0 ("every prompt of the split")
// unless it is set.
func resolveEval(e *EvalSpec, ex explicitFn) {
	fillString(&e.Split, DefaultEvalSplit, ex("eval.split"))
	fillInt(&e.MaxNew, DefaultMaxNew, ex("eval.max_new_tokens"))
}

func resolveCalibrate(c *CalibrateSpec, ex explicitFn) {
	fillInt(&c.Prompts, DefaultCalibratePrompts, ex("calibrate.prompts"))
	fillInt(&c.Samples, DefaultCalibrateSamples, ex("calibrate.samples"))
	fillUint(&c.Seed, DefaultCalibrateSeed, ex("calibrate.seed"))
}

func resolveSelect(s *SelectSpec, ex explicitFn) {
	fillString(&s.Metric, DefaultSelectMetric, ex("select.metric"))
	if s.Seeds == nil && !ex("select.seeds") {
		s.Seeds = []uint64{DefaultSelectSeed}
	}
}

func resolveReward(r *RewardSpec, ex explicitFn) {
	fillString(&r.Kind, rewards.DefaultKind, ex("reward.kind"))
	for i := range r.Parts {
		p := &r.Parts[i]
		k := fmt.Sprintf("reward.part[%d].", i+1)
		fillFloat(&p.Weight, rewards.DefaultWeight, ex(k+"weight"))
		if kind, ok := rewards.Lookup(p.Kind); ok && kind.Defaults != nil {
			kind.Defaults(p, func(key string) bool { return ex(k + key) })
		}
	}
}

// Resolve fills every default into s in place (see the constants above);
// it is idempotent. Algorithm parameters become the algorithm's full
// configuration when they are valid. Expand does not need it: each trial
// is resolved from the sweep as written, so that a grid over a key whose
// default depends on another (model sizes on model.preset, eval_every on
// train.steps) stays right.
func (s *Sweep) Resolve() {
	s.addControls(&errList{}) // a parsed sweep has them already; check reports a bad value
	if s.raw == nil {
		s.raw = s.clone()
	}
	ex := s.explicit(nil)
	if s.Name == "" && s.file != "" {
		s.Name = strings.TrimSuffix(filepath.Base(s.file), filepath.Ext(s.file))
	}
	resolveModel(&s.Model, ex)
	resolveTask(&s.Task, ex)
	resolvePretrain(&s.Pretrain, ex)
	resolveTrain(&s.Train, ex)
	resolveEval(&s.Eval, ex)
	resolveReward(&s.Reward, ex)
	resolveCalibrate(&s.Calibrate, ex)
	resolveSelect(&s.Select, ex)
	resolvePassK(&s.PassK, s.Train, s.Eval, ex)
	for i := range s.Algorithms {
		a := &s.Algorithms[i]
		if a.Label == "" && !a.labelSet {
			a.Label = a.Name
		}
		if p, err := fullParams(a.Name, a.Params); err == nil {
			a.Params = p
		}
	}
	s.resolveReport()
}

func (s *Sweep) labels() []string {
	out := make([]string, len(s.Algorithms))
	for i, a := range s.Algorithms {
		out[i] = a.label()
	}
	return out
}

func (a *AlgorithmSpec) label() string {
	if a.Label == "" && !a.labelSet {
		return a.Name
	}
	return a.Label
}

// defaultTarget is the label of the registered target algorithm (GRAO,
// algorithms.DefaultTarget), else the first algorithm of that name, else
// the first algorithm.
func (s *Sweep) defaultTarget() string {
	target := algorithms.DefaultTarget()
	if slices.Contains(s.labels(), target) {
		return target
	}
	for _, a := range s.Algorithms {
		if a.Name == target {
			return a.label()
		}
	}
	if len(s.Algorithms) > 0 {
		return s.Algorithms[0].label()
	}
	return ""
}

func (s *Sweep) resolveReport() {
	r := &s.Report
	if r.Target == "" && !s.set["report.target"] {
		r.Target = s.defaultTarget()
	}
	if r.Baselines == nil && !s.set["report.baselines"] {
		r.Baselines = []string{}
		for _, a := range s.Algorithms {
			if l := a.label(); l != r.Target && a.control == "" {
				r.Baselines = append(r.Baselines, l)
			}
		}
	}
	fillString(&r.Metric, DefaultMetric, s.set["report.metric"])
	if r.Metrics == nil && !s.set["report.metrics"] {
		r.Metrics = slices.Clone(DefaultMetrics)
	}
}

// explicit reports keys written in the file or set by a grid point.
func (s *Sweep) explicit(grid map[string]bool) explicitFn {
	return func(k string) bool { return s.set[k] || grid[k] }
}

// clone is a deep copy of what Expand reads.
func (s *Sweep) clone() *Sweep {
	c := *s
	c.Seeds = slices.Clone(s.Seeds)
	c.Reward = cloneReward(s.Reward)
	c.Algorithms = make([]AlgorithmSpec, len(s.Algorithms))
	for i, a := range s.Algorithms {
		a.Params = maps.Clone(a.Params)
		c.Algorithms[i] = a
	}
	c.Grid = maps.Clone(s.Grid)
	c.Select.Grid = maps.Clone(s.Select.Grid)
	c.Select.Seeds = slices.Clone(s.Select.Seeds)
	c.Task = cloneTask(s.Task)
	c.Report.Compare = slices.Clone(s.Report.Compare)
	c.Report.Baselines = slices.Clone(s.Report.Baselines)
	c.Report.Metrics = slices.Clone(s.Report.Metrics)
	c.raw = nil
	return &c
}

func cloneTask(t TaskSpec) TaskSpec {
	t.Kinds = slices.Clone(t.Kinds)
	t.Levels = maps.Clone(t.Levels)
	t.Band = slices.Clone(t.Band)
	return t
}

func cloneReward(r RewardSpec) RewardSpec {
	r.Parts = slices.Clone(r.Parts)
	for i := range r.Parts {
		r.Parts[i].Args = slices.Clone(r.Parts[i].Args)
	}
	return r
}

// fullParams validates params with the algorithm's factory and returns
// its complete configuration (defaults included) in canonical form: a
// JSON round trip, integers where the JSON text is integral. So beta = 1
// and beta = 1.0 give the same trial, and the same ID.
func fullParams(name string, params map[string]any) (map[string]any, error) {
	alg, err := algorithms.New(name, params)
	if err != nil {
		return nil, err
	}
	cfg := alg.Config()
	if cfg == nil {
		return map[string]any{}, nil
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: configuration cannot be encoded: %v", name, err)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: configuration is not a JSON object: %v", name, err)
	}
	out, _ := canonical(m).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// canonical turns JSON values into TOML-encodable ones; nulls are dropped
// (TOML has none, and an absent key decodes to the same default).
func canonical(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if e != nil {
				out[k] = canonical(e)
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if e != nil {
				out = append(out, canonical(e))
			}
		}
		return out
	}
	return v
}

var labelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
