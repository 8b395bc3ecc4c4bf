package core

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Engine runs a policy model: it turns token sequences into per-token
// log-probs (and values), back-propagates gradients of those per-token
// quantities into its weights, applies optimiser updates, samples
// completions, and hands its weights and optimiser state to checkpoints.
// Everything else (the trainer, pre-training, evaluation) meets the model
// only through this interface and exchanges only token ids and per-token
// vectors with it, so an engine may keep weights, activations and optimiser
// state wherever it computes (host memory, a GPU).
//
// A training step is LogProbs → (the algorithm's loss, on the host) →
// Backward → Step. An engine is not safe for concurrent use.
type Engine interface {
	// LogProbs runs the forward pass over seqs, keeping what Backward
	// needs: Forward.LogP[i][j] = log π(Tokens[Start+j] | Tokens[:Start+j])
	// of seqs[i] at opts.Temperature.
	LogProbs(seqs []Sequence, opts ForwardOptions) (*Forward, error)
	// Backward back-propagates dLoss/dLogP and dLoss/dValues, shaped like
	// the last LogProbs result (dvalues nil without a value head), adding
	// the gradients of the engine's own losses (Forward.Losses), and
	// accumulates the weights' gradients for Step. It must follow
	// LogProbs. Backward(nil, nil) discards the pending forward pass (a
	// loss that failed), as does a second LogProbs.
	Backward(dlogp, dvalues [][]float64) error
	// Step applies one optimiser update with the accumulated gradients
	// and clears them.
	Step() (StepStats, error)
	// Score is LogProbs without gradients (a frozen reference policy,
	// evaluation); it does not disturb a pending LogProbs/Backward.
	Score(seqs []Sequence, opts ForwardOptions) (*Forward, error)
	// Sample completes each prompt (token ids starting with BOS). Row r
	// draws from its own stream (cfg.Seed, r): the result of a row does
	// not depend on the other rows. It stops between blocks of rows once
	// ctx is done, returning ctx's error.
	Sample(ctx context.Context, prompts [][]int, cfg SampleConfig) ([]Completion, error)
	// Snapshot is a frozen copy of the current weights that can Score and
	// Sample but not train (the reference policy of KL penalties).
	Snapshot() (Engine, error)
	// Weights returns a host copy of the weights, in the checkpoint
	// layout (GPT-2 names), in the engine's fixed order.
	Weights() ([]Tensor, error)
	// State is the weights and the optimiser's state (its moments, under
	// names of their own) and metadata such as the update count: what a
	// mid-trial checkpoint must hold for a resumed run to continue bit
	// for bit. SetState restores it into an engine built the same way.
	State() ([]Tensor, map[string]string, error)
	SetState(ts []Tensor, meta map[string]string) error
	// Info describes the model.
	Info() ModelInfo
}

// ModelInfo is what users of an Engine need to know about its model.
type ModelInfo struct {
	// VocabSize is the number of token ids; Context the longest sequence.
	VocabSize, Context int
	// ValueHead is true when LogProbs returns Values.
	ValueHead bool
	// Params counts the parameters.
	Params int
}

// Sequence is one row: Tokens (starting with BOS) of which those from
// index Start on are scored (Start ≥ 1; the prompt is Tokens[:Start]).
type Sequence struct {
	Tokens []int
	Start  int
}

// ForwardOptions select what a forward pass computes.
type ForwardOptions struct {
	// Temperature scores under softmax(logits/Temperature), the
	// distribution a sampler at that temperature draws from (before
	// top-k/top-p truncation); 0 means 1.
	Temperature float64
	// Entropy asks for the per-token entropy of that distribution.
	Entropy bool
}

// Temp is the temperature the options score at.
func (o ForwardOptions) Temp() (float64, error) {
	t := o.Temperature
	if t == 0 {
		return 1, nil
	}
	if !(t > 0) || math.IsInf(t, 1) {
		return 0, fmt.Errorf("log-prob temperature must be positive and finite, got %g", t)
	}
	return t, nil
}

// Forward holds per-token quantities over each sequence's scored tokens.
type Forward struct {
	LogP [][]float64
	// Values are the value head's outputs (nil without a head).
	Values [][]float64
	// Entropy is the distribution's entropy in nats at each scored
	// position (nil unless asked for); it carries no gradient.
	Entropy [][]float64
	// Losses are the engine's own loss terms (such as a mixture of
	// experts' load-balancing loss), already weighted; Backward adds
	// their gradients. Metrics are diagnostics (expert utilisation).
	// Both are nil for a plain dense model; their keys are distinct.
	Losses, Metrics map[string]float64
}

// StepStats describes one optimiser update.
type StepStats struct {
	LR       float64
	GradNorm float64 // before clipping
	Clipped  bool
}

// Tensor is one named float32 array, row-major: how engines hand weights
// and optimiser state to checkpoints.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Size is the number of elements its shape holds.
func (t *Tensor) Size() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// SampleConfig controls generation.
type SampleConfig struct {
	// Temperature scales logits; 0 means greedy decoding.
	Temperature float64 `toml:"temperature" json:"temperature"`
	// TopK keeps the K most likely tokens (0: all).
	TopK int `toml:"top_k" json:"top_k"`
	// TopP keeps the smallest set of tokens whose probability reaches P
	// (0 or 1: all).
	TopP float64 `toml:"top_p" json:"top_p"`
	// MaxNew bounds the completion length in tokens (EOS included).
	MaxNew int `toml:"max_new_tokens" json:"max_new_tokens"`
	// Seed makes sampling deterministic. Row r of a call draws from its own
	// stream (Seed, r), so a row's result does not depend on the others.
	Seed uint64 `toml:"seed" json:"seed"`
	// TemperedLogProbs records Completion.LogProbs under the tempered
	// distribution, log softmax(logits/Temperature), as TRL and verl do,
	// so they match LogProbs and Score at the same temperature. They stay
	// log-probs over the whole vocabulary, not renormalised over the
	// top-k/top-p set the token was drawn from. At Temperature 0 (greedy)
	// there is no tempered distribution and they stay untempered. The
	// tokens drawn do not depend on this field.
	TemperedLogProbs bool `toml:"tempered_logprobs,omitempty" json:"tempered_logprobs,omitempty"`
	// Block is how many rows an engine decodes together (0: its default).
	// Rounding in batched matrix products depends on it, so callers that
	// promise bit-identical results fix it; it is not a sweep setting.
	Block int `toml:"-" json:"-"`
}

// Validate names the first bad field.
func (c SampleConfig) Validate() error {
	switch {
	case c.Temperature < 0 || math.IsNaN(c.Temperature):
		return fmt.Errorf("temperature must be ≥ 0, got %g", c.Temperature)
	case c.TopK < 0:
		return fmt.Errorf("top_k must be ≥ 0, got %d", c.TopK)
	case c.TopP < 0 || c.TopP > 1 || math.IsNaN(c.TopP):
		return fmt.Errorf("top_p must be in [0,1], got %g", c.TopP)
	case c.MaxNew <= 0:
		return fmt.Errorf("max_new_tokens must be positive, got %d", c.MaxNew)
	case c.Block < 0:
		return fmt.Errorf("block must be ≥ 0, got %d", c.Block)
	}
	return nil
}

// Completion is one generated continuation.
type Completion struct {
	// Tokens are the generated ids, ending with EOS when Stopped.
	Tokens []int
	// LogProbs[i] = log π(Tokens[i] | prompt, Tokens[:i]) under the model's
	// untruncated distribution, untempered unless SampleConfig's
	// TemperedLogProbs: the quantity LogProbs computes, so it can serve as
	// behaviour log-probs.
	LogProbs []float32
	// Stopped is true when generation ended at EOS (false: length limit).
	Stopped bool
}

// ErrFrozen is returned by Backward and Step of an engine that cannot
// train (a Snapshot).
var ErrFrozen = errors.New("engine: frozen snapshot cannot train")
