package sft

import (
	"fmt"
	"math"
)

// Params are SFT's options; JSON names are the test-vector keys.
type Params struct {
	// Aggregation is "seq_mean" or "token_mean".
	Aggregation string `json:"aggregation"`
}

// DefaultParams returns per-sequence mean aggregation.
func DefaultParams() Params { return Params{Aggregation: "seq_mean"} }

// Input holds the per-token log-probs of the B reference answers.
type Input struct {
	LogP [][]float64 `json:"logp"`
}

// Grad is dL/dℓ, shaped like Input.LogP.
type Grad struct {
	LogP [][]float64 `json:"logp"`
}

// Result is the loss, its gradient and what to log.
type Result struct {
	Loss       float64            `json:"loss"`
	Grad       Grad               `json:"grad"`
	Components map[string]float64 `json:"components"`
}

// Loss returns the SFT negative log-likelihood. Components: "nll_seq_mean"
// and "nll_token_mean" (both aggregations, whichever is optimised),
// "tokens", "mean_length".
func Loss(in Input, p Params) (Result, error) {
	if p.Aggregation != "seq_mean" && p.Aggregation != "token_mean" {
		return Result{}, fmt.Errorf("sft: aggregation = %q, want \"seq_mean\" or \"token_mean\"", p.Aggregation)
	}
	B := len(in.LogP)
	if B == 0 {
		return Result{}, fmt.Errorf("sft: logp is empty (no sequences)")
	}
	tokens := 0
	for i, s := range in.LogP {
		if len(s) == 0 {
			return Result{}, fmt.Errorf("sft: logp[%d] is empty (an answer needs ≥ 1 token)", i)
		}
		for t, x := range s {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return Result{}, fmt.Errorf("sft: logp[%d][%d] = %v is not finite", i, t, x)
			}
		}
		tokens += len(s)
	}
	var seqMean, tokSum float64
	grad := make([][]float64, B)
	for i, s := range in.LogP {
		var sum float64
		for _, x := range s {
			sum += x
		}
		seqMean -= sum / float64(len(s)) / float64(B)
		tokSum -= sum
		w := 1 / float64(tokens)
		if p.Aggregation == "seq_mean" {
			w = 1 / float64(B*len(s))
		}
		g := make([]float64, len(s))
		for t := range g {
			g[t] = -w
		}
		grad[i] = g
	}
	tokMean := tokSum / float64(tokens)
	loss := seqMean
	if p.Aggregation == "token_mean" {
		loss = tokMean
	}
	return Result{
		Loss: loss,
		Grad: Grad{LogP: grad},
		Components: map[string]float64{
			"nll_seq_mean":   seqMean,
			"nll_token_mean": tokMean,
			"tokens":         float64(tokens),
			"mean_length":    float64(tokens) / float64(B),
		},
	}, nil
}
