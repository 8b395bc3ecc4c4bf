package dpo

import (
	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core"
)

// Algorithm is DPO behind core.Algorithm: one (chosen, rejected) pair per
// group, reference log-probs from the frozen starting policy.
type Algorithm struct{ P Params }

var _ core.Algorithm = (*Algorithm)(nil)

func init() {
	algorithms.Describe("dpo", algorithms.Identity{Display: "DPO", Colour: "#56B4E9", Glyph: "square", Order: 20})
	algorithms.Register("dpo", func(params map[string]any) (core.Algorithm, error) {
		p := DefaultParams()
		if err := algorithms.Decode("dpo", params, &p); err != nil {
			return nil, err
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
		return &Algorithm{P: p}, nil
	})
}

func (a *Algorithm) Name() string { return "dpo" }
func (a *Algorithm) Config() any  { return a.P }
func (a *Algorithm) Needs() core.Needs {
	return core.Needs{Pairs: true, RefModel: true, Epochs: 1}
}

// Loss implements core.Algorithm.
func (a *Algorithm) Loss(b, grad *core.Batch) (core.LossValue, error) {
	n := len(b.Groups)
	in := Input{PolicyChosen: make([][]float64, n), PolicyRejected: make([][]float64, n),
		RefChosen: make([][]float64, n), RefRejected: make([][]float64, n)}
	for i, g := range b.Groups {
		in.PolicyChosen[i], in.RefChosen[i] = g.Chosen.LogP, g.Chosen.RefLogP
		in.PolicyRejected[i], in.RefRejected[i] = g.Rejected.LogP, g.Rejected.RefLogP
	}
	r, err := Loss(in, a.P)
	if err != nil {
		return core.LossValue{}, err
	}
	for i := range grad.Groups {
		copy(grad.Groups[i].Chosen.LogP, r.Grad.PolicyChosen[i])
		copy(grad.Groups[i].Rejected.LogP, r.Grad.PolicyRejected[i])
	}
	return core.LossValue{Loss: r.Loss, Components: r.Components}, nil
}
