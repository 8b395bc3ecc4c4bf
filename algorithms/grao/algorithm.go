package grao

import (
	"fmt"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/core"
)

// Algorithm is GRAO behind core.Algorithm: G samples per prompt plus the
// reference answer, no ratio, no frozen reference model (μ = 1).
type Algorithm struct {
	name string
	P    Params
}

var _ core.Algorithm = (*Algorithm)(nil)

// ablations are the paper's Table 3 variants, registered under their own
// names so sweeps and reports can tell them apart.
var ablations = []struct {
	name, part, colour, glyph string
	set                       func(*Params)
}{
	{"grao-no-imitation", "imitation", "#E69F00", "cross", func(p *Params) { p.NoImitation = true }},
	{"grao-no-exploration", "exploration", "#CC79A7", "plus", func(p *Params) { p.NoExploration = true }},
	{"grao-no-regularizer", "regularizer", "#000000", "box", func(p *Params) { p.NoRegulariser = true }},
}

func init() {
	register("grao", nil)
	algorithms.Describe("grao", algorithms.Identity{Display: "GRAO", Colour: "#D55E00", Glyph: "circle", Order: 90, Target: true})
	for i, a := range ablations {
		register(a.name, a.set)
		algorithms.Describe(a.name, algorithms.Identity{Display: "GRAO w/o " + a.part, Colour: a.colour, Glyph: a.glyph,
			Order: 91 + i, Base: "grao", Ablation: a.part})
	}
}

func register(name string, preset func(*Params)) {
	algorithms.Register(name, func(params map[string]any) (core.Algorithm, error) {
		p := DefaultParams()
		if preset != nil {
			preset(&p)
		}
		if err := algorithms.Decode(name, params, &p); err != nil {
			return nil, err
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
		if p.G < 1 {
			return nil, fmt.Errorf("%s: g = %d, want ≥ 1", name, p.G)
		}
		return &Algorithm{name: name, P: p}, nil
	})
}

func (a *Algorithm) Name() string { return a.name }
func (a *Algorithm) Config() any  { return a.P }
func (a *Algorithm) Needs() core.Needs {
	return core.Needs{Samples: a.P.G, Reference: true, Epochs: 1}
}

// Loss implements core.Algorithm.
func (a *Algorithm) Loss(b, grad *core.Batch) (core.LossValue, error) {
	in := Input{Prompts: make([]Prompt, len(b.Groups))}
	for i, g := range b.Groups {
		pr := Prompt{Reference: g.Reference.LogP, Rewards: g.Rewards, RefReward: g.RefReward}
		for _, s := range g.Samples {
			pr.Samples = append(pr.Samples, s.LogP)
		}
		in.Prompts[i] = pr
	}
	r, err := Loss(in, a.P)
	if err != nil {
		return core.LossValue{}, err
	}
	for i, pg := range r.Grad.Prompts {
		for si, gs := range pg.Samples {
			copy(grad.Groups[i].Samples[si].LogP, gs)
		}
		copy(grad.Groups[i].Reference.LogP, pg.Reference)
	}
	return core.LossValue{Loss: r.Loss, Components: r.Components}, nil
}
