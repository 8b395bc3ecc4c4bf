// Package rloo implements REINFORCE Leave-One-Out (Ahmadian et al. 2024,
// "Back to Basics: Revisiting REINFORCE Style Optimization for Learning
// from Human Feedback in LLMs", arXiv 2402.14740; Kool et al. 2019 for the
// baseline), written only with algorithms/kit.
//
// A whole completion is one action: with k = g samples per prompt, each
// sample's advantage is its reward minus the mean reward of the other k−1,
// and the policy gradient is Â_i·∇log π(o_i) with log π(o_i) = Σ_t ℓ_{i,t}.
// As in the paper, the KL penalty against the starting policy is part of
// the reward, r'_i = r_i − β·Σ_t (ℓ_old − ℓ_ref), not a separate loss term.
// The ratio ρ_i = exp(Σ_t ℓ − Σ_t ℓ_old) is clipped at the sequence level
// (TRL's RLOOTrainer); with one update per batch (iterations = 1) ρ = 1
// and the loss is plain REINFORCE with the leave-one-out baseline.
//
// Defaults: g = 8, kl_beta = 0.05, clip_eps = 0.2, iterations = 1.
package rloo
