package contract

import (
	"testing"

	"github.com/grao-lab/grao/core"
)

// The modification check compares against a deep copy: a reward that
// writes into a nested Meta value must not change the copy too.
func TestDeepCopyIsIndependent(t *testing.T) {
	orig := []core.RewardItem{{Completion: "a", Meta: map[string]any{"m": map[string]any{"k": 1.0}, "list": []any{"x"}}}}
	c := cloneItems(orig)
	c[0].Meta["m"].(map[string]any)["k"] = 2.0
	c[0].Meta["list"].([]any)[0] = "y"
	if orig[0].Meta["m"].(map[string]any)["k"] != 1.0 || orig[0].Meta["list"].([]any)[0] != "x" {
		t.Fatalf("clone shares nested values with the original")
	}
}
