// Package rm is grao's learned reward model: a small GPT-2 style transformer
// (core/model) with a scalar value head, trained with the Bradley–Terry loss
// on (prompt, chosen, rejected) pairs and used as a core.Reward.
//
// Contract:
//   - The reward of (prompt, answer) is the value head at the last position
//     of Tokens(prompt, answer) = BOS + prompt bytes + answer bytes + EOS,
//     i.e. at the EOS token, so the model has read the whole answer. A
//     sequence longer than the context keeps BOS and its last tokens (the
//     answer matters more than the start of the prompt).
//   - Training minimises BTLoss: the mean over pairs of −log σ(r_c − r_r),
//     plus an optional L2 penalty λ·mean(r²) over all scored rewards, which
//     pins the otherwise shift-invariant reward scale near 0.
//   - Train is deterministic: same data, config and seed ⇒ bit-identical
//     weights (and so a byte-identical checkpoint).
//   - Reward scores with a hand-written float32 forward pass (no gorgonia,
//     no gradients), one item at a time, so a batch scores exactly like its
//     items alone; it is unbounded (RewardInfo Min = Max = 0), reads only
//     the prompt and the completion, and names the weights it uses by a
//     fingerprint ("rm:<hash>") for provenance.
package rm
