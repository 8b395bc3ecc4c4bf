package grpo

import (
	"fmt"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/algorithms/kit"
	"github.com/grao-lab/grao/core"
)

// Algorithm is GRPO behind core.Algorithm: G samples per prompt, ratio
// against the behaviour log-probs, k3 KL against the starting policy when
// kl_beta > 0.
type Algorithm struct{ P Params }

var _ core.Algorithm = (*Algorithm)(nil)

func init() {
	algorithms.Describe("grpo", algorithms.Identity{Display: "GRPO", Colour: "#0072B2", Glyph: "pyramid", Order: 40})
	algorithms.Register("grpo", func(params map[string]any) (core.Algorithm, error) {
		p := DefaultParams()
		if err := algorithms.Decode("grpo", params, &p); err != nil {
			return nil, err
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
		if p.Iterations < 1 {
			return nil, fmt.Errorf("grpo: iterations = %d, want ≥ 1", p.Iterations)
		}
		return &Algorithm{P: p}, nil
	})
}

func (a *Algorithm) Name() string { return "grpo" }
func (a *Algorithm) Config() any  { return a.P }
func (a *Algorithm) Needs() core.Needs {
	return core.Needs{Samples: a.P.G, OldLogP: true, RefModel: a.P.KLBeta != 0, Epochs: a.P.Iterations}
}

// Loss implements core.Algorithm.
func (a *Algorithm) Loss(b, grad *core.Batch) (core.LossValue, error) {
	for _, g := range b.Groups {
		if len(g.Samples) != a.P.G {
			return core.LossValue{}, fmt.Errorf("grpo: group of %d samples, g = %d", len(g.Samples), a.P.G)
		}
	}
	return kit.SampleLoss(b, grad, true, func(in kit.Input) (kit.Result, error) { return Loss(in, a.P) })
}
