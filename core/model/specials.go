package model

import "github.com/grao-lab/grao/core/tokenizer"

// Specials are the special ids of the model's tokenizer: Config.Tokens, or
// the byte tokenizer's when it is zero (every preset and byte checkpoint).
func (c Config) Specials() tokenizer.Specials {
	if c.Tokens == (tokenizer.Specials{}) {
		return tokenizer.Byte{}.Specials()
	}
	return c.Tokens
}
