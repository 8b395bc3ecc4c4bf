package plugins

import (
	"testing"

	"github.com/grao-lab/grao/core"
)

// A byte-level policy emits arbitrary bytes; proto3 strings must be UTF-8,
// so the host sends invalid sequences as U+FFFD instead of failing the call.
func TestItemsToProtoRepairsUTF8(t *testing.T) {
	items := []core.RewardItem{{Prompt: "ok \xc3", Completion: "a\xffb", Reference: "é"}}
	out, err := itemsToProto(items, readSet{true, true, true, true})
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Completion; got != "a\uFFFDb" {
		t.Errorf("completion %q", got)
	}
	if got := out[0].Prompt; got != "ok \uFFFD" {
		t.Errorf("prompt %q", got)
	}
	if got := out[0].Reference; got != "é" {
		t.Errorf("valid text changed: %q", got)
	}
}
