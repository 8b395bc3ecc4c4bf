package sweep

import (
	"fmt"
	"slices"
	"strings"

	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/experiments/tasks"
	"github.com/grao-lab/grao/rewards"
)

var schedules = []string{"constant", "cosine"}

// RewardRandom is the reward kind of a random-reward control: ±1 with
// probability ½ each, drawn from the trial's seed.
const RewardRandom = "random"

// standaloneKinds are the reward kinds [reward] kind = … may name: the
// registered kinds without keys of their own, and combine.
func standaloneKinds() []string {
	var out []string
	for _, n := range rewards.Kinds() {
		if k, _ := rewards.Lookup(n); len(k.Keys) == 0 {
			out = append(out, n)
		}
	}
	return append(out, "combine")
}

// partKinds are the registered kinds a [[reward.part]] may name.
func partKinds() []string {
	var out []string
	for _, n := range rewards.Kinds() {
		if k, _ := rewards.Lookup(n); !k.Alone {
			out = append(out, n)
		}
	}
	return out
}

// partKeys are the keys of a reward part a kind may own (every other
// rewards.Spec key is the part's own: kind, weight).
var partKeys = []string{"path", "args", "sha256", "timeout", "target", "per_byte", "max", "params"}

// partKeySet reports whether a part's key holds a value: written in the
// file, or non-zero (a sweep built in Go).
func partKeySet(pt RewardPart, key string, written bool) bool {
	if written {
		return true
	}
	switch key {
	case "path":
		return pt.Path != ""
	case "args":
		return len(pt.Args) > 0
	case "sha256":
		return pt.SHA256 != ""
	case "params":
		return len(pt.Params) > 0
	}
	return false
}

// validate checks the ranges of a resolved trial. ex tells explicit keys
// from defaults where a zero means "unset".
func (c *tctx) validate(t *Trial, ex explicitFn) {
	m := t.Model
	if _, err := model.Preset(m.Preset); err != nil {
		c.fail("model.preset", "unknown model preset %q%s (have %s)", m.Preset, didYouMean(m.Preset, model.Presets()), strings.Join(model.Presets(), ", "))
	} else {
		for _, f := range []struct {
			key string
			v   int
		}{{"model.d_model", m.DModel}, {"model.n_layer", m.NLayer}, {"model.n_head", m.NHead}, {"model.context", m.Context}} {
			if f.v < 1 {
				c.fail(f.key, "must be ≥ 1, got %d", f.v)
			}
		}
		if m.NHead >= 1 && m.DModel >= 1 && m.DModel%m.NHead != 0 {
			key := "model.n_head"
			if !ex(key) && ex("model.d_model") {
				key = "model.d_model"
			}
			c.fail(key, "n_head = %d must divide d_model = %d", m.NHead, m.DModel)
		}
		if m.Context >= 1 && m.Context < 2 {
			c.fail("model.context", "must be ≥ 2, got %d", m.Context)
		}
	}
	if (m.Label != "" || ex("model.label")) && !labelRE.MatchString(m.Label) { // "" only after a bad preset, reported above
		c.fail("model.label", "%q must be letters, digits, '_' or '-'", m.Label)
	}

	tk := t.Task
	nonNeg := func(key string, v int, explicitMin int) {
		switch {
		case v < 0:
			c.fail(key, "must be ≥ 0, got %d", v)
		case v < explicitMin && ex(key):
			c.fail(key, "must be ≥ %d, got %d (omit the key for the default)", explicitMin, v)
		}
	}
	nonNeg("task.train_size", tk.TrainSize, 1)
	nonNeg("task.eval_size", tk.EvalSize, 1)
	// tasks.WithSizes sets both at once, and JSONL datasets are split by
	// fraction, not size.
	if builtin := slices.Contains(tasks.Names(), tk.Name); !builtin {
		for _, k := range []string{"task.train_size", "task.eval_size"} {
			if ex(k) || (k == "task.train_size" && tk.TrainSize != 0) || (k == "task.eval_size" && tk.EvalSize != 0) {
				c.fail(k, "applies to built-in tasks only (a JSONL dataset is split 90/10)")
			}
		}
	} else if (tk.TrainSize == 0) != (tk.EvalSize == 0) {
		key := "task.eval_size"
		if tk.TrainSize == 0 {
			key = "task.train_size"
		}
		c.fail(key, "train_size and eval_size go together: give both or neither")
	}
	if tk.TieMargin < 0 {
		c.fail("task.tie_margin", "must be ≥ 0, got %g", tk.TieMargin)
	}
	if tk.Name == "arith" {
		if tk.Digits < 1 || tk.Digits > 4 {
			c.fail("task.digits", "must be 1–4, got %d", tk.Digits)
		}
	} else if tk.Digits != 0 || ex("task.digits") {
		c.fail("task.digits", "applies to the arith task only")
	}

	p := t.Pretrain
	nonNeg("pretrain.steps", p.Steps, 0)
	if p.Batch < 1 {
		c.fail("pretrain.batch", "must be ≥ 1, got %d", p.Batch)
	}
	if !(p.LR > 0) {
		c.fail("pretrain.lr", "must be > 0, got %g", p.LR)
	}
	nonNeg("pretrain.warmup", p.Warmup, 0)

	tr := t.Train
	atLeast1 := func(key string, v int) {
		if v < 1 {
			c.fail(key, "must be ≥ 1, got %d", v)
		}
	}
	atLeast1("train.steps", tr.Steps)
	atLeast1("train.prompts", tr.Prompts)
	if !(tr.LR > 0) {
		c.fail("train.lr", "must be > 0, got %g", tr.LR)
	}
	nonNeg("train.warmup", tr.Warmup, 0)
	if !slices.Contains(schedules, tr.Schedule) {
		c.fail("train.schedule", "%q: want %s", tr.Schedule, strings.Join(schedules, " or "))
	}
	if tr.WeightDecay < 0 {
		c.fail("train.weight_decay", "must be ≥ 0, got %g", tr.WeightDecay)
	}
	if tr.ClipNorm < 0 {
		c.fail("train.clip_norm", "must be ≥ 0 (0: no clipping), got %g", tr.ClipNorm)
	}
	if tr.Temperature < 0 {
		c.fail("train.temperature", "must be ≥ 0 (0: greedy), got %g", tr.Temperature)
	}
	nonNeg("train.top_k", tr.TopK, 0)
	if tr.TopP < 0 || tr.TopP > 1 {
		c.fail("train.top_p", "must be in [0, 1], got %g", tr.TopP)
	}
	atLeast1("train.max_new_tokens", tr.MaxNew)
	atLeast1("train.eval_every", tr.EvalEvery)
	nonNeg("train.checkpoint_every", tr.CheckpointEvery, 0)
	if err := model.CheckEngine(tr.Device); err != nil {
		c.fail("train.device", "%v", err)
	}
	if m.Context >= 2 && tr.MaxNew >= m.Context {
		c.fail("train.max_new_tokens", "%d leaves no room for the prompt in a context of %d (model.context)", tr.MaxNew, m.Context)
	}

	e := t.Eval
	if e.Prompts < 0 || (e.Prompts == 0 && ex("eval.prompts")) {
		c.fail("eval.prompts", "must be ≥ 1 (omit the key for every prompt of the split), got %d", e.Prompts)
	}
	if e.Temperature < 0 {
		c.fail("eval.temperature", "must be ≥ 0 (0: greedy), got %g", e.Temperature)
	}
	atLeast1("eval.max_new_tokens", e.MaxNew)
	if m.Context >= 2 && e.MaxNew >= m.Context {
		c.fail("eval.max_new_tokens", "%d leaves no room for the prompt in a context of %d (model.context)", e.MaxNew, m.Context)
	}
	if tk.EvalSize > 0 && e.Prompts > tk.EvalSize {
		c.fail("eval.prompts", "%d exceeds task.eval_size = %d", e.Prompts, tk.EvalSize)
	}

	r := t.Reward
	if kinds := standaloneKinds(); !slices.Contains(kinds, r.Kind) {
		c.fail("reward.kind", "%q%s: want %s (other kinds are parts of kind = \"combine\")", r.Kind, didYouMean(r.Kind, kinds), strings.Join(kinds, ", "))
	}
	if r.Kind == "combine" && len(r.Parts) == 0 {
		c.fail("reward.kind", "combine needs at least one [[reward.part]]")
	}
	if r.Kind != "combine" && len(r.Parts) > 0 {
		c.fail("reward.part", "parts are only used with reward.kind = \"combine\" (kind is %q)", r.Kind)
	}
	for i, pt := range r.Parts {
		k := fmt.Sprintf("reward.part[%d].", i+1)
		kind, ok := rewards.Lookup(pt.Kind)
		if !ok {
			c.fail(k+"kind", "%q%s: want %s", pt.Kind, didYouMean(pt.Kind, partKinds()), strings.Join(partKinds(), ", "))
			continue
		}
		if kind.Alone {
			c.fail(k+"kind", "%q stands alone ([reward] kind = %q), never as a part", pt.Kind, pt.Kind)
			continue
		}
		// A key the kind does not own must not be set.
		for _, key := range partKeys {
			if slices.Contains(kind.Keys, key) || !partKeySet(pt, key, ex(k+key)) {
				continue
			}
			if owners := rewards.Readers(key); len(owners) > 0 {
				c.fail(k+key, "applies to kind = %q parts only", strings.Join(owners, `" and "`))
			} else {
				c.fail(k+key, "no registered kind reads it")
			}
		}
		if kind.Check != nil {
			for _, fe := range kind.Check(pt, func(key string) bool { return ex(k + key) }) {
				c.fail(k+fe.Key, "%s", fe.Reason)
			}
		}
	}
}
