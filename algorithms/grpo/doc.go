// Package grpo implements the GRPO loss (Shao et al. 2024, DeepSeekMath,
// arXiv 2402.03300; TRL GRPOTrainer) as a plain function of per-token
// log-probs: group-relative advantages, an importance ratio against the
// behaviour policy with asymmetric clipping, and an optional k3 KL penalty
// against a frozen reference policy.
//
// Contract. Loss takes B = len(Rewards) sampled completions, grouped in
// consecutive blocks of Params.G (one block per prompt), and ragged per-token
// log-probs over completion tokens only (the mask is the slice length; prompt
// tokens are never included). It returns the loss to minimise, dL/dℓ for
// every policy log-prob, the advantages and named components for logging.
// Advantages, old log-probs and reference log-probs are constants (stop-
// gradient); only Input.LogP is differentiated.
//
// Choices made explicit (the paper and the frameworks differ):
//   - std estimator: "bessel" (n−1, torch.std, TRL/verl; default) or
//     "population" (n); advantage ε added to σ (default 1e-4, TRL); σ
//     floored at std_floor (default 0.05) so continuous rewards that differ
//     only by rounding do not get unit advantages.
//   - scale: "group" (divide by σ_g+ε; default), "batch" (σ over the whole
//     batch, TRL's scale_rewards="batch") or "none" (Dr. GRPO, Â = R − μ_g).
//   - a group whose rewards are all identical gets exactly zero advantages
//     (whatever ε is) and is counted in components["zero_std_groups"].
//   - clipping ε_low/ε_high (default 0.2/0.2); β_KL default 0 as TRL's
//     GRPOTrainer now has it (no reference model is scored); DeepSeekMath's
//     0.04 is the documented alternative (kl_beta = 0.04), with the k3
//     estimator D = exp(ℓ_ref−ℓ) − (ℓ_ref−ℓ) − 1.
//   - aggregation "seq_mean" (DeepSeekMath; default), "token_mean" (masked
//     sum / token count in the batch, DAPO/TRL) or "constant" (masked sum /
//     (B·MaxLen), Dr. GRPO; MaxLen is the generation limit and must be ≥ the
//     longest completion).
//   - OldLogP nil means μ = 1 (old = sg(current)): the ratio is exactly 1
//     but still carries the gradient, as in TRL.
//
// K1, K2 and K3 are the usual per-token KL estimators of KL(π‖π_ref) from
// samples of π (Schulman 2020); PPO uses them for its per-token reward.
package grpo
