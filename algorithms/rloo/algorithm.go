package rloo

import (
	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/algorithms/kit"
	"github.com/grao-lab/grao/core"
)

// Algorithm is RLOO behind core.Algorithm.
type Algorithm struct{ P Params }

var _ core.Algorithm = (*Algorithm)(nil)

func init() {
	algorithms.Describe("rloo", algorithms.Identity{Display: "RLOO", Colour: "#882255", Glyph: "square", Order: 50})
	algorithms.Register("rloo", func(params map[string]any) (core.Algorithm, error) {
		p := DefaultParams()
		if err := algorithms.Decode("rloo", params, &p); err != nil {
			return nil, err
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
		return &Algorithm{P: p}, nil
	})
}

func (a *Algorithm) Name() string { return "rloo" }
func (a *Algorithm) Config() any  { return a.P }
func (a *Algorithm) Needs() core.Needs {
	return core.Needs{Samples: a.P.G, OldLogP: true, RefModel: a.P.KLBeta != 0, Epochs: a.P.Iterations}
}

// Loss implements core.Algorithm.
func (a *Algorithm) Loss(b, grad *core.Batch) (core.LossValue, error) {
	var in kit.Input
	in.LogP, in.OldLogP, in.RefLogP, in.Rewards = kit.Samples(b, a.P.KLBeta != 0)
	r, err := Loss(in, a.P)
	if err != nil {
		return core.LossValue{}, err
	}
	kit.SetSampleGrads(grad, r.Grad.LogP)
	return core.LossValue{Loss: r.Loss, Components: r.Components}, nil
}
