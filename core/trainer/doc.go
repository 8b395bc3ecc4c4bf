// Package trainer runs one alignment trial's training loop: it gives an
// algorithm (core.Algorithm) exactly the batch it declares it needs —
// rollouts through the KV-cache sampler, rewards, reference answers,
// preference pairs, log-probs under a frozen copy of the starting policy,
// behaviour log-probs, value-head outputs — and applies μ AdamW updates
// per rollout batch. It meets the policy only through core.Engine: LogProbs,
// the algorithm's loss on the host, Backward, Step.
//
// On the CPU engine a step runs on the graph for its longest sequence
// rounded up to a quarter of the context: rollouts usually end well before
// the context, and a shorter graph costs less, attention quadratically
// less. Measured on the small model, hh-helpful, g = 4: backward time per
// step −23% (GRPO) and −25% (PPO), none for GRAO, whose long reference
// answers need the full context; peak memory +30%.
//
// Every random choice (prompts, sampling) is drawn from a stream seeded by
// (seed, step), so a step's inputs do not depend on earlier steps' RNG use.
package trainer
