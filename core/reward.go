package core

import "context"

// RewardItem is one completion to score, with everything a reward may read.
type RewardItem struct {
	// Prompt is the conversation so far, in the HH convention
	// ("\n\nHuman: …\n\nAssistant:").
	Prompt string
	// Completion is the policy's answer (the text after the prompt).
	Completion string
	// Reference is the dataset's reference answer y ("chosen"); empty when
	// the task has none.
	Reference string
	// Meta carries task-specific facts a scorer needs (e.g. the exact
	// answer of an arithmetic question). Rewards must not modify it.
	Meta map[string]any
}

// Score is the result for one item.
type Score struct {
	Value float64
	// Applicable is false when the reward has no opinion on this item
	// ("not applicable"); Value is then meaningless and should be 0.
	Applicable bool
	// Info is optional free text for logs (why this score).
	Info string
}

// RewardInfo describes a reward for provenance (written to manifests).
type RewardInfo struct {
	Name    string
	Version string
	// Reads lists the RewardItem fields the reward uses ("prompt",
	// "completion", "reference", "meta").
	Reads []string
	// Deterministic promises that the same items always get the same scores.
	Deterministic bool
	// Min and Max bound Value for applicable items (Min == Max == 0: unbounded).
	Min, Max float64
}

// Reward scores a batch of items. Implementations must honour ctx
// cancellation, must not modify the items, and must return exactly one Score
// per item (or an error for the whole batch).
type Reward interface {
	Describe() RewardInfo
	Score(ctx context.Context, items []RewardItem) ([]Score, error)
}
