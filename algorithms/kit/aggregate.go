package kit

import "fmt"

// Aggregation says how per-token losses of a batch of B sequences become
// one number: each token of sequence i is weighted by Weights(…)[i].
type Aggregation string

const (
	// SeqMean is the mean over sequences of each sequence's token mean
	// (GRPO as in DeepSeekMath and TRL before 0.15): 1/(B·|o_i|).
	SeqMean Aggregation = "seq_mean"
	// TokenMean is the mean over all tokens of the batch (DAPO's
	// token-level loss): 1/Σ|o_j|, so long answers weigh by their length.
	TokenMean Aggregation = "token_mean"
	// Constant divides by B·L for a fixed L (Dr. GRPO's removal of the
	// length normalisation): 1/(B·L).
	Constant Aggregation = "constant"
)

// Valid reports whether a is a known aggregation.
func (a Aggregation) Valid() bool { return a == SeqMean || a == TokenMean || a == Constant }

// Weights returns the per-token weight of each sequence, given the
// sequences' lengths; maxLen is L for Constant (ignored otherwise) and
// must be at least the longest sequence.
func (a Aggregation) Weights(lens []int, maxLen int) ([]float64, error) {
	B := len(lens)
	if B == 0 {
		return nil, fmt.Errorf("no sequences to aggregate")
	}
	tokens := 0
	for i, n := range lens {
		if n < 1 {
			return nil, fmt.Errorf("sequence %d has no tokens", i)
		}
		if a == Constant && n > maxLen {
			return nil, fmt.Errorf("sequence %d has %d tokens, more than max_len = %d", i, n, maxLen)
		}
		tokens += n
	}
	w := make([]float64, B)
	for i, n := range lens {
		switch a {
		case SeqMean:
			w[i] = 1 / float64(B*n)
		case TokenMean:
			w[i] = 1 / float64(tokens)
		case Constant:
			w[i] = 1 / float64(B*maxLen)
		default:
			return nil, fmt.Errorf("aggregation = %q, want %q, %q or %q", a, SeqMean, TokenMean, Constant)
		}
	}
	return w, nil
}

// Lens returns the lengths of seqs.
func Lens(seqs [][]float64) []int {
	out := make([]int, len(seqs))
	for i, s := range seqs {
		out[i] = len(s)
	}
	return out
}
