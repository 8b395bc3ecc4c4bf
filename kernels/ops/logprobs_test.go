package ops

import (
	"math"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// directLogProbs is log_softmax(logits[i,:]/temp)[targets[i]] in float64,
// written out from the definition with no shared code.
func directLogProbs(logits []float64, targets []int, v int, temp float64) []float64 {
	out := make([]float64, len(targets))
	for i, tg := range targets {
		if tg < 0 {
			continue
		}
		row := logits[i*v : (i+1)*v]
		var s float64
		for _, x := range row {
			s += math.Exp(x / temp)
		}
		out[i] = row[tg]/temp - math.Log(s)
	}
	return out
}

// logProbsValues runs LogProbsAt (LogProbs when plain) once on logits
// [n,v] in a graph of dtype dt and returns the output as float64.
func logProbsValues(t *testing.T, dt tensor.Dtype, logits []float64, targets []int, v int, temp float64, plain bool) []float64 {
	t.Helper()
	g := G.NewGraph()
	x := input(g, dt, "logits", logits, len(targets), v)
	var y *G.Node
	var err error
	if plain {
		y, err = LogProbs(x, &Index{IDs: targets})
	} else {
		y, err = LogProbsAt(x, &Index{IDs: targets}, temp)
	}
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	switch d := y.Value().Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, f := range d {
			out[i] = float64(f)
		}
		return out
	}
	t.Fatalf("unexpected value %T", y.Value().Data())
	return nil
}

// LogProbsAt's values match the definition computed directly in float64.
// The tolerances are tight enough that a wrongly scaled op (logits·T
// instead of logits/T) or an untempered one would fail them: the test
// checks that against the direct values at those scalings.
func TestLogProbsAtValues(t *testing.T) {
	const v, temp = 9, 0.7
	logits := randData(rng(31), 5*v, 4)
	targets := []int{8, -1, 0, 3, 4}
	want := directLogProbs(logits, targets, v, temp)
	tols := map[tensor.Dtype]float64{tensor.Float64: 1e-12, tensor.Float32: 2e-6}
	far := func(got, want []float64, tol float64) (int, bool) {
		for i := range want {
			if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
				return i, true
			}
		}
		return 0, false
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		got := logProbsValues(t, dt, logits, targets, v, temp, false)
		if i, bad := far(got, want, tols[dt]); bad {
			t.Errorf("%v: out[%d] = %.12g, want %.12g", dt, i, got[i], want[i])
		}
		for _, wrong := range []float64{1 / temp, 1} {
			if _, bad := far(got, directLogProbs(logits, targets, v, wrong), tols[dt]); !bad {
				t.Errorf("%v: values at temperature %g pass the check for %g", dt, wrong, temp)
			}
		}
	}
}

// At temperature 1, LogProbsAt is LogProbs bit for bit, forward and
// backward, in both dtypes.
func TestLogProbsAtOneIsLogProbs(t *testing.T) {
	const v = 7
	logits := randData(rng(33), 4*v, 5)
	targets := []int{6, 0, -1, 2}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		a := logProbsValues(t, dt, logits, targets, v, 1, true)
		b := logProbsValues(t, dt, logits, targets, v, 1, false)
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				t.Fatalf("%v: out[%d] LogProbs %v, LogProbsAt(1) %v", dt, i, a[i], b[i])
			}
		}
	}
	grad := func(plain bool) []float64 {
		c := graphCase{build: func(g *G.ExprGraph, dt tensor.Dtype) (*G.Node, []*G.Node, error) {
			x := input(g, dt, "logits", logits, len(targets), v)
			var y *G.Node
			var err error
			if plain {
				y, err = LogProbs(x, &Index{IDs: targets})
			} else {
				y, err = LogProbsAt(x, &Index{IDs: targets}, 1)
			}
			if err != nil {
				return nil, nil, err
			}
			c, err := Loss("wsum", weightedSum(randData(rng(34), len(targets), 1)), y)
			return c, []*G.Node{x}, err
		}}
		_, grads, _ := gradients(t, c, symbolic)
		return grads[0]
	}
	ga, gb := grad(true), grad(false)
	for i := range ga {
		if math.Float64bits(ga[i]) != math.Float64bits(gb[i]) {
			t.Fatalf("dlogits[%d]: LogProbs %v, LogProbsAt(1) %v", i, ga[i], gb[i])
		}
	}
}

// Nodes at different temperatures must never be merged by gorgonia's
// hash-consing, even on the same logits and Index; at temperature 1 the op
// keeps LogProbs's name.
func TestLogProbsAtIdentity(t *testing.T) {
	g := G.NewGraph()
	x := input(g, tensor.Float64, "logits", make([]float64, 6), 2, 3)
	idx := &Index{}
	names := map[float64]string{}
	nodes := map[*G.Node]float64{}
	for _, temp := range []float64{1, 0.7, 0.7000000000000001, 1.5} {
		n, err := LogProbsAt(x, idx, temp)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := nodes[n]; ok {
			t.Fatalf("LogProbsAt nodes at temperatures %v and %v were merged", prev, temp)
		}
		nodes[n] = temp
		names[temp] = n.Op().String()
	}
	if names[1] != "grao.LogProbs" {
		t.Errorf("temperature 1 op is named %q", names[1])
	}
	if names[0.7] == names[0.7000000000000001] {
		t.Errorf("two temperatures share the name %q", names[0.7])
	}
	plain, _ := LogProbs(x, idx)
	if _, ok := nodes[plain]; !ok {
		t.Error("LogProbs and LogProbsAt(1) on the same inputs were not merged")
	}
}

func TestLogProbsAtBadTemperature(t *testing.T) {
	g := G.NewGraph()
	x := input(g, tensor.Float64, "logits", make([]float64, 6), 2, 3)
	for _, temp := range []float64{0, -0.5, math.NaN(), math.Inf(1)} {
		if _, err := LogProbsAt(x, &Index{}, temp); err == nil || !strings.Contains(err.Error(), "not positive and finite") {
			t.Errorf("temperature %g: err = %v", temp, err)
		}
	}
}
