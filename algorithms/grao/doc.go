// Package grao implements the GRAO loss (Group Relative Alignment
// Optimization, arXiv 2508.07750, Eq. 1–4) as a plain function of per-token
// log-probs, implementing Eq. 3 literally so that its three terms can be
// logged separately (paper Fig. 4–5):
//
//	J = (1/G) Σ_i [ Â_{o_i}·J_exp(o_i) + β·Â_y·J_imit(y) + λ·Â_{o_i}·(J_exp(o_i) − J_imit(y)) ]
//
// averaged over prompts, loss L = −J. J_exp(o) = (1/|o|) Σ_t log π_θ(o_t|q,o_<t)
// and J_imit(y) likewise over the reference answer y: sequence
// log-likelihoods are length-normalised per sequence. There is no importance
// ratio, no clipping and no KL term; "reference-aware" means the reference
// answer y, not a reference model.
//
// Contract. Input has one Prompt per prompt: the per-token log-probs of its
// G sampled completions and of its reference answer (completion tokens only;
// the mask is the slice length), and the G rewards R(o_i, y) (normally in
// {−1, 0, +1}). Loss returns L, dL/dℓ for every sample token and every
// reference token, the advantages and the components. Advantages are
// constants (stop-gradient).
//
// Choices the paper leaves open, made explicit here:
//   - group "samples+reference" (default): μ, σ over {R_1..R_G, R(y,y)};
//     "samples": μ, σ over the G samples and Â_y = (R(y,y) − μ)/(σ+ε).
//     R(y,y) = 0 (a tie) for {−1, 0, +1} judges; Params.RefReward sets it
//     for judges with another tie value (and makes both modes invariant to
//     shifting every reward, R(y,y) included, by a constant).
//   - σ is the population std (divide by n) and ε (default 1e-6) is added to
//     σ. A group whose normalisation set is all equal (σ = 0) gets exactly
//     zero advantages — Â_y included, also in "samples" mode where −μ/ε would
//     otherwise be huge — and is counted in components["zero_variance_groups"].
//   - components are losses including their coefficients, so
//     loss = exploration + imitation + regulariser:
//     exploration = −(1/G)ΣÂ_o J_exp, imitation = −β Â_y J_imit,
//     regulariser = −(λ/G) Σ Â_o (J_exp − J_imit), each averaged over prompts.
//   - ablations (paper Table 3): NoImitation, NoExploration, NoRegulariser
//     drop the corresponding term (its component is then 0).
//   - defaults β = 0.5, λ = 0.6, G = 8 (G is read by the trainer; Loss takes
//     whatever number of samples each prompt has, ≥ 1).
//
// Because normalised advantages sum to zero over their group, the λ term only
// rescales the others: samples-only J = (1+λ)(1/G)ΣÂ_o J_exp + β Â_y J_imit;
// with y in the group J = (1+λ)(1/G)ΣÂ_o J_exp + (β + λ/G) Â_y J_imit. The
// tests check both identities.
package grao
