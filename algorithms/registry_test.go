package algorithms_test

import (
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms"
	_ "github.com/grao-lab/grao/algorithms/all"
	"github.com/grao-lab/grao/algorithms/grao"
	"github.com/grao-lab/grao/core"
)

func TestStandardSetRegistered(t *testing.T) {
	want := []string{"dapo", "dpo", "drgrpo", "grao", "grao-no-exploration", "grao-no-imitation", "grao-no-regularizer", "grpo", "ppo", "rloo", "sft"}
	if got := strings.Join(algorithms.Names(), ","); got != strings.Join(want, ",") {
		t.Fatalf("registered %s, want %s", got, strings.Join(want, ","))
	}
	for _, name := range want {
		a, err := algorithms.New(name, nil)
		if err != nil {
			t.Fatalf("%s with defaults: %v", name, err)
		}
		if a.Name() != name || a.Needs().Epochs < 1 {
			t.Errorf("%s: name %q, needs %+v", name, a.Name(), a.Needs())
		}
	}
}

func TestNewRejectsBadParameters(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"nope", nil, `unknown algorithm "nope"`},
		{"grao", map[string]any{"betta": 0.5}, `unknown field "betta"`},
		{"grao", map[string]any{"beta": "high"}, `key "beta"`},
		{"grpo", map[string]any{"std": "robust"}, "std"},
		{"dpo", map[string]any{"beta": -1.0}, "beta"},
		{"ppo", map[string]any{"epochs": 0}, "epochs"},
	} {
		_, err := algorithms.New(tc.name, tc.params)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v, want it to mention %q", tc.name, tc.params, err, tc.want)
		}
	}
}

func TestAblationsSwitchOneTerm(t *testing.T) {
	for name, want := range map[string][3]bool{
		"grao":                {false, false, false},
		"grao-no-imitation":   {true, false, false},
		"grao-no-exploration": {false, true, false},
		"grao-no-regularizer": {false, false, true},
	} {
		a, err := algorithms.New(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := a.Config().(grao.Params)
		if got := [3]bool{p.NoImitation, p.NoExploration, p.NoRegulariser}; got != want {
			t.Errorf("%s: switches (imitation, exploration, regulariser) off = %v, want %v", name, got, want)
		}
	}
}

func TestRegisterPanicsOnDuplicate(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("duplicate Register did not panic")
		}
	}()
	algorithms.Register("sft", func(map[string]any) (core.Algorithm, error) { return nil, nil })
}
