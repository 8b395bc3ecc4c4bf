package algotest_test

import (
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/core"
)

// toy is a minimal correct algorithm: the mean over samples of
// −Â_i·(token mean of ℓ) with Â_i = r_i − mean(r), plus an optional fault.
type toy struct {
	fault string
}

func (a *toy) Name() string      { return "toy" }
func (a *toy) Config() any       { return nil }
func (a *toy) Needs() core.Needs { return core.Needs{Samples: 3, Epochs: 1} }

func (a *toy) Loss(b, grad *core.Batch) (core.LossValue, error) {
	var loss float64
	n := float64(len(b.Groups) * 3)
	for gi, g := range b.Groups {
		var mean float64
		for _, r := range g.Rewards {
			mean += r / 3
		}
		for i, s := range g.Samples {
			adv := g.Rewards[i] - mean
			for t, lp := range s.LogP {
				loss -= adv * lp / float64(len(s.LogP)) / n
				grad.Groups[gi].Samples[i].LogP[t] = -adv / float64(len(s.LogP)) / n
			}
		}
	}
	switch a.fault {
	case "wrong gradient":
		grad.Groups[0].Samples[0].LogP[0] += 1e-3
	case "mutates":
		b.Groups[0].Rewards[0] = 7
	case "reshapes":
		grad.Groups[0].Samples[0].LogP = append(grad.Groups[0].Samples[0].LogP, 0)
	case "panics on empty":
		for _, g := range b.Groups {
			for _, s := range g.Samples {
				_ = s.LogP[0]
			}
		}
	case "nan":
		for _, g := range b.Groups {
			if g.Rewards[0] == g.Rewards[1] && g.Rewards[1] == g.Rewards[2] {
				loss = loss / 0 * 0
			}
		}
	}
	return core.LossValue{Loss: loss}, nil
}

// TestConformanceBites: the suite passes a correct algorithm and catches
// each kind of fault, naming the check.
func TestConformanceBites(t *testing.T) {
	if f := algotest.Conformance(&toy{}, algotest.Options{}); len(f) != 0 {
		t.Fatalf("a correct algorithm fails: %v", f)
	}
	for _, tc := range []struct{ fault, check string }{
		{"wrong gradient", "gradient"},
		{"mutates", "mutation"},
		{"reshapes", "shape"},
		{"panics on empty", "edge:empty completion"},
		{"nan", "edge:all-equal rewards"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			fails := algotest.Conformance(&toy{fault: tc.fault}, algotest.Options{})
			var got []string
			for _, f := range fails {
				got = append(got, f.String())
			}
			if !strings.Contains(strings.Join(got, "\n"), tc.check+": ") {
				t.Errorf("fault %q: failures %q, want one from check %q", tc.fault, got, tc.check)
			}
		})
	}
}

// nondeterministic returns a different loss on each call.
type nondeterministic struct {
	toy
	calls int
}

func (a *nondeterministic) Loss(b, grad *core.Batch) (core.LossValue, error) {
	a.calls++
	lv, err := a.toy.Loss(b, grad)
	lv.Loss += float64(a.calls) * 1e-12
	return lv, err
}

func TestConformanceCatchesNondeterminism(t *testing.T) {
	fails := algotest.Conformance(&nondeterministic{}, algotest.Options{})
	if len(fails) == 0 || fails[0].Check != "determinism" {
		t.Errorf("failures %v, want determinism first", fails)
	}
}
