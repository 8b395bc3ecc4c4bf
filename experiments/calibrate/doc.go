// Package calibrate measures how a base policy fares on a task before any
// alignment: for each kind of request, pass@1 (the share of sampled
// completions the judge rates at least as good as the reference), the
// share of prompts whose G samples would all lose, all win or all tie
// (zero-variance groups, which give GRPO and PPO no signal), and the
// expected number of informative groups per training step (Measure). It
// also places each kind's difficulty level so that its base pass@1 lands
// in a target band (Place).
//
// Group shares are estimated without bias from N ≥ G samples per prompt:
// the chance that G samples drawn from the N without replacement all lose
// is C(lose, G)/C(N, G). Everything is deterministic for a seed.
package calibrate
