// Package dapo implements DAPO, Decoupled Clip and Dynamic sAmpling Policy
// Optimization (Yu et al. 2025, "DAPO: An Open-Source LLM Reinforcement
// Learning System at Scale", arXiv 2503.14476), written only with
// algorithms/kit and core.Needs.
//
// DAPO changes four things in GRPO:
//   - clip-higher: the ratio is clipped to [1−ε_low, 1+ε_high] with
//     ε_high > ε_low (0.2/0.28), so low-probability tokens can rise and
//     entropy does not collapse;
//   - dynamic sampling: groups whose rewards are all equal (all right or
//     all wrong) carry no gradient, so they are dropped and replaced by
//     groups of fresh prompts (core.Needs.Keep, at most max_rounds rollout
//     rounds per step; when they run out the batch is topped up with
//     dropped groups, whose advantages are 0 — verl stops with an error
//     instead);
//   - token-level loss: per-token losses are averaged over all tokens of
//     the batch, so long answers count by their length;
//   - overlong reward shaping: with L_max the generation limit and
//     L_cache = overlong_fraction·L_max, a completion longer than
//     L_max − L_cache gets ((L_max − L_cache) − |o|)/L_cache added to its
//     reward (−1 beyond L_max).
//
// There is no KL term. Advantages are GRPO's: (r − μ_g)/(max(σ_g, floor) +
// ε) with the Bessel std.
//
// Defaults: g = 8, clip_low = 0.2, clip_high = 0.28, adv_eps = 1e-6,
// std_floor = 0.05, overlong_fraction = 0.2 (the paper's 4096 of 20480),
// dynamic_sampling = true, max_rounds = 3, iterations = 1, max_len = 0:
// the trainer's max_new_tokens (core.LengthLimited).
package dapo
