// Package dpo implements the DPO family of preference losses (Rafailov et
// al. 2023, arXiv 2305.18290) in the form of TRL's DPOTrainer, as a plain
// function of per-token log-probs of chosen (y, the reference answer) and
// rejected (y⁻) completions under the policy and the frozen reference
// policy (a copy of the starting policy).
//
// Losses (β default 0.1; h_w = ℓ_θ(y) − ℓ_ref(y), h_l = ℓ_θ(y⁻) − ℓ_ref(y⁻),
// Δ = h_w − h_l, mean over the B pairs):
//   - "sigmoid": L = −(1−ε) log σ(βΔ) − ε log σ(−βΔ) with sequence
//     log-probs as sums over completion tokens; ε = label_smoothing
//     (0 = plain DPO, > 0 = conservative DPO, cDPO).
//   - "ipo" (Azar et al. 2023, TRL form): L = (Δ̄ − 1/(2β))² where Δ̄ uses
//     per-token averaged log-probs (sum / length, for policy and reference
//     alike). label_smoothing must be 0 for IPO (TRL ignores it; we refuse).
//
// Reference log-probs are constants; the gradient is w.r.t. the policy's
// chosen and rejected per-token log-probs. The mask is the slice length
// (completion tokens only). Components follow TRL's logging: "rewards_chosen"
// = mean βh_w, "rewards_rejected" = mean βh_l, "rewards_margin", and
// "rewards_accuracy" = share of pairs with h_w > h_l (for IPO these use the
// averaged log-probs, as TRL does).
package dpo
