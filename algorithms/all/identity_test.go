package all_test

import (
	"testing"

	"github.com/grao-lab/grao/algorithms"
)

// Every built-in carries its identity as data: reports and plots name no
// algorithm, so a built-in without one would show as its raw name.
func TestEveryBuiltinHasAnIdentity(t *testing.T) {
	orders := map[int]string{}
	for _, name := range algorithms.Names() {
		id, ok := algorithms.IdentityOf(name)
		if !ok || id.Display == "" || id.Colour == "" || id.Glyph == "" || id.Order == 0 {
			t.Errorf("%s: identity %+v, want display name, colour, glyph and order", name, id)
			continue
		}
		if prev, dup := orders[id.Order]; dup {
			t.Errorf("%s and %s share order %d", name, prev, id.Order)
		}
		orders[id.Order] = name
		if id.Base != "" && !algorithms.Known(id.Base) {
			t.Errorf("%s ablates %q, which is not registered", name, id.Base)
		}
	}
	if got := algorithms.DefaultTarget(); got != "grao" {
		t.Errorf("default target %q, want grao", got)
	}
	if got := algorithms.ImitationAlgorithm(); got != "sft" {
		t.Errorf("imitation algorithm %q, want sft", got)
	}
}
