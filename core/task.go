package core

// Example is one dataset record in the HH-RLHF shape: a prompt, a reference
// answer ("chosen", y) and a worse answer ("rejected", y⁻).
type Example struct {
	Prompt   string         `json:"prompt"`
	Chosen   string         `json:"chosen"`
	Rejected string         `json:"rejected"`
	Meta     map[string]any `json:"meta,omitempty"`
}

// Task is a benchmark: deterministic train and held-out eval splits, a
// pre-training corpus for the base model, and the judge that compares a
// completion with the reference (+1 better, 0 tie, −1 worse).
type Task interface {
	Name() string
	Train() []Example
	Eval() []Example
	// Corpus is text for pre-training the base model (prompts with responses
	// of mixed quality), one document per element.
	Corpus() []string
	// Judge returns R(o, y) ∈ {−1, 0, +1} per item.
	Judge() Reward
	// Scorer returns the underlying scalar score in [0, 1] per item.
	Scorer() Reward
}
