package tokenizer

import (
	"errors"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{"", "Human: 37*12=?\n\nAssistant: 444", "héllo ✓", "\x00\xff"} {
		ids := Byte{}.Encode(s)
		if got := (Byte{}).Decode(ids); got != s {
			t.Errorf("round trip %q: got %q", s, got)
		}
	}
}

func TestDecodeStopsAtEOS(t *testing.T) {
	ids := append([]int{BOS}, Byte{}.Encode("ab")...)
	ids = append(ids, EOS, 'c', PAD)
	if got := (Byte{}).Decode(ids); got != "ab" {
		t.Fatalf("got %q", got)
	}
}

func TestSpecCheck(t *testing.T) {
	if err := (Byte{}).Spec().Check(); err != nil {
		t.Fatal(err)
	}
	bad := Byte{}.Spec()
	bad.VocabSize = 300
	if bad.Check() == nil {
		t.Fatal("want error for wrong vocab size")
	}
}

// A prompt must leave maxNew tokens of room: no silent cut; the explicit
// left policy keeps BOS and the end.
func TestFitAndTruncatePrompt(t *testing.T) {
	p := "Human: abcdef\nAssistant:" // 24 bytes, 25 tokens with BOS
	ids, err := FitPrompt(p, 35, 10)
	if err != nil || len(ids) != 25 || ids[0] != BOS {
		t.Fatalf("fits exactly: %v %v", ids, err)
	}
	_, err = FitPrompt(p, 34, 10)
	var tl *TooLongError
	if !errors.As(err, &tl) || tl.Tokens != 25 || tl.Room != 24 || !strings.Contains(err.Error(), "no room for 10 new tokens") {
		t.Fatalf("one token over: %v", err)
	}
	cut, did := TruncatePrompt(p, 20, 10)
	if !did || len(cut) != 10 || cut[0] != BOS || (Byte{}).Decode(cut[1:]) != "Assistant:"[1:] {
		t.Errorf("left truncation: %q (%v)", (Byte{}).Decode(cut[1:]), did)
	}
	if same, did := TruncatePrompt(p, 64, 10); did || len(same) != 25 {
		t.Errorf("no cut needed: %d tokens, cut %v", len(same), did)
	}
}
