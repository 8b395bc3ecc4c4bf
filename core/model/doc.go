// Package model is grao's policy: a GPT-2 style decoder-only transformer
// (token + learned position embeddings, pre-LN blocks with causal multi-head
// attention and a 4× GELU ("gelu_new") MLP, final layer norm, LM head tied to
// the token embedding) with an optional scalar value head for PPO.
//
// Weights live in Params, float32, in the Hugging Face GPT-2 layout (Conv1D
// weights are [in, out], y = x·W + b) so checkpoints load in
// transformers.GPT2LMHeadModel unchanged. The same Params back the gorgonia
// training graph (graph.go) and the hand-written KV-cache sampler
// (sampler.go); nothing is copied between them. CPU (engine.go) is the
// core.Engine over them that the trainer, pre-training and evaluation use.
package model
