package sweep

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/experiments/tasks"
)

// Truncation policies (task.truncate).
var truncations = []string{"none", "left"}

// Options are the tasks options a resolved task spec asks for; levels,
// when not nil, overrides the spec's (calibration's placement).
func (ts TaskSpec) Options(levels map[string]int) []tasks.Option {
	opts := []tasks.Option{tasks.WithTieMargin(ts.TieMargin)}
	if ts.TrainSize > 0 || ts.EvalSize > 0 {
		opts = append(opts, tasks.WithSizes(ts.TrainSize, ts.EvalSize))
	}
	if ts.Digits > 0 {
		opts = append(opts, tasks.WithDigits(ts.Digits))
	}
	if ts.DevSize > 0 {
		opts = append(opts, tasks.WithDevSize(ts.DevSize))
	}
	if len(ts.Kinds) > 0 {
		opts = append(opts, tasks.WithKinds(ts.Kinds...))
	}
	if levels == nil {
		levels = ts.Levels
	}
	if len(levels) > 0 {
		opts = append(opts, tasks.WithLevels(levels))
	}
	return opts
}

// Open builds the task (a dataset path is already absolute in a resolved
// trial) at the given levels (nil: the spec's).
func (ts TaskSpec) Open(levels map[string]int) (core.Task, error) {
	if ts.EvalSize > 0 && !ts.builtin() {
		// JSONL datasets are split by fraction; validation rejects sizes.
		return nil, fmt.Errorf("task %s: eval_size applies to built-in tasks only", ts.Name)
	}
	return tasks.Open(ts.Source(), ts.DataSeed, ts.Options(levels)...)
}

func (ts TaskSpec) builtin() bool { return slices.Contains(tasks.Names(), ts.Name) }

// BandKinds are the skills kinds task.band places: the selected kinds
// (all by default) with more than one level and no explicit level.
func (ts TaskSpec) BandKinds() []string {
	if len(ts.Band) == 0 {
		return nil
	}
	names := ts.Kinds
	if len(names) == 0 {
		names = tasks.KindNames()
	}
	var out []string
	for _, n := range names {
		k, ok := tasks.LookupKind(n)
		if _, fixed := ts.Levels[n]; ok && !fixed && k.Levels > 1 {
			out = append(out, n)
		}
	}
	return out
}

// validateTask checks the task keys that depend on which task it is.
func (c *tctx) validateTask(t *Trial, ex explicitFn) {
	tk := t.Task
	if !slices.Contains(truncations, tk.Truncate) {
		c.fail("task.truncate", "%q: want %s", tk.Truncate, strings.Join(truncations, " or "))
	}
	if tk.DevSize < 0 || (tk.DevSize == 0 && ex("task.dev_size")) {
		c.fail("task.dev_size", "must be ≥ 1 (omit the key for no dev split), got %d", tk.DevSize)
	}
	skills := tk.Name == tasks.Skills
	for _, k := range []string{"task.kinds", "task.levels", "task.band"} {
		if !skills && ex(k) {
			c.fail(k, "applies to the %s task only", tasks.Skills)
		}
	}
	if skills {
		if ex("task.kinds") && len(tk.Kinds) == 0 {
			c.fail("task.kinds", "must list at least one kind (omit the key for all: %s)", strings.Join(tasks.KindNames(), ", "))
		}
		for _, e := range tasks.CheckKinds(tk.Kinds, tk.Levels) {
			key := "task.kinds"
			if strings.HasPrefix(e, "levels:") {
				key = "task.levels"
			}
			c.fail(key, "%s", e)
		}
		if ex("task.band") || len(tk.Band) > 0 {
			if len(tk.Band) != 2 || !(tk.Band[0] >= 0 && tk.Band[0] <= tk.Band[1] && tk.Band[1] <= 1) {
				c.fail("task.band", "want [lo, hi] with 0 ≤ lo ≤ hi ≤ 1 (base pass@1), got %v", tk.Band)
			}
		}
	}
	e := t.Eval
	if e.Split != "eval" && e.Split != "dev" {
		c.fail("eval.split", "%q: want \"eval\" or \"dev\"", e.Split)
	}
	if e.Split == "dev" && tk.DevSize == 0 {
		key := "eval.split"
		if len(t.Selected) > 0 {
			key = "select" // a selection trial
		}
		c.fail(key, "evaluating on the dev split needs one: set task.dev_size")
	}
	dense := t.Reward.Kind == "dense"
	for _, p := range t.Reward.Parts {
		dense = dense || p.Kind == "dense"
	}
	if dense && tk.Name == "hh-harmless" {
		c.fail("reward.kind", "dense: task %s has no partial-credit rubric (arith, hh-helpful and %s have one)", tk.Name, tasks.Skills)
	}
	cal := t.Calibrate
	if cal.Prompts < 1 {
		c.fail("calibrate.prompts", "must be ≥ 1, got %d", cal.Prompts)
	}
	if cal.Samples < 1 {
		c.fail("calibrate.samples", "must be ≥ 1, got %d", cal.Samples)
	}
}

// fitKey caches the prompt-length check per task and lengths.
type fitKey struct {
	task          string
	context, max1 int
	max2          int
	answers       bool
}

// checkFit builds the task (a built-in one whose sizes its prompt space
// cannot fill is an error) and rejects prompts (and, for algorithms that
// train on them, answers) that do not fit the context, unless
// task.truncate = "left": with the count, the longest, and what would fit.
func (c *tctx) checkFit(t *Trial, answers bool) {
	if !c.ok || t.Model.Context < 2 {
		return
	}
	levels := maps.Clone(t.Task.Levels)
	if len(t.Task.Band) > 0 {
		// Placement is not known yet: check each placed kind at its
		// hardest level, whose prompts are the longest.
		if levels == nil {
			levels = map[string]int{}
		}
		for _, n := range t.Task.BandKinds() {
			k, _ := tasks.LookupKind(n)
			levels[n] = k.Levels
		}
	}
	enc, _ := EncodeTrial(Trial{Task: t.Task})
	key := fitKey{fmt.Sprintf("%s|%v", enc, levels), t.Model.Context, t.Train.MaxNew, t.Eval.MaxNew, answers && t.Task.Truncate == "none"}
	if msg, ok := c.fits[key]; ok {
		if msg != "" {
			c.fail("task.name", "%s", msg)
		}
		return
	}
	msg := fitMessage(t, levels, answers)
	c.fits[key] = msg
	if msg != "" {
		c.fail("task.name", "%s", msg)
	}
}

func fitMessage(t *Trial, levels map[string]int, answers bool) string {
	task, err := t.Task.Open(levels)
	if err != nil {
		// A built-in task whose sizes its prompt space cannot fill, say:
		// better now than when the trial starts.
		return err.Error()
	}
	exs := task.Train()
	exs = append(exs, task.Eval()...)
	if d, ok := task.(tasks.Dever); ok {
		exs = append(exs, d.Dev()...)
	}
	if t.Task.Truncate != "none" {
		return ""
	}
	ctx := t.Model.Context
	maxNew := max(t.Train.MaxNew, t.Eval.MaxNew)
	longest, over := 0, 0
	for _, ex := range exs {
		n := 1 + len(ex.Prompt) // BOS + bytes
		longest = max(longest, n)
		if n+maxNew > ctx {
			over++
		}
	}
	if over > 0 {
		need := longest + maxNew
		return fmt.Sprintf("%d of %d prompts leave fewer than %d new tokens (max of train/eval max_new_tokens) in a context of %d (model.context); the longest has %d tokens with BOS: use a context of at least %d%s, lower max_new_tokens to %d, or set task.truncate = \"left\"",
			over, len(exs), maxNew, ctx, longest, need, presetHint(need), max(ctx-longest, 0))
	}
	if !answers {
		return ""
	}
	longest, over = 0, 0
	for _, ex := range exs {
		for _, a := range []string{ex.Chosen, ex.Rejected} {
			n := 1 + len(ex.Prompt) + len(a) + 1 // BOS, prompt, answer, EOS
			longest = max(longest, n)
			if n > ctx {
				over++
			}
		}
	}
	if over > 0 {
		return fmt.Sprintf("%d reference or rejected answers do not fit after their prompt in a context of %d (model.context); the longest needs %d tokens%s, or set task.truncate = \"left\"",
			over, ctx, longest, presetHint(longest))
	}
	return ""
}

// presetHint names the dense presets whose context is at least n, the
// smallest first (each mixture-of-experts preset has its dense namesake's
// context).
func presetHint(n int) string {
	var fit []string
	size := map[string]int{}
	for _, p := range model.Presets() {
		if c, err := model.Preset(p); err == nil && c.Context >= n && !c.IsMoE() {
			fit = append(fit, p)
			size[p] = c.NumParams()
		}
	}
	slices.SortStableFunc(fit, func(a, b string) int { return size[a] - size[b] })
	if len(fit) == 0 {
		return " (no preset has one)"
	}
	return " (preset " + strings.Join(fit, " or ") + ")"
}
