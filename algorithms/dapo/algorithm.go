package dapo

import (
	"fmt"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/algorithms/kit"
	"github.com/grao-lab/grao/core"
)

// Algorithm is DAPO behind core.Algorithm.
type Algorithm struct{ P Params }

var (
	_ core.Algorithm     = (*Algorithm)(nil)
	_ core.LengthLimited = (*Algorithm)(nil)
)

func init() {
	algorithms.Describe("dapo", algorithms.Identity{Display: "DAPO", Colour: "#332288", Glyph: "triangle", Order: 70})
	algorithms.Register("dapo", func(params map[string]any) (core.Algorithm, error) {
		p := DefaultParams()
		if err := algorithms.Decode("dapo", params, &p); err != nil {
			return nil, err
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
		return &Algorithm{P: p}, nil
	})
}

func (a *Algorithm) Name() string { return "dapo" }
func (a *Algorithm) Config() any  { return a.P }

// Needs asks for dynamic sampling on the raw rewards (the paper filters on
// accuracy, before the length shaping).
func (a *Algorithm) Needs() core.Needs {
	n := core.Needs{Samples: a.P.G, OldLogP: true, Epochs: a.P.Iterations}
	if a.P.DynamicSampling {
		n.Keep, n.MaxRounds = core.KeepVaried, a.P.MaxRounds
	}
	return n
}

// SetMaxNewTokens makes the rollouts' limit L_max unless max_len is set.
func (a *Algorithm) SetMaxNewTokens(n int) error {
	if a.P.MaxLen == 0 {
		a.P.MaxLen = n
	}
	if c := a.P.Cache(); c >= a.P.MaxLen && a.P.OverlongFraction < 1 {
		return fmt.Errorf("dapo: overlong_fraction = %v of max_len = %d leaves no unpenalised length", a.P.OverlongFraction, a.P.MaxLen)
	}
	return nil
}

// Loss implements core.Algorithm.
func (a *Algorithm) Loss(b, grad *core.Batch) (core.LossValue, error) {
	return kit.SampleLoss(b, grad, false, func(in kit.Input) (kit.Result, error) {
		return Loss(Input{LogP: in.LogP, OldLogP: in.OldLogP, Rewards: in.Rewards}, a.P)
	})
}
