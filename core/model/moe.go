package model

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/grao-lab/grao/kernels"
	"github.com/grao-lab/grao/kernels/ops"
)

// The mixture-of-experts family replaces every block's MLP with NExperts
// expert MLPs (GPT-2's c_fc → gelu_new → c_proj, ExpertHidden wide) and a
// bias-free router, h·gate [d,E]. Each token goes to the TopK experts with
// the largest router logits (ties to the lower index), mixed by the
// softmax over those k logits (Mixtral); routing is dropless, so no token
// is ever dropped for capacity. The training loss gains Switch's
// load-balancing loss and, optionally, ST-MoE's router z-loss over the
// real (unpadded) tokens, both averaged over layers.

// Expert is one expert MLP of a mixture-of-experts block, under
// transformer.h.{i}.block_sparse_moe.experts.{e}.
type Expert struct {
	FCW, FCB   *Tensor // c_fc.weight [d,H], c_fc.bias [H]
	FC2W, FC2B *Tensor // c_proj.weight [H,d], c_proj.bias [d]
}

// IsMoE reports whether c is a mixture-of-experts model.
func (c Config) IsMoE() bool { return c.NExperts > 0 }

// ExpertHidden is each expert's hidden width (ExpertInner, or 4·DModel/TopK
// when that is 0).
func (c Config) ExpertHidden() int {
	if c.ExpertInner > 0 || c.TopK == 0 {
		return c.ExpertInner
	}
	return 4 * c.DModel / c.TopK
}

func (c Config) validateMoE() error {
	bad := func(x float64) bool { return !(x >= 0) || math.IsInf(x, 1) }
	switch {
	case c.NExperts < 0:
		return fmt.Errorf("num_local_experts must be ≥ 0, got %d", c.NExperts)
	case c.NExperts == 0:
		if c.TopK != 0 || c.ExpertInner != 0 || c.AuxLossCoef != 0 || c.ZLossCoef != 0 {
			return fmt.Errorf("num_local_experts must be positive when num_experts_per_tok, moe_intermediate_size or the router loss coefficients are set")
		}
	case c.TopK < 1 || c.TopK > c.NExperts:
		return fmt.Errorf("num_experts_per_tok must be in [1, num_local_experts=%d], got %d", c.NExperts, c.TopK)
	case c.ExpertInner < 0:
		return fmt.Errorf("moe_intermediate_size must be ≥ 0, got %d", c.ExpertInner)
	case c.ExpertInner == 0 && (4*c.DModel)%c.TopK != 0:
		return fmt.Errorf("moe_intermediate_size must be set when num_experts_per_tok=%d does not divide 4·n_embd=%d", c.TopK, 4*c.DModel)
	case bad(c.AuxLossCoef):
		return fmt.Errorf("router_aux_loss_coef must be finite and ≥ 0, got %g", c.AuxLossCoef)
	case bad(c.ZLossCoef):
		return fmt.Errorf("router_z_loss_coef must be finite and ≥ 0, got %g", c.ZLossCoef)
	}
	return nil
}

// mlpParams counts one block's MLP parameters with the router and the
// given number of experts (a dense block ignores it).
func (c Config) mlpParams(experts int) int {
	d := c.DModel
	if !c.IsMoE() {
		return 4*d*d + 4*d + 4*d*d + d
	}
	h := c.ExpertHidden()
	return d*c.NExperts + experts*(2*d*h+h+d)
}

// mlpMACs is one token's multiply-adds in one block's MLP (router
// included): what its active experts compute.
func (c Config) mlpMACs() float64 {
	d := float64(c.DModel)
	if !c.IsMoE() {
		return 8 * d * d
	}
	return float64(c.TopK)*2*d*float64(c.ExpertHidden()) + d*float64(c.NExperts)
}

// ActiveParams counts the parameters one token uses: NumParams with only
// TopK experts per block (all of them for a dense model).
func (c Config) ActiveParams() int {
	return c.NumParams() - c.NLayer*(c.mlpParams(c.NExperts)-c.mlpParams(c.TopK))
}

func (b *Block) newMoE(c Config, pre string) {
	d, h := c.DModel, c.ExpertHidden()
	b.Gate = newTensor(pre+"block_sparse_moe.gate.weight", d, c.NExperts)
	for e := 0; e < c.NExperts; e++ {
		ep := fmt.Sprintf("%sblock_sparse_moe.experts.%d.", pre, e)
		b.Experts = append(b.Experts, Expert{
			FCW:  newTensor(ep+"c_fc.weight", d, h),
			FCB:  newTensor(ep+"c_fc.bias", h),
			FC2W: newTensor(ep+"c_proj.weight", h, d),
			FC2B: newTensor(ep+"c_proj.bias", d),
		})
	}
}

// tensors lists a block's tensors in Params.All() order: attention and
// norms, then the MLP or the router and each expert.
func (b Block) tensors() []*Tensor {
	ts := []*Tensor{b.LN1G, b.LN1B, b.AttnW, b.AttnB, b.ProjW, b.ProjB, b.LN2G, b.LN2B}
	if b.Gate == nil {
		return append(ts, b.FCW, b.FCB, b.FC2W, b.FC2B)
	}
	ts = append(ts, b.Gate)
	for _, e := range b.Experts {
		ts = append(ts, e.FCW, e.FCB, e.FC2W, e.FC2B)
	}
	return ts
}

// initMoE draws the router and the experts as Init draws a dense MLP.
func (b Block) initMoE(normal func(*Tensor, float64), std, resid float64) {
	normal(b.Gate, std)
	for _, e := range b.Experts {
		normal(e.FCW, std)
		normal(e.FC2W, resid)
	}
}

// graphMoE is a training graph's mixture-of-experts state.
type graphMoE struct {
	logits []*G.Node // each block's router logits [B·S, E]
	aux    *G.Node   // the weighted router losses (scalar)
	// mask marks the real tokens (not padding) of the loaded batch.
	mask []bool
	// stats of the last run, per layer
	stats []kernels.RouterLosses
}

// mlp is a block's MLP on h = ln_2(x): dense, or routed to experts.
func (gr *Graph) mlp(h *G.Node, w []*G.Node) (*G.Node, error) {
	c := gr.Params.Config
	if !c.IsMoE() {
		y, err := ops.Linear(h, w[0], w[1])
		if err == nil {
			y, err = ops.GELU(y)
		}
		if err == nil {
			y, err = ops.Linear(y, w[2], w[3])
		}
		return y, err
	}
	if gr.moe == nil {
		gr.moe = &graphMoE{mask: make([]bool, gr.Batch*gr.Seq)}
	}
	logits, err := ops.MatMul(h, w[0], false, false)
	if err != nil {
		return nil, err
	}
	gr.moe.logits = append(gr.moe.logits, logits)
	return ops.MoE(h, logits, w[1:], c.TopK)
}

func (gr *Graph) buildRouterLoss() error {
	m := gr.moe
	if m == nil {
		return nil
	}
	c := gr.Params.Config
	var err error
	m.aux, err = ops.RouterLoss(m.logits, c.TopK, c.AuxLossCoef, c.ZLossCoef, &m.mask,
		func(s []kernels.RouterLosses) { m.stats = s })
	return err
}

// loadMask marks the positions the loaded sequences occupy.
func (gr *Graph) loadMask(seqs []Sequence) {
	if gr.moe == nil {
		return
	}
	clear(gr.moe.mask)
	for r, s := range seqs {
		for i := range s.Tokens {
			gr.moe.mask[r*gr.Seq+i] = true
		}
	}
}

// RouterLoss is the scalar node of the weighted router losses
// (load balancing and z-loss over the loaded tokens), nil for a dense
// model. A loss built on the graph adds it before Compile to train the
// router to balance; the CPU engine does.
func (gr *Graph) RouterLoss() *G.Node {
	if gr.moe == nil {
		return nil
	}
	return gr.moe.aux
}

// RouterStats returns the last run's losses and metrics (as
// core.Forward.Losses and .Metrics), nil for a dense model.
func (gr *Graph) RouterStats() (losses, metrics map[string]float64) {
	if gr.moe == nil || gr.moe.stats == nil {
		return nil, nil
	}
	return routerReport(gr.Params.Config, gr.moe.stats)
}

// Keys of a mixture-of-experts model's Forward.Losses and .Metrics.
const (
	LossBalance       = "moe_balance" // AuxLossCoef · mean over layers of the load-balancing loss
	LossZ             = "moe_z"       // ZLossCoef · mean over layers of the z-loss
	MetricBalance     = "moe/balance" // the load-balancing loss unweighted (1: balanced, E: collapsed)
	MetricZ           = "moe/z"       // the z-loss unweighted
	MetricFracMin     = "moe/frac_min"
	MetricFracMax     = "moe/frac_max"
	MetricUtilEntropy = "moe/util_entropy"
)

// MetricFrac is the key of the fraction of layer l's routing assignments
// that went to expert e.
func MetricFrac(l, e int) string { return fmt.Sprintf("moe/frac/l%d/e%d", l, e) }

// routerReport turns per-layer router statistics into Forward's maps:
// the weighted losses, and the utilisation (per layer and expert, its
// extremes, and the entropy of each layer's fractions over log E averaged
// over layers: 1 when balanced, log k / log E when every token uses the
// same k experts).
func routerReport(c Config, stats []kernels.RouterLosses) (losses, metrics map[string]float64) {
	var bal, z, ent float64
	fmin, fmax := math.Inf(1), math.Inf(-1)
	metrics = map[string]float64{}
	for l, s := range stats {
		bal += s.Balance
		z += s.Z
		var h float64
		for e, f := range s.Frac {
			metrics[MetricFrac(l, e)] = f
			fmin, fmax = math.Min(fmin, f), math.Max(fmax, f)
			if f > 0 {
				h -= f * math.Log(f)
			}
		}
		if c.NExperts > 1 {
			ent += h / math.Log(float64(c.NExperts))
		}
	}
	L := float64(len(stats))
	bal, z, ent = bal/L, z/L, ent/L
	metrics[MetricBalance], metrics[MetricZ] = bal, z
	metrics[MetricFracMin], metrics[MetricFracMax], metrics[MetricUtilEntropy] = fmin, fmax, ent
	losses = map[string]float64{LossBalance: c.AuxLossCoef * bal, LossZ: c.ZLossCoef * z}
	return losses, metrics
}

// moeActs is the inference path's mixture-of-experts scratch.
type moeActs struct {
	logits, y      []float32
	m              kernels.MoE[float32]
	w1, b1, w2, b2 [][]float32
}

// moeOut adds the routed experts' output on a.h (= ln_2(x)) to a.x for n
// positions, with the kernel the training graph runs.
func (p *Params) moeOut(a *acts, b Block, n int) {
	c := p.Config
	d, e := c.DModel, c.NExperts
	if a.moe == nil {
		a.moe = &moeActs{}
	}
	m := a.moe
	m.logits = grow(m.logits, n*e)
	m.y = grow(m.y, n*d)
	kernels.Gemm(false, false, n, e, d, 1, a.h[:n*d], d, b.Gate.Data, e, 0, m.logits, e)
	m.w1, m.b1, m.w2, m.b2 = m.w1[:0], m.b1[:0], m.w2[:0], m.b2[:0]
	for _, ex := range b.Experts {
		m.w1, m.b1 = append(m.w1, ex.FCW.Data), append(m.b1, ex.FCB.Data)
		m.w2, m.b2 = append(m.w2, ex.FC2W.Data), append(m.b2, ex.FC2B.Data)
	}
	m.m.Forward(m.y, a.h[:n*d], m.logits, m.w1, m.b1, m.w2, m.b2, n, d, e, c.TopK, c.ExpertHidden())
	for i, v := range m.y {
		a.x[i] += v
	}
}
