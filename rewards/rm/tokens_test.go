package rm

import (
	"reflect"
	"testing"

	"github.com/grao-lab/grao/core/tokenizer"
)

func TestTokens(t *testing.T) {
	const B, E = tokenizer.BOS, tokenizer.EOS
	tests := []struct {
		name           string
		prompt, answer string
		context        int
		want           []int
		cut            bool
	}{
		{"fits", "ab", "c", 8, []int{B, 'a', 'b', 'c', E}, false},
		{"exactly full", "ab", "c", 5, []int{B, 'a', 'b', 'c', E}, false},
		{"prompt cut", "abcd", "xy", 5, []int{B, 'd', 'x', 'y', E}, true},
		{"answer cut too", "abcd", "wxyz", 3, []int{B, 'z', E}, true},
		{"empty", "", "", 2, []int{B, E}, false},
		{"bytes, not runes", "é", "", 8, []int{B, 0xc3, 0xa9, E}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := Tokens(tt.prompt, tt.answer, tt.context)
			if !reflect.DeepEqual(got, tt.want) || cut != tt.cut {
				t.Errorf("Tokens(%q, %q, %d) = %v, %t; want %v, %t", tt.prompt, tt.answer, tt.context, got, cut, tt.want, tt.cut)
			}
		})
	}
}

// FuzzTokens checks the invariants the reward relies on: BOS first, EOS
// last, at most context tokens, and the answer's tail kept.
func FuzzTokens(f *testing.F) {
	f.Add("Human: hi\nAssistant:", " hello", 8)
	f.Add("", "", 2)
	f.Add("\xff\x00", "long answer text", 3)
	f.Fuzz(func(t *testing.T, prompt, answer string, context int) {
		if context < 2 || context > 1<<12 {
			t.Skip()
		}
		ids, cut := Tokens(prompt, answer, context)
		full := len(prompt) + len(answer) + 2
		if cut != (full > context) || len(ids) != min(full, context) {
			t.Fatalf("len %d cut %t for %d tokens in context %d", len(ids), cut, full, context)
		}
		if ids[0] != tokenizer.BOS || ids[len(ids)-1] != tokenizer.EOS {
			t.Fatalf("ids do not run BOS … EOS: %v", ids)
		}
		tail := tokenizer.Byte{}.Encode(prompt + answer)
		keep := len(ids) - 2
		if !reflect.DeepEqual(ids[1:len(ids)-1], tail[len(tail)-keep:]) {
			t.Fatalf("middle of %v is not the end of the text", ids)
		}
	})
}
