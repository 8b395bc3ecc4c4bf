package rm

import "math"

// BTLoss is the Bradley–Terry loss of a batch of pairs with rewards rc
// (chosen) and rr (rejected):
//
//	L = (1/B) Σ_i −log σ(rc_i − rr_i)  +  l2 · (1/2B) Σ_i (rc_i² + rr_i²)
//
// The L2 term (l2 ≥ 0; 0 disables it) is λ times the mean squared reward
// over all 2B scored sequences: Bradley–Terry only sees differences, so
// without it the rewards can drift by a common offset, which matters once
// they feed an RL algorithm. dc and dr (len B, may be nil) receive dL/drc
// and dL/drr. An empty batch has loss 0.
func BTLoss(rc, rr []float64, l2 float64, dc, dr []float64) float64 {
	b := len(rc)
	if len(rr) != b {
		panic("rm.BTLoss: rc and rr differ in length")
	}
	if b == 0 {
		return 0
	}
	inv := 1 / float64(b)
	var loss float64
	for i := range rc {
		m := rc[i] - rr[i]
		loss += softplus(-m)
		// d softplus(−m)/dm = −σ(−m).
		g := -sigmoid(-m) * inv
		if dc != nil {
			dc[i] = g + l2*rc[i]*inv
		}
		if dr != nil {
			dr[i] = -g + l2*rr[i]*inv
		}
		loss += l2 * 0.5 * (rc[i]*rc[i] + rr[i]*rr[i])
	}
	return loss * inv
}

// softplus(x) = log(1 + eˣ), written so that neither branch overflows.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
