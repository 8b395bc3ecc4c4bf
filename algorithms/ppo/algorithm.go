package ppo

import (
	"fmt"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core"
)

// Config is PPO's parameter table: Params plus G, the completions drawn
// per prompt (8 by default, the same rollout budget as GRPO and GRAO).
type Config struct {
	Params
	G int `json:"g"`
}

// Algorithm is PPO behind core.Algorithm. The critic is a scalar value head
// on the policy trunk (shared weights), as in TRL's value-head models.
type Algorithm struct{ C Config }

var _ core.Algorithm = (*Algorithm)(nil)

func init() {
	algorithms.Describe("ppo", algorithms.Identity{Display: "PPO", Colour: "#009E73", Glyph: "triangle", Order: 30})
	algorithms.Register("ppo", func(params map[string]any) (core.Algorithm, error) {
		c := Config{Params: DefaultParams(), G: 8}
		if err := algorithms.Decode("ppo", params, &c); err != nil {
			return nil, err
		}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		if c.G < 1 || c.Epochs < 1 {
			return nil, fmt.Errorf("ppo: g = %d and epochs = %d must be ≥ 1", c.G, c.Epochs)
		}
		return &Algorithm{C: c}, nil
	})
}

func (a *Algorithm) Name() string { return "ppo" }
func (a *Algorithm) Config() any  { return a.C }
func (a *Algorithm) Needs() core.Needs {
	return core.Needs{Samples: a.C.G, OldLogP: true, RefModel: true, Value: true, Epochs: a.C.Epochs}
}

// Loss implements core.Algorithm.
func (a *Algorithm) Loss(b, grad *core.Batch) (core.LossValue, error) {
	var in Input
	for _, g := range b.Groups {
		for i, s := range g.Samples {
			in.LogP = append(in.LogP, s.LogP)
			in.OldLogP = append(in.OldLogP, s.OldLogP)
			in.RefLogP = append(in.RefLogP, s.RefLogP)
			in.Values = append(in.Values, s.Values)
			in.OldValues = append(in.OldValues, s.OldValues)
			in.Scores = append(in.Scores, g.Rewards[i])
		}
	}
	r, err := Loss(in, a.C.Params)
	if err != nil {
		return core.LossValue{}, err
	}
	k := 0
	for gi := range grad.Groups {
		for si := range grad.Groups[gi].Samples {
			copy(grad.Groups[gi].Samples[si].LogP, r.Grad.LogP[k])
			copy(grad.Groups[gi].Samples[si].Values, r.Grad.Values[k])
			k++
		}
	}
	return core.LossValue{Loss: r.Loss, Components: r.Components}, nil
}
