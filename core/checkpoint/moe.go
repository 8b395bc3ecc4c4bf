package checkpoint

import "github.com/grao-lab/grao/core/model"

// hfMoE holds config.json's mixture-of-experts keys, named as Mixtral's
// (and, for the expert width, Qwen-MoE's) configs name them. Every key is
// omitted for a dense model, whose config.json stays as it was.
type hfMoE struct {
	NumLocalExperts     int     `json:"num_local_experts,omitempty"`
	NumExpertsPerTok    int     `json:"num_experts_per_tok,omitempty"`
	MoEIntermediateSize int     `json:"moe_intermediate_size,omitempty"`
	RouterAuxLossCoef   float64 `json:"router_aux_loss_coef,omitempty"`
	RouterZLossCoef     float64 `json:"router_z_loss_coef,omitempty"`
}

// moeArchitecture names an MoE checkpoint's class. transformers has no
// GPT-2 MoE, so an MoE checkpoint must not claim GPT2LMHeadModel, whose
// loader would drop the experts and draw a dense MLP at random.
const moeArchitecture = "GPT2MoELMHeadModel"

// setMoE writes c's MoE keys, the expert width resolved, into h.
func setMoE(h *hfConfig, c model.Config) {
	if !c.IsMoE() {
		return
	}
	h.Architectures = []string{moeArchitecture}
	h.hfMoE = hfMoE{
		NumLocalExperts:     c.NExperts,
		NumExpertsPerTok:    c.TopK,
		MoEIntermediateSize: c.ExpertHidden(),
		RouterAuxLossCoef:   c.AuxLossCoef,
		RouterZLossCoef:     c.ZLossCoef,
	}
}

// getMoE reads the MoE keys into c. A width equal to the default
// (4·n_embd/k) is stored as 0, as the presets hold it, so a loaded config
// equals the one that was saved.
func getMoE(c *model.Config, in hfMoE) {
	c.NExperts, c.TopK = in.NumLocalExperts, in.NumExpertsPerTok
	c.ExpertInner = in.MoEIntermediateSize
	c.AuxLossCoef, c.ZLossCoef = in.RouterAuxLossCoef, in.RouterZLossCoef
	if c.TopK > 0 && c.ExpertInner*c.TopK == 4*c.DModel {
		c.ExpertInner = 0
	}
}
