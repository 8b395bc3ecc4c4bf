package tokenizer

import (
	"errors"
	"slices"
	"testing"
)

func TestGPT2Tokenizer(t *testing.T) {
	bpe := loadTiny(t)
	eot, ok := bpe.TokenID("<|endoftext|>")
	if !ok {
		t.Fatal("no <|endoftext|>")
	}
	tok, err := NewGPT2(bpe, Specials{BOS: eot, EOS: eot, PAD: eot})
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode(" hello world")
	for _, tc := range []struct {
		name string
		ids  []int
		want string
	}{
		{"plain", ids, " hello world"},
		{"stops at EOS", append(slices.Clone(ids), eot, ids[0]), " hello world"},
		{"unknown id", []int{ids[0], 1 << 20}, tok.Decode(ids[:1]) + "\uFFFD"},
	} {
		if got := tok.Decode(tc.ids); got != tc.want {
			t.Errorf("%s: Decode = %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := NewGPT2(bpe, Specials{BOS: -1}); err == nil {
		t.Error("a special id outside the vocabulary was accepted")
	}

	// Prompts start with the tokenizer's BOS and are cut on the left.
	p := PromptIDsWith(tok, " hello world")
	if p[0] != eot || !slices.Equal(p[1:], ids) {
		t.Errorf("PromptIDsWith = %v", p)
	}
	if _, err := FitPromptWith(tok, " hello world", len(p)+2, 3); !errors.As(err, new(*TooLongError)) {
		t.Errorf("FitPromptWith without room: err %v", err)
	}
	cut, did := TruncatePromptWith(tok, " hello world", len(p)+1, 3)
	if !did || len(cut) != len(p)-2 || cut[0] != eot || !slices.Equal(cut[1:], p[3:]) {
		t.Errorf("TruncatePromptWith = %v (cut %v), from %v", cut, did, p)
	}
}
