package evaluate

import (
	"context"
	"fmt"
	"math"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/core/tokenizer"
)

// Config fixes the decoding of evaluation prompts.
type Config struct {
	Temperature float64
	MaxNew      int
	Seed        uint64
	// Truncate applies the explicit left-truncation policy to prompts
	// that leave fewer than MaxNew tokens of room; otherwise such a prompt
	// is an error.
	Truncate bool
	// Tokenizer is the model's (nil: grao's byte tokenizer).
	Tokenizer tokenizer.Tokenizer `json:"-"`
}

// tok is the configured tokenizer.
func (c Config) tok() tokenizer.Tokenizer { return tokenizer.OrByte(c.Tokenizer) }

// Prompts tokenises the examples' prompts for a context under cfg's
// truncation policy.
func Prompts(exs []core.Example, context int, cfg Config) ([][]int, error) {
	out := make([][]int, len(exs))
	for i, ex := range exs {
		if cfg.Truncate {
			out[i], _ = tokenizer.TruncatePromptWith(cfg.tok(), ex.Prompt, context, cfg.MaxNew)
			continue
		}
		ids, err := tokenizer.FitPromptWith(cfg.tok(), ex.Prompt, context, cfg.MaxNew)
		if err != nil {
			return nil, fmt.Errorf("evaluate: prompt %q: %w", ex.Prompt, err)
		}
		out[i] = ids
	}
	return out, nil
}

// Outputs are a policy's answers on the eval prompts with their rewards.
type Outputs struct {
	Completions []string  `json:"completions"`
	Judge       []float64 `json:"judge"`   // R(o_i, y_i) ∈ {−1, 0, +1}
	Scores      []float64 `json:"scores"`  // rubric score in [0, 1]
	Lengths     []int     `json:"lengths"` // in bytes
	// Tokens are the completions' lengths in the model's tokens (EOS
	// included).
	Tokens []int `json:"tokens,omitempty"`
}

// Generate answers every example's prompt and scores the answers with the
// task's judge and scorer.
func Generate(ctx context.Context, p core.Engine, task core.Task, exs []core.Example, cfg Config) (Outputs, error) {
	tok := cfg.tok()
	prompts, err := Prompts(exs, p.Info().Context, cfg)
	if err != nil {
		return Outputs{}, err
	}
	outs, err := p.Sample(ctx, prompts, core.SampleConfig{Temperature: cfg.Temperature, MaxNew: cfg.MaxNew, Seed: cfg.Seed, Block: min(len(exs), 32)})
	if err != nil {
		return Outputs{}, err
	}
	var o Outputs
	items := make([]core.RewardItem, len(exs))
	for i, c := range outs {
		text := tok.Decode(c.Tokens)
		o.Completions = append(o.Completions, text)
		o.Lengths = append(o.Lengths, len(text))
		o.Tokens = append(o.Tokens, len(c.Tokens))
		items[i] = core.RewardItem{Prompt: exs[i].Prompt, Completion: text, Reference: exs[i].Chosen, Meta: exs[i].Meta}
	}
	if o.Judge, err = values(ctx, task.Judge(), items); err != nil {
		return Outputs{}, err
	}
	if o.Scores, err = values(ctx, task.Scorer(), items); err != nil {
		return Outputs{}, err
	}
	return o, nil
}

func values(ctx context.Context, r core.Reward, items []core.RewardItem) ([]float64, error) {
	sc, err := r.Score(ctx, items)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %s: %w", r.Describe().Name, err)
	}
	out := make([]float64, len(sc))
	for i, s := range sc {
		if s.Applicable {
			out[i] = s.Value
		}
	}
	return out, nil
}

// Metrics computes the metrics of post against the reference answers and
// against pre, the starting model's outputs on the same prompts.
func Metrics(post, pre Outputs) map[string]float64 {
	n := float64(len(post.Judge))
	m := map[string]float64{}
	if n == 0 {
		return m
	}
	var win, winTie, improved, worsened, reward, score, length float64
	for i, r := range post.Judge {
		if r > 0 {
			win++
		}
		if r >= 0 {
			winTie++
		}
		if i < len(pre.Judge) {
			switch {
			case r > pre.Judge[i]:
				improved++
			case r < pre.Judge[i]:
				worsened++
			}
		}
		reward += r
		score += post.Scores[i]
		length += float64(post.Lengths[i])
	}
	m["RAS"] = 100 * win / n
	m["win_tie"] = 100 * winTie / n
	if len(pre.Judge) == len(post.Judge) {
		m["NAG"] = 100 * improved / n
		m["NAG_signed"] = 100 * (improved - worsened) / n
	}
	m["reward"] = reward / n
	m["score"] = score / n
	m["length"] = length / n
	if len(post.Tokens) == len(post.Judge) {
		var toks float64
		for _, t := range post.Tokens {
			toks += float64(t)
		}
		m["length_tokens"] = toks / n
	}
	m["distinct2"] = Distinct2(post.Completions)
	return m
}

// Distinct2 is distinct byte bigrams over all bigrams of the texts (0 when
// there are none).
func Distinct2(texts []string) float64 {
	seen := map[[2]byte]bool{}
	total := 0
	for _, t := range texts {
		for i := 0; i+1 < len(t); i++ {
			seen[[2]byte{t[i], t[i+1]}] = true
			total++
		}
	}
	if total == 0 {
		return 0
	}
	return float64(len(seen)) / float64(total)
}

// KL estimates KL(π ‖ π_start) in nats per sequence: one completion per
// prompt sampled from π at temperature 1 (cfg's temperature is ignored;
// its MaxNew, Seed and truncation apply), k1 = Σ_t log π − log π_start.
func KL(ctx context.Context, policy, start core.Engine, exs []core.Example, cfg Config) (float64, error) {
	if len(exs) == 0 {
		return 0, nil
	}
	prompts, err := Prompts(exs, policy.Info().Context, cfg)
	if err != nil {
		return 0, err
	}
	outs, err := policy.Sample(ctx, prompts, core.SampleConfig{Temperature: 1, MaxNew: cfg.MaxNew, Seed: cfg.Seed, Block: min(len(exs), 32)})
	if err != nil {
		return 0, err
	}
	seqs := make([]core.Sequence, len(outs))
	for i, o := range outs {
		seqs[i] = core.Sequence{Tokens: append(append([]int(nil), prompts[i]...), o.Tokens...), Start: len(prompts[i])}
	}
	ref, err := start.Score(seqs, core.ForwardOptions{})
	if err != nil {
		return 0, err
	}
	var sum float64
	for i, o := range outs {
		for j, lp := range o.LogProbs {
			sum += float64(lp) - ref.LogP[i][j]
		}
	}
	return sum / float64(len(exs)), nil
}

// Point is one evaluation on the training curve.
type Point struct {
	Step   int
	Reward float64
}

// StepsTo90 returns the step at which the curve first reaches 90% of its
// final improvement over its first point, interpolated linearly between
// the two evaluations around the crossing; ok is false without
// improvement. With evaluations every 5% of training the interpolation
// error is below one evaluation interval.
func StepsTo90(curve []Point) (step float64, ok bool) {
	if len(curve) < 2 {
		return 0, false
	}
	first, last := curve[0].Reward, curve[len(curve)-1].Reward
	gain := last - first
	if !(gain > 0) || math.IsNaN(gain) {
		return 0, false
	}
	target := first + 0.9*gain
	for i, p := range curve[1:] {
		if p.Reward >= target {
			prev := curve[i]
			if p.Reward == prev.Reward {
				return float64(p.Step), true
			}
			f := (target - prev.Reward) / (p.Reward - prev.Reward)
			return float64(prev.Step) + f*float64(p.Step-prev.Step), true
		}
	}
	return float64(curve[len(curve)-1].Step), true
}

// GroupMetrics are Metrics over subsets of the prompts: for each group
// name (a kind, a regime) and metric m of Metrics, "m@group".
func GroupMetrics(post, pre Outputs, groups map[string][]int) map[string]float64 {
	out := map[string]float64{}
	for g, idx := range groups {
		sub := func(o Outputs) Outputs {
			var s Outputs
			for _, i := range idx {
				if i < len(o.Judge) {
					s.Judge = append(s.Judge, o.Judge[i])
				}
				if i < len(o.Scores) {
					s.Scores = append(s.Scores, o.Scores[i])
				}
				if i < len(o.Lengths) {
					s.Lengths = append(s.Lengths, o.Lengths[i])
				}
				if i < len(o.Tokens) {
					s.Tokens = append(s.Tokens, o.Tokens[i])
				}
				if i < len(o.Completions) {
					s.Completions = append(s.Completions, o.Completions[i])
				}
			}
			return s
		}
		for m, v := range Metrics(sub(post), sub(pre)) {
			if m == "length" || m == "length_tokens" || m == "distinct2" {
				continue // whole-split diagnostics only
			}
			out[m+"@"+g] = v
		}
	}
	return out
}
