package evaluate

import (
	"context"

	"github.com/grao-lab/grao/core"
)

// Counts are K sampled answers per prompt judged against the references:
// per prompt, how many were correct (judged at least as good as the
// reference, R ≥ 0, the calibration's pass) and how many beat it (R > 0,
// RAS's win). pass@k for k ≤ K follows from them without bias.
type Counts struct {
	K       int   `json:"k"`
	Correct []int `json:"correct"`
	Wins    []int `json:"wins"`
	// Tokens is the number of tokens generated for the counts.
	Tokens int `json:"tokens"`
}

// SampleK draws k completions per prompt at cfg's temperature (seeded
// by cfg.Seed) and counts the judge's verdicts per prompt.
func SampleK(ctx context.Context, p core.Engine, task core.Task, exs []core.Example, k int, cfg Config) (Counts, error) {
	c := Counts{K: k, Correct: make([]int, len(exs)), Wins: make([]int, len(exs))}
	prompts, err := Prompts(exs, p.Info().Context, cfg)
	if err != nil {
		return c, err
	}
	var all [][]int
	for _, pr := range prompts {
		for range k {
			all = append(all, pr)
		}
	}
	outs, err := p.Sample(ctx, all, core.SampleConfig{Temperature: cfg.Temperature, MaxNew: cfg.MaxNew, Seed: cfg.Seed, Block: min(len(all), 64)})
	if err != nil {
		return c, err
	}
	tok := cfg.tok()
	items := make([]core.RewardItem, len(outs))
	for j, o := range outs {
		ex := exs[j/k]
		c.Tokens += len(o.Tokens)
		items[j] = core.RewardItem{Prompt: ex.Prompt, Completion: tok.Decode(o.Tokens), Reference: ex.Chosen, Meta: ex.Meta}
	}
	judge, err := values(ctx, task.Judge(), items)
	if err != nil {
		return c, err
	}
	for j, r := range judge {
		if r >= 0 {
			c.Correct[j/k]++
		}
		if r > 0 {
			c.Wins[j/k]++
		}
	}
	return c, nil
}
