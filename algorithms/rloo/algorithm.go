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
	return kit.SampleLoss(b, grad, a.P.KLBeta != 0, func(in kit.Input) (kit.Result, error) { return Loss(in, a.P) })
}
