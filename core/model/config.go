package model

import (
	"fmt"
	"sort"
	"strings"

	"github.com/grao-lab/grao/core/tokenizer"
)

// Config is the architecture. JSON names follow transformers.GPT2Config.
type Config struct {
	VocabSize int     `json:"vocab_size" toml:"vocab_size"`
	DModel    int     `json:"n_embd" toml:"d_model"`
	NLayer    int     `json:"n_layer" toml:"n_layer"`
	NHead     int     `json:"n_head" toml:"n_head"`
	Context   int     `json:"n_positions" toml:"context"`
	LNEps     float64 `json:"layer_norm_epsilon" toml:"layer_norm_epsilon"`
	// ValueHead adds a scalar head on the final hidden state (PPO's critic).
	ValueHead bool `json:"value_head,omitempty" toml:"value_head"`
	// MoE: with NExperts > 0 every block's MLP is a mixture of NExperts
	// expert MLPs of which each token uses TopK (see moe.go). All zero
	// for a dense model, and omitted from its encodings, so dense configs,
	// checkpoints and trial IDs are unchanged by their existence.
	NExperts int `json:"num_local_experts,omitempty" toml:"num_local_experts,omitzero"`
	TopK     int `json:"num_experts_per_tok,omitempty" toml:"num_experts_per_tok,omitzero"`
	// ExpertInner is each expert's hidden width; 0 means 4·DModel/TopK,
	// which gives the active experts the dense MLP's matrices.
	ExpertInner int `json:"moe_intermediate_size,omitempty" toml:"moe_intermediate_size,omitzero"`
	// AuxLossCoef weights the load-balancing loss, ZLossCoef the router
	// z-loss (both averaged over layers).
	AuxLossCoef float64 `json:"router_aux_loss_coef,omitempty" toml:"router_aux_loss_coef,omitzero"`
	ZLossCoef   float64 `json:"router_z_loss_coef,omitempty" toml:"router_z_loss_coef,omitzero"`
	// Tokens are the special ids of the model's tokenizer (Specials);
	// zero means grao's byte tokenizer. Not part of the encodings: a
	// checkpoint's config.json carries them as bos/eos/pad_token_id.
	Tokens tokenizer.Specials `json:"-" toml:"-"`
}

var presets = map[string]Config{
	"tiny":   {DModel: 64, NLayer: 2, NHead: 4, Context: 64},
	"small":  {DModel: 128, NLayer: 2, NHead: 4, Context: 128},
	"medium": {DModel: 256, NLayer: 4, NHead: 4, Context: 128},
	// large is for GPU engines (experiments/gpu.toml): about 25.5M
	// parameters, out of a 2-core CPU's reach for a sweep.
	"large": {DModel: 512, NLayer: 8, NHead: 8, Context: 256},
	// The MoE presets have their dense namesakes' active parameters: top-2
	// of experts 2·d wide carry the same matrices as one 4·d MLP.
	"small-moe":  {DModel: 128, NLayer: 2, NHead: 4, Context: 128, NExperts: 4, TopK: 2, AuxLossCoef: 0.01, ZLossCoef: 0.001},
	"medium-moe": {DModel: 256, NLayer: 4, NHead: 4, Context: 128, NExperts: 8, TopK: 2, AuxLossCoef: 0.01, ZLossCoef: 0.001},
}

// Presets lists the preset names.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns a named size with the byte tokenizer's vocabulary.
func Preset(name string) (Config, error) {
	c, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("unknown model preset %q (have %s)", name, strings.Join(Presets(), ", "))
	}
	c.VocabSize = tokenizer.VocabSize
	c.LNEps = 1e-5
	return c, nil
}

// HeadDim is DModel / NHead.
func (c Config) HeadDim() int { return c.DModel / c.NHead }

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.VocabSize <= 0:
		return fmt.Errorf("vocab_size must be positive, got %d", c.VocabSize)
	case c.DModel <= 0:
		return fmt.Errorf("n_embd must be positive, got %d", c.DModel)
	case c.NLayer <= 0:
		return fmt.Errorf("n_layer must be positive, got %d", c.NLayer)
	case c.NHead <= 0 || c.DModel%c.NHead != 0:
		return fmt.Errorf("n_head must be positive and divide n_embd=%d, got %d", c.DModel, c.NHead)
	case c.Context <= 1:
		return fmt.Errorf("n_positions must be at least 2, got %d", c.Context)
	case !(c.LNEps > 0):
		return fmt.Errorf("layer_norm_epsilon must be positive, got %g", c.LNEps)
	}
	return c.validateMoE()
}

// NumParams counts parameters (the tied LM head once).
func (c Config) NumParams() int {
	d := c.DModel
	n := c.VocabSize*d + c.Context*d + 2*d
	n += c.NLayer * (4*d + 3*d*d + 3*d + d*d + d + c.mlpParams(c.NExperts))
	if c.ValueHead {
		n += d + 1
	}
	return n
}

// FLOPsPerToken is the approximate forward cost of one token at context
// position t (2 FLOPs per multiply-add): weight matmuls, attention over t
// previous tokens, and the LM head.
func (c Config) FLOPsPerToken(t int) float64 {
	d := float64(c.DModel)
	w := float64(c.NLayer) * 2 * (4*d*d + c.mlpMACs())
	att := float64(c.NLayer) * 2 * 2 * float64(t) * d
	head := 2 * d * float64(c.VocabSize)
	return w + att + head
}
