package sft

import (
	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core"
)

// Algorithm is SFT behind core.Algorithm: it trains on each group's
// reference answer.
type Algorithm struct{ P Params }

var _ core.Algorithm = (*Algorithm)(nil)

func init() {
	algorithms.Describe("sft", algorithms.Identity{Display: "SFT", Colour: "#999999", Glyph: "ring", Order: 10, Imitation: true})
	algorithms.Register("sft", func(params map[string]any) (core.Algorithm, error) {
		p := DefaultParams()
		if err := algorithms.Decode("sft", params, &p); err != nil {
			return nil, err
		}
		if _, err := Loss(Input{LogP: [][]float64{{-1}}}, p); err != nil {
			return nil, err
		}
		return &Algorithm{P: p}, nil
	})
}

func (a *Algorithm) Name() string      { return "sft" }
func (a *Algorithm) Config() any       { return a.P }
func (a *Algorithm) Needs() core.Needs { return core.Needs{Reference: true, Epochs: 1} }

// Loss implements core.Algorithm.
func (a *Algorithm) Loss(b, grad *core.Batch) (core.LossValue, error) {
	in := Input{LogP: make([][]float64, len(b.Groups))}
	for i, g := range b.Groups {
		in.LogP[i] = g.Reference.LogP
	}
	r, err := Loss(in, a.P)
	if err != nil {
		return core.LossValue{}, err
	}
	for i := range grad.Groups {
		copy(grad.Groups[i].Reference.LogP, r.Grad.LogP[i])
	}
	return core.LossValue{Loss: r.Loss, Components: r.Components}, nil
}
