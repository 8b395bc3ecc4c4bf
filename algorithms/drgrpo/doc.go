// Package drgrpo implements Dr. GRPO (Liu et al. 2025, "Understanding
// R1-Zero-Like Training: A Critical Perspective", arXiv 2503.20783),
// written only with algorithms/kit.
//
// Dr. GRPO removes GRPO's two normalisations that bias the optimisation:
// the division of advantages by the group's reward std (Â_i = r_i − μ_g,
// which stops weighting too easy and too hard questions up) and the
// division of each completion's loss by its own length (which favours
// long wrong answers). Per-token clipped-surrogate losses are summed and
// divided by a constant, B·L with L the generation limit:
//
//	L = Σ_i Σ_t −min(ρ Â_i, clip(ρ, 1−ε_low, 1+ε_high)·Â_i) / (B·L)
//
// The KL penalty is off by default as in the paper (kl_beta adds the k3
// estimator with the same denominator).
//
// Defaults: g = 8, clip_low = clip_high = 0.2, kl_beta = 0, iterations = 1,
// max_len = 0: the trainer's max_new_tokens (set through
// core.LengthLimited; the plain Loss function needs it given).
package drgrpo
