// Package kit holds the pieces policy-gradient losses are made of, so that
// an algorithm (built in or out of tree) states its formula instead of
// re-deriving it: advantage estimators (group-normalised, leave-one-out,
// mean-centred, GAE, whitening), the clipped surrogate with asymmetric
// clipping, token aggregation modes and the KL estimators k1, k2 and k3,
// each with its derivative with respect to the policy's log-prob.
//
// Everything works on float64 per-token slices indexed [sequence][token],
// the shape core.Batch hands an algorithm; nothing here allocates more
// than its result. PPO, GRPO, GRAO, RLOO, Dr. GRPO and DAPO are written on
// it; the formulas and their sources are in each function's comment.
package kit
