// Package tokenizer holds grao's byte-level tokenizer and GPT-2's
// byte-level BPE (BPE, bpe.go). The byte tokenizer's ids 0–255 are the
// bytes of the UTF-8 text, followed by three special tokens BOS, EOS and
// PAD. Any text round-trips exactly; no merges, no unknown token. Checkpoints
// carry it as a Hugging Face tokenizers file (HFTokenizerJSON, with
// HFTokenizerConfigJSON for transformers' AutoTokenizer) and, in the
// safetensors metadata, as grao's own description (Spec).
package tokenizer

import (
	"fmt"
)

// Special token ids. The vocabulary size is 259.
const (
	BOS       = 256
	EOS       = 257
	PAD       = 258
	VocabSize = 259
)

// Spec is grao's own tokenizer description, stored in a checkpoint's
// safetensors metadata (and, in checkpoints written before tokenizer.json
// became a Hugging Face tokenizers file, as tokenizer.json).
type Spec struct {
	Type      string `json:"type"` // "byte"
	VocabSize int    `json:"vocab_size"`
	BOS       int    `json:"bos_token_id"`
	EOS       int    `json:"eos_token_id"`
	PAD       int    `json:"pad_token_id"`
}

// Byte is the byte-level tokenizer.
type Byte struct{}

// Spec describes the tokenizer.
func (Byte) Spec() Spec {
	return Spec{Type: "byte", VocabSize: VocabSize, BOS: BOS, EOS: EOS, PAD: PAD}
}

// Encode returns the bytes of s as ids (no special tokens added).
func (Byte) Encode(s string) []int {
	ids := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		ids[i] = int(s[i])
	}
	return ids
}

// Decode turns ids back into text, stopping at the first EOS and skipping
// BOS and PAD.
func (Byte) Decode(ids []int) string {
	b := make([]byte, 0, len(ids))
	for _, id := range ids {
		switch {
		case id == EOS:
			return string(b)
		case id >= 0 && id < 256:
			b = append(b, byte(id))
		}
	}
	return string(b)
}

// Check validates a spec loaded from a checkpoint.
func (s Spec) Check() error {
	want := Byte{}.Spec()
	if s != want {
		return fmt.Errorf("tokenizer: unsupported spec %+v (want %+v)", s, want)
	}
	return nil
}

// PromptIDs is BOS followed by the prompt's bytes, whatever its length.
func PromptIDs(prompt string) []int { return PromptIDsWith(Byte{}, prompt) }

// FitPrompt is PromptIDs for a prompt that must leave room for maxNew
// generated tokens in a context of context tokens: a longer prompt is an
// error (never cut silently; see TruncatePrompt for an explicit policy).
func FitPrompt(prompt string, context, maxNew int) ([]int, error) {
	return FitPromptWith(Byte{}, prompt, context, maxNew)
}

// TruncatePrompt is the explicit "left" truncation policy: a prompt that
// does not leave maxNew tokens of room keeps BOS and its last tokens
// (which hold "Assistant:"). It reports whether it cut anything.
func TruncatePrompt(prompt string, context, maxNew int) ([]int, bool) {
	return TruncatePromptWith(Byte{}, prompt, context, maxNew)
}

// TooLongError is a prompt that does not fit its context.
type TooLongError struct {
	Tokens, Room, Context, MaxNew int
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("prompt of %d tokens (with BOS) leaves no room for %d new tokens in a context of %d (at most %d prompt tokens)",
		e.Tokens, e.MaxNew, e.Context, e.Room)
}
