package rm

import "github.com/grao-lab/grao/core/tokenizer"

// Tokens is the sequence whose last position carries the reward of answer
// to prompt: BOS + prompt + answer + EOS (byte tokens). When that exceeds
// context tokens it keeps BOS and the last context−1 tokens, cutting the
// start of the prompt: the answer and the end of the prompt (the request
// itself, "…Assistant:") are what the reward should read. The second
// result reports whether anything was cut. context must be ≥ 2.
func Tokens(prompt, answer string, context int) ([]int, bool) {
	tok := tokenizer.Byte{}
	n := 1 + len(prompt) + len(answer) + 1
	ids := make([]int, 0, n)
	ids = append(ids, tokenizer.BOS)
	ids = append(ids, tok.Encode(prompt)...)
	ids = append(ids, tok.Encode(answer)...)
	ids = append(ids, tokenizer.EOS)
	if len(ids) <= context {
		return ids, false
	}
	cut := len(ids) - (context - 1)
	out := append(ids[:1:1], ids[cut:]...)
	return out, true
}
