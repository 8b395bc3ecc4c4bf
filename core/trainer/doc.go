// Package trainer runs one alignment trial's training loop: it gives an
// algorithm (core.Algorithm) exactly the batch it declares it needs —
// rollouts through the KV-cache sampler, rewards, reference answers,
// preference pairs, log-probs under a frozen copy of the starting policy,
// behaviour log-probs, value-head outputs — and applies μ AdamW updates
// per rollout batch through the gorgonia graph.
//
// Every random choice (prompts, sampling) is drawn from a stream seeded by
// (seed, step), so a step's inputs do not depend on earlier steps' RNG use.
package trainer
