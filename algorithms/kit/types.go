package kit

// Input is one rollout batch of sampled completions, [sequence][token]
// over completion tokens only; consecutive blocks of G sequences form a
// group. The JSON names are the test vectors' keys.
type Input struct {
	// LogP are the current policy's log-probs (differentiated).
	LogP [][]float64 `json:"logp"`
	// OldLogP are the behaviour policy's; nil means μ = 1 (old =
	// stop-gradient(LogP)).
	OldLogP [][]float64 `json:"old_logp"`
	// RefLogP are the frozen starting policy's; nil when not needed.
	RefLogP [][]float64 `json:"ref_logp"`
	// Rewards has one scalar per sequence.
	Rewards []float64 `json:"rewards"`
}

// Grad is dL/dℓ, shaped like Input.LogP.
type Grad struct {
	LogP [][]float64 `json:"logp"`
}

// Result is a loss over sampled completions: the loss to minimise, its
// gradient, the advantages and named components for logging.
type Result struct {
	Loss       float64            `json:"loss"`
	Grad       Grad               `json:"grad"`
	Advantages []float64          `json:"advantages"`
	Components map[string]float64 `json:"components"`
}
