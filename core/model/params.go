package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/grao-lab/grao/core"
)

// Tensor is one named float32 parameter, row-major (core.Tensor).
type Tensor = core.Tensor

// Block is one transformer layer, HF names in comments.
type Block struct {
	LN1G, LN1B   *Tensor // ln_1.weight [d], ln_1.bias [d]
	AttnW, AttnB *Tensor // attn.c_attn.weight [d,3d], .bias [3d]
	ProjW, ProjB *Tensor // attn.c_proj.weight [d,d], .bias [d]
	LN2G, LN2B   *Tensor // ln_2
	FCW, FCB     *Tensor // mlp.c_fc.weight [d,4d], .bias [4d]
	FC2W, FC2B   *Tensor // mlp.c_proj.weight [4d,d], .bias [d]
	// A mixture-of-experts block has Gate and Experts instead of the MLP
	// (FC* nil): block_sparse_moe.gate.weight [d,E] and the experts.
	Gate    *Tensor
	Experts []Expert
}

// Params are all weights of a model.
type Params struct {
	Config Config
	WTE    *Tensor // transformer.wte.weight [V,d]; also the LM head
	WPE    *Tensor // transformer.wpe.weight [ctx,d]
	Blocks []Block
	LNFG   *Tensor // transformer.ln_f.weight
	LNFB   *Tensor // transformer.ln_f.bias
	// Value head (nil unless Config.ValueHead): v = h·VW + VB.
	VW *Tensor // value_head.weight [d,1]
	VB *Tensor // value_head.bias [1]
}

func newTensor(name string, shape ...int) *Tensor {
	t := &Tensor{Name: name, Shape: shape}
	t.Data = make([]float32, t.Size())
	return t
}

// NewParams allocates zeroed parameters for c, with layer-norm gains at 1.
func NewParams(c Config) (*Params, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	d := c.DModel
	p := &Params{
		Config: c,
		WTE:    newTensor("transformer.wte.weight", c.VocabSize, d),
		WPE:    newTensor("transformer.wpe.weight", c.Context, d),
		LNFG:   newTensor("transformer.ln_f.weight", d),
		LNFB:   newTensor("transformer.ln_f.bias", d),
	}
	for i := 0; i < c.NLayer; i++ {
		pre := fmt.Sprintf("transformer.h.%d.", i)
		b := Block{
			LN1G:  newTensor(pre+"ln_1.weight", d),
			LN1B:  newTensor(pre+"ln_1.bias", d),
			AttnW: newTensor(pre+"attn.c_attn.weight", d, 3*d),
			AttnB: newTensor(pre+"attn.c_attn.bias", 3*d),
			ProjW: newTensor(pre+"attn.c_proj.weight", d, d),
			ProjB: newTensor(pre+"attn.c_proj.bias", d),
			LN2G:  newTensor(pre+"ln_2.weight", d),
			LN2B:  newTensor(pre+"ln_2.bias", d),
		}
		if c.NExperts > 0 {
			b.newMoE(c, pre)
		} else {
			b.FCW = newTensor(pre+"mlp.c_fc.weight", d, 4*d)
			b.FCB = newTensor(pre+"mlp.c_fc.bias", 4*d)
			b.FC2W = newTensor(pre+"mlp.c_proj.weight", 4*d, d)
			b.FC2B = newTensor(pre+"mlp.c_proj.bias", d)
		}
		p.Blocks = append(p.Blocks, b)
	}
	if c.ValueHead {
		p.VW = newTensor("value_head.weight", d, 1)
		p.VB = newTensor("value_head.bias", 1)
	}
	for _, t := range p.All() {
		if isGain(t.Name) {
			fill(t.Data, 1)
		}
	}
	return p, nil
}

func isGain(name string) bool {
	return strings.HasSuffix(name, "ln_1.weight") || strings.HasSuffix(name, "ln_2.weight") || strings.HasSuffix(name, "ln_f.weight")
}

func fill(x []float32, v float32) {
	for i := range x {
		x[i] = v
	}
}

// All returns every tensor in a fixed order (embeddings, blocks in order,
// final norm, value head). Optimiser state and checkpoints follow it.
func (p *Params) All() []*Tensor {
	ts := []*Tensor{p.WTE, p.WPE}
	for _, b := range p.Blocks {
		ts = append(ts, b.tensors()...)
	}
	ts = append(ts, p.LNFG, p.LNFB)
	if p.VW != nil {
		ts = append(ts, p.VW, p.VB)
	}
	return ts
}

// Init draws weights GPT-2 style from a seeded RNG: N(0, 0.02) for
// embeddings and weights, residual projections scaled by 1/√(2·n_layer),
// zero biases, unit layer-norm gains. Same seed ⇒ same weights.
func Init(c Config, seed uint64) (*Params, error) {
	p, err := NewParams(c)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6772616f)) // "grao"
	normal := func(t *Tensor, std float64) {
		for i := range t.Data {
			t.Data[i] = float32(rng.NormFloat64() * std)
		}
	}
	const std = 0.02
	resid := std / math.Sqrt(2*float64(c.NLayer))
	normal(p.WTE, std)
	normal(p.WPE, 0.01)
	for _, b := range p.Blocks {
		normal(b.AttnW, std)
		normal(b.ProjW, resid)
		if b.Gate != nil {
			b.initMoE(normal, std, resid)
			continue
		}
		normal(b.FCW, std)
		normal(b.FC2W, resid)
	}
	if p.VW != nil {
		normal(p.VW, std)
	}
	return p, nil
}

// Clone deep-copies p (e.g. the frozen reference policy).
func (p *Params) Clone() *Params {
	q, _ := NewParams(p.Config)
	src, dst := p.All(), q.All()
	for i := range src {
		copy(dst[i].Data, src[i].Data)
	}
	return q
}

// CopyFrom copies every weight of src into p; configs must match.
func (p *Params) CopyFrom(src *Params) error {
	if p.Config != src.Config {
		return fmt.Errorf("model: copy between different configs %+v and %+v", p.Config, src.Config)
	}
	a, b := p.All(), src.All()
	for i := range a {
		copy(a[i].Data, b[i].Data)
	}
	return nil
}

// WithValueHead returns a copy of p with a value head (zero weight and
// bias, so training starts from V = 0); p itself is unchanged. A p that
// already has one is copied as is.
func (p *Params) WithValueHead() *Params {
	c := p.Config
	c.ValueHead = true
	q, _ := NewParams(c)
	src, dst := p.All(), q.All()
	for i := range src {
		copy(dst[i].Data, src[i].Data)
	}
	return q
}
