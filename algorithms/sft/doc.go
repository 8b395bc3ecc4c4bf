// Package sft implements supervised fine-tuning on reference answers as a
// plain loss over per-token log-probs: the negative log-likelihood of the
// reference answer y given the prompt q.
//
// Contract. Loss takes ragged per-token log-probs ℓ_t = log π_θ(y_t | q, y_<t)
// of the reference-answer tokens only (prompt tokens are masked by not being
// there; the mask is the slice length) and returns the loss, dL/dℓ and
// components for logging.
//
// Aggregation: "seq_mean" (default) is
// L = −(1/B) Σ_b (1/|y_b|) Σ_t ℓ_{b,t}, every answer weighs the same;
// "token_mean" is L = −Σ_{b,t} ℓ_{b,t} / Σ_b |y_b|, TRL SFTTrainer's default
// (long answers weigh more). An empty answer is an error (its length
// normalisation is undefined).
package sft
