package dpo

import (
	"fmt"
	"math"
)

// Params are DPO's hyper-parameters; JSON names are the test-vector keys.
type Params struct {
	// Beta is the inverse temperature β (for IPO, 1/(2β) is the target margin).
	Beta float64 `json:"beta"`
	// LossType is "sigmoid" or "ipo".
	LossType string `json:"loss_type"`
	// LabelSmoothing is cDPO's ε in [0, 0.5].
	LabelSmoothing float64 `json:"label_smoothing"`
}

// DefaultParams returns TRL's defaults: sigmoid loss, β = 0.1, ε = 0.
func DefaultParams() Params { return Params{Beta: 0.1, LossType: "sigmoid"} }

// Input holds B preference pairs: per-token log-probs of the chosen and the
// rejected completion under the policy and the reference policy. Policy and
// reference slices of the same completion must have the same shape.
type Input struct {
	PolicyChosen   [][]float64 `json:"policy_chosen"`
	PolicyRejected [][]float64 `json:"policy_rejected"`
	RefChosen      [][]float64 `json:"ref_chosen"`
	RefRejected    [][]float64 `json:"ref_rejected"`
}

// Grad holds dL/dℓ_θ for the chosen and rejected tokens.
type Grad struct {
	PolicyChosen   [][]float64 `json:"policy_chosen"`
	PolicyRejected [][]float64 `json:"policy_rejected"`
}

// Result is the loss, its gradient and what to log.
type Result struct {
	Loss       float64            `json:"loss"`
	Grad       Grad               `json:"grad"`
	Components map[string]float64 `json:"components"`
}

// Validate checks the parameters and names the first bad key.
func (p Params) Validate() error {
	switch {
	case !(p.Beta > 0) || math.IsInf(p.Beta, 0):
		return fmt.Errorf("dpo: beta = %v, want > 0", p.Beta)
	case p.LossType != "sigmoid" && p.LossType != "ipo":
		return fmt.Errorf("dpo: loss_type = %q, want \"sigmoid\" or \"ipo\"", p.LossType)
	case !(p.LabelSmoothing >= 0 && p.LabelSmoothing <= 0.5):
		return fmt.Errorf("dpo: label_smoothing = %v, want in [0, 0.5]", p.LabelSmoothing)
	case p.LossType == "ipo" && p.LabelSmoothing != 0:
		return fmt.Errorf("dpo: label_smoothing = %v is not defined for loss_type \"ipo\"", p.LabelSmoothing)
	}
	return nil
}

// logSigmoid is log σ(x) without overflow for large |x|.
func logSigmoid(x float64) float64 {
	return math.Min(x, 0) - math.Log1p(math.Exp(-math.Abs(x)))
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Loss returns the DPO loss of the batch and its gradient.
func Loss(in Input, p Params) (Result, error) {
	if err := p.Validate(); err != nil {
		return Result{}, err
	}
	if err := checkInput(in); err != nil {
		return Result{}, err
	}
	B := len(in.PolicyChosen)
	ipo := p.LossType == "ipo"
	// seqLogP is the sum (sigmoid) or the per-token mean (IPO).
	seqLogP := func(s []float64) float64 {
		var sum float64
		for _, x := range s {
			sum += x
		}
		if ipo {
			return sum / float64(len(s))
		}
		return sum
	}
	res := Result{Grad: Grad{PolicyChosen: make([][]float64, B), PolicyRejected: make([][]float64, B)}}
	var loss, rc, rr, acc float64
	for b := 0; b < B; b++ {
		hw := seqLogP(in.PolicyChosen[b]) - seqLogP(in.RefChosen[b])
		hl := seqLogP(in.PolicyRejected[b]) - seqLogP(in.RefRejected[b])
		d := hw - hl
		rc += p.Beta * hw
		rr += p.Beta * hl
		if d > 0 {
			acc++
		}
		var dLdD float64 // ∂L_b/∂Δ
		if ipo {
			m := d - 1/(2*p.Beta)
			loss += m * m
			dLdD = 2 * m
		} else {
			z := p.Beta * d
			eps := p.LabelSmoothing
			loss += -(1-eps)*logSigmoid(z) - eps*logSigmoid(-z)
			// d/dz[−(1−ε)logσ(z) − ε logσ(−z)] = σ(z) − (1−ε)
			dLdD = p.Beta * (sigmoid(z) - (1 - eps))
		}
		dLdD /= float64(B)
		res.Grad.PolicyChosen[b] = fill(len(in.PolicyChosen[b]), dLdD, ipo)
		res.Grad.PolicyRejected[b] = fill(len(in.PolicyRejected[b]), -dLdD, ipo)
	}
	n := float64(B)
	res.Loss = loss / n
	res.Components = map[string]float64{
		"rewards_chosen":   rc / n,
		"rewards_rejected": rr / n,
		"rewards_margin":   (rc - rr) / n,
		"rewards_accuracy": acc / n,
	}
	return res, nil
}

// fill spreads ∂L/∂(sequence log-prob) over the tokens: every token gets it
// for a sum, 1/length of it for a mean.
func fill(n int, v float64, mean bool) []float64 {
	if mean {
		v /= float64(n)
	}
	g := make([]float64, n)
	for i := range g {
		g[i] = v
	}
	return g
}

func checkInput(in Input) error {
	B := len(in.PolicyChosen)
	if B == 0 {
		return fmt.Errorf("dpo: policy_chosen is empty (no pairs)")
	}
	pairs := []struct {
		pol, ref         string
		polSeqs, refSeqs [][]float64
	}{
		{"policy_chosen", "ref_chosen", in.PolicyChosen, in.RefChosen},
		{"policy_rejected", "ref_rejected", in.PolicyRejected, in.RefRejected},
	}
	for _, pr := range pairs {
		if len(pr.polSeqs) != B {
			return fmt.Errorf("dpo: %s has %d sequences but policy_chosen has %d", pr.pol, len(pr.polSeqs), B)
		}
		if len(pr.refSeqs) != B {
			return fmt.Errorf("dpo: %s has %d sequences but policy_chosen has %d", pr.ref, len(pr.refSeqs), B)
		}
		for b := range B {
			if len(pr.polSeqs[b]) == 0 {
				return fmt.Errorf("dpo: %s[%d] is empty (a completion needs ≥ 1 token)", pr.pol, b)
			}
			if len(pr.refSeqs[b]) != len(pr.polSeqs[b]) {
				return fmt.Errorf("dpo: %s[%d] has %d tokens but %s[%d] has %d", pr.ref, b, len(pr.refSeqs[b]), pr.pol, b, len(pr.polSeqs[b]))
			}
			for _, s := range []struct {
				name string
				x    []float64
			}{{pr.pol, pr.polSeqs[b]}, {pr.ref, pr.refSeqs[b]}} {
				for t, x := range s.x {
					if math.IsNaN(x) || math.IsInf(x, 0) {
						return fmt.Errorf("dpo: %s[%d][%d] = %v is not finite", s.name, b, t, x)
					}
				}
			}
		}
	}
	return nil
}
