package calibrate

import (
	"context"
	"fmt"
	"slices"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/tokenizer"
	"github.com/grao-lab/grao/rewards"
)

// Config fixes how a policy is measured: Samples completions per prompt at
// the rollout Temperature, scored by the task's judge.
type Config struct {
	Samples     int     `json:"samples"`
	Temperature float64 `json:"temperature"`
	TopK        int     `json:"top_k,omitempty"`
	TopP        float64 `json:"top_p,omitempty"`
	MaxNew      int     `json:"max_new_tokens"`
	Seed        uint64  `json:"seed"`
	// PromptsPerStep turns zero-variance shares into the expected number of
	// informative groups in one training step.
	PromptsPerStep int `json:"prompts_per_step"`
	// Gs are the group sizes whose all-lose / all-win / zero-variance
	// shares are estimated (each ≤ Samples).
	Gs []int `json:"group_sizes"`
	// Truncate left-truncates a prompt that leaves fewer than MaxNew
	// tokens of room, as the task's truncation policy does in training;
	// without it such a prompt is an error.
	Truncate bool `json:"truncate,omitempty"`
	// Tokenizer is the model's (nil: grao's byte tokenizer).
	Tokenizer tokenizer.Tokenizer `json:"-"`
}

// DefaultConfig: 16 samples at the paper's T = 0.7, 48 new tokens, 8
// prompts per step, G = 4, 8, 16.
func DefaultConfig() Config {
	return Config{Samples: 16, Temperature: 0.7, MaxNew: 48, Seed: 1, PromptsPerStep: 8, Gs: []int{4, 8, 16}}
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Samples < 1:
		return fmt.Errorf("calibrate: samples must be ≥ 1, got %d", c.Samples)
	case c.PromptsPerStep < 1:
		return fmt.Errorf("calibrate: prompts per step must be ≥ 1, got %d", c.PromptsPerStep)
	}
	for _, g := range c.Gs {
		if g < 1 || g > c.Samples {
			return fmt.Errorf("calibrate: group size %d must be in 1..samples (%d)", g, c.Samples)
		}
	}
	return model.SampleConfig{Temperature: c.Temperature, TopK: c.TopK, TopP: c.TopP, MaxNew: c.MaxNew}.Validate()
}

// Groups are the shares of prompts whose G samples would all lose to the
// reference (AllLose), all beat it (AllWin), or all get the same judge
// reward (ZeroVar, which includes both and all-tie groups), and the
// expected number of groups per step with some variance (Informative).
type Groups struct {
	G           int     `json:"g"`
	AllLose     float64 `json:"all_lose"`
	AllWin      float64 `json:"all_win"`
	ZeroVar     float64 `json:"zero_variance"`
	Informative float64 `json:"informative_per_step"`
}

// KindStats is one kind's row of the calibration table.
type KindStats struct {
	Kind    string `json:"kind"`
	Regime  string `json:"regime,omitempty"`
	Level   int    `json:"level,omitempty"`
	Setting string `json:"setting,omitempty"`
	Prompts int    `json:"prompts"`
	// Share is the kind's share of the measured prompts (of the train
	// split, when the prompts are its prefix).
	Share float64 `json:"share"`
	// Pass is pass@1: the share of samples at least as good as the
	// reference by the judge (R ≥ 0); Win the share that beat it (R > 0).
	Pass  float64 `json:"pass_at_1"`
	Win   float64 `json:"win_at_1"`
	Score float64 `json:"mean_score"`
	// Groups by G (Config.Gs order).
	Groups []Groups `json:"groups"`
}

// Table is a calibration: one row per kind and level (in first-appearance
// order) and the whole mix.
type Table struct {
	Config Config      `json:"config"`
	Kinds  []KindStats `json:"kinds"`
	All    KindStats   `json:"all"`
}

// Measure samples cfg.Samples completions per example from p, judges them
// against the references, and tabulates the shares per kind and level
// (Meta[rewards.MetaKind], "all" when absent; Meta["level"]).
// Deterministic for a seed.
func Measure(ctx context.Context, p core.Engine, judge, scorer core.Reward, exs []core.Example, cfg Config) (Table, error) {
	t := Table{Config: cfg}
	if err := cfg.Validate(); err != nil {
		return t, err
	}
	if len(exs) == 0 {
		return t, fmt.Errorf("calibrate: no prompts")
	}
	N := cfg.Samples
	tok := tokenizer.OrByte(cfg.Tokenizer)
	var prompts [][]int
	for i, ex := range exs {
		var ids []int
		if cfg.Truncate {
			ids, _ = tokenizer.TruncatePromptWith(tok, ex.Prompt, p.Info().Context, cfg.MaxNew)
		} else {
			var err error
			if ids, err = tokenizer.FitPromptWith(tok, ex.Prompt, p.Info().Context, cfg.MaxNew); err != nil {
				return t, fmt.Errorf("calibrate: prompt %d: %w", i, err)
			}
		}
		for range N {
			prompts = append(prompts, ids)
		}
	}
	outs, err := p.Sample(ctx, prompts, core.SampleConfig{Temperature: cfg.Temperature, TopK: cfg.TopK, TopP: cfg.TopP,
		MaxNew: cfg.MaxNew, Seed: cfg.Seed, Block: min(len(prompts), 64)})
	if err != nil {
		return t, err
	}
	items := make([]core.RewardItem, len(outs))
	for k, o := range outs {
		ex := exs[k/N]
		items[k] = core.RewardItem{Prompt: ex.Prompt, Completion: tok.Decode(o.Tokens), Reference: ex.Chosen, Meta: ex.Meta}
	}
	js, err := judge.Score(ctx, items)
	if err != nil {
		return t, fmt.Errorf("calibrate: judge: %w", err)
	}
	ss, err := scorer.Score(ctx, items)
	if err != nil {
		return t, fmt.Errorf("calibrate: scorer: %w", err)
	}
	if len(js) != len(items) || len(ss) != len(items) {
		return t, fmt.Errorf("calibrate: judge or scorer returned the wrong number of scores")
	}
	type key struct {
		kind  string
		level int
	}
	acc := map[key]*accum{}
	var order []key
	all := newAccum(cfg)
	for i, ex := range exs {
		k := key{KindOf(ex), metaInt(ex.Meta["level"])}
		a, ok := acc[k]
		if !ok {
			a = newAccum(cfg)
			a.row.Kind, a.row.Level = k.kind, k.level
			a.row.Regime, _ = ex.Meta["regime"].(string)
			acc[k] = a
			order = append(order, k)
		}
		var lose, win, tie int
		for k := i * N; k < (i+1)*N; k++ {
			r := 0.0 // not applicable counts as a tie, as in training
			if js[k].Applicable {
				r = js[k].Value
			}
			switch {
			case r < 0:
				lose++
			case r > 0:
				win++
			default:
				tie++
			}
			sc := 0.0
			if ss[k].Applicable {
				sc = ss[k].Value
			}
			a.score += sc
			all.score += sc
		}
		a.add(lose, win, tie)
		all.add(lose, win, tie)
	}
	for _, k := range order {
		t.Kinds = append(t.Kinds, acc[k].finish(len(exs), cfg))
	}
	t.All = all.finish(len(exs), cfg)
	t.All.Kind = "all"
	return t, nil
}

// PerKindPrefix keeps the first n examples of each kind, in order: the
// prompts a calibration measures.
func PerKindPrefix(exs []core.Example, n int) []core.Example {
	count := map[string]int{}
	var out []core.Example
	for _, ex := range exs {
		k := KindOf(ex)
		if count[k] < n {
			count[k]++
			out = append(out, ex)
		}
	}
	return out
}

// KindOf is an example's kind: Meta[rewards.MetaKind], or "all".
func KindOf(ex core.Example) string {
	if k, ok := ex.Meta[rewards.MetaKind].(string); ok && k != "" {
		return k
	}
	return "all"
}

func metaInt(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		return int(x)
	}
	return 0
}

type accum struct {
	row                   KindStats
	gs                    []int
	prompts               int
	pass, win, score      float64
	allLose, allWin, zero []float64 // per G, summed over prompts
}

func newAccum(cfg Config) *accum {
	n := len(cfg.Gs)
	return &accum{gs: cfg.Gs, allLose: make([]float64, n), allWin: make([]float64, n), zero: make([]float64, n)}
}

// add records one prompt's N outcomes. The probability that G samples
// drawn without replacement from the N all lose is C(lose, G)/C(N, G):
// the unbiased estimate of the all-lose share at group size G.
func (a *accum) add(lose, win, tie int) {
	N := lose + win + tie
	a.prompts++
	a.pass += float64(win+tie) / float64(N)
	a.win += float64(win) / float64(N)
	for i := range a.allLose {
		g := a.gs[i]
		l, w, t := choose(lose, g)/choose(N, g), choose(win, g)/choose(N, g), choose(tie, g)/choose(N, g)
		a.allLose[i] += l
		a.allWin[i] += w
		a.zero[i] += l + w + t
	}
}

func (a *accum) finish(total int, cfg Config) KindStats {
	r := a.row
	n := float64(a.prompts)
	r.Prompts = a.prompts
	r.Share = n / float64(total)
	r.Pass, r.Win = a.pass/n, a.win/n
	r.Score = a.score / (n * float64(cfg.Samples))
	for i, g := range cfg.Gs {
		z := a.zero[i] / n
		r.Groups = append(r.Groups, Groups{G: g, AllLose: a.allLose[i] / n, AllWin: a.allWin[i] / n, ZeroVar: z,
			Informative: float64(cfg.PromptsPerStep) * r.Share * (1 - z)})
	}
	return r
}

// choose is the binomial coefficient C(n, k) as a float (0 when k > n).
func choose(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

// Sorted returns the kinds in the given canonical order, unknown ones last.
func (t Table) Sorted(canonical []string) []KindStats {
	out := slices.Clone(t.Kinds)
	slices.SortStableFunc(out, func(a, b KindStats) int {
		ia, ib := slices.Index(canonical, a.Kind), slices.Index(canonical, b.Kind)
		if ia < 0 {
			ia = len(canonical)
		}
		if ib < 0 {
			ib = len(canonical)
		}
		return ia - ib
	})
	return out
}
