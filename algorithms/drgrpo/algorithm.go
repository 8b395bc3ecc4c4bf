package drgrpo

import (
	"fmt"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/algorithms/kit"
	"github.com/grao-lab/grao/core"
)

// Algorithm is Dr. GRPO behind core.Algorithm.
type Algorithm struct{ P Params }

var (
	_ core.Algorithm     = (*Algorithm)(nil)
	_ core.LengthLimited = (*Algorithm)(nil)
)

func init() {
	algorithms.Describe("drgrpo", algorithms.Identity{Display: "Dr. GRPO", Colour: "#44AA99", Glyph: "pyramid", Order: 60})
	algorithms.Register("drgrpo", func(params map[string]any) (core.Algorithm, error) {
		p := DefaultParams()
		if err := algorithms.Decode("drgrpo", params, &p); err != nil {
			return nil, err
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
		return &Algorithm{P: p}, nil
	})
}

func (a *Algorithm) Name() string { return "drgrpo" }
func (a *Algorithm) Config() any  { return a.P }
func (a *Algorithm) Needs() core.Needs {
	return core.Needs{Samples: a.P.G, OldLogP: true, RefModel: a.P.KLBeta != 0, Epochs: a.P.Iterations}
}

// SetMaxNewTokens makes the rollouts' limit the denominator's L unless
// max_len is set, and refuses a max_len below it.
func (a *Algorithm) SetMaxNewTokens(n int) error {
	if a.P.MaxLen == 0 {
		a.P.MaxLen = n
	} else if a.P.MaxLen < n {
		return fmt.Errorf("drgrpo: max_len = %d is below max_new_tokens = %d: completions may be longer than the denominator's L", a.P.MaxLen, n)
	}
	return nil
}

// Loss implements core.Algorithm.
func (a *Algorithm) Loss(b, grad *core.Batch) (core.LossValue, error) {
	return kit.SampleLoss(b, grad, true, func(in kit.Input) (kit.Result, error) { return Loss(in, a.P) })
}
