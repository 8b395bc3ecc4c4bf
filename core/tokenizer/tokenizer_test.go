package tokenizer

import "testing"

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
