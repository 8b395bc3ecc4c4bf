// Package ppo implements the PPO loss for language models in the
// TRL/OpenRLHF/trlx form (Ouyang et al. 2022; TRL PPOTrainer) as a plain
// function of per-token log-probs and values.
//
// Per completion token t of sequence i (completion tokens only; the mask is
// the slice length):
//
//	r_t  = −β·k̂_t  (+ score_i at the last token),  k̂ = k1 = ℓ_old − ℓ_ref (default) or k3
//	δ_t  = r_t + γ·V^old_{t+1} − V^old_t  (V^old past the last token = 0, terminal)
//	Â_t  = δ_t + γλ·Â_{t+1},  R̂_t = Â_t + V^old_t
//	Â    ← (Â − mean)/sqrt(var + 1e-8) over all valid tokens of the batch
//	       (TRL masked_whiten: Bessel-corrected variance, mean shifted)
//	L_π  = mean_t max(−Â ρ, −Â clip(ρ, 1−ε, 1+ε)),  ρ = exp(ℓ − ℓ_old)
//	L_V  = ½ mean_t max((V − R̂)², (clip(V, V^old−ε_V, V^old+ε_V) − R̂)²)
//	L    = L_π + c_V·L_V
//
// "mean_t" is the token mean over the whole batch (TRL's masked_mean).
// Defaults: β = 0.05, γ = 1, λ_GAE = 0.95, ε = ε_V = 0.2, c_V = 0.1, 4 PPO
// epochs per rollout batch (read by the trainer).
//
// Constants (stop-gradient): the KL reward, Â and R̂ are computed once from
// OldLogP, RefLogP, OldValues and Scores, and the whitening statistics are
// constants too. Loss differentiates only w.r.t. LogP (through ρ) and
// Values (the value function's current predictions). OldLogP nil means
// "equal to LogP" and OldValues nil "equal to Values" (the first epoch on a
// fresh rollout), again as constants.
//
// The value function is whatever produces one value per completion token
// (the trainer's choice of a scalar head on the policy trunk or a separate
// model does not change this loss).
package ppo
