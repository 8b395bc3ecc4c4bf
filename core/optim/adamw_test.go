package optim

import (
	"math"
	"testing"
)

// A single AdamW step from zero state moves every weight by lr·sign(g)
// (bias-corrected m/√v = g/|g|), minus decoupled decay lr·wd·w.
func TestFirstStepIsSignDescent(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ClipNorm = 0
	cfg.LR = 0.1
	w := []float32{1, -2, 3}
	o, err := NewAdamW(cfg, []Param{{Name: "w", Data: w, Decay: true}})
	if err != nil {
		t.Fatal(err)
	}
	g := []float32{0.5, -0.25, 0}
	if _, err := o.Step([][]float32{g}); err != nil {
		t.Fatal(err)
	}
	want := []float64{1*(1-0.1*0.01) - 0.1, -2*(1-0.1*0.01) + 0.1, 3 * (1 - 0.1*0.01)}
	for i := range w {
		if math.Abs(float64(w[i])-want[i]) > 1e-6 {
			t.Errorf("w[%d] = %v, want %v", i, w[i], want[i])
		}
	}
}

func TestClipping(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ClipNorm = 1
	o, _ := NewAdamW(cfg, []Param{{Name: "w", Data: make([]float32, 2)}})
	st, err := o.Step([][]float32{{3, 4}})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Clipped || math.Abs(st.GradNorm-5) > 1e-9 {
		t.Fatalf("stats %+v: want norm 5, clipped", st)
	}
}

// Minimising a convex quadratic must converge: the optimiser moves downhill.
func TestConvergesOnQuadratic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.LR = 0.05
	cfg.WeightDecay = 0
	w := []float32{3, -4, 0.5}
	o, _ := NewAdamW(cfg, []Param{{Name: "w", Data: w}})
	for i := 0; i < 500; i++ {
		g := make([]float32, len(w))
		for j := range w {
			g[j] = 2 * (w[j] - 1)
		}
		if _, err := o.Step([][]float32{g}); err != nil {
			t.Fatal(err)
		}
	}
	for j := range w {
		if math.Abs(float64(w[j])-1) > 1e-2 {
			t.Errorf("w[%d] = %v, want ≈ 1", j, w[j])
		}
	}
}

func TestRejectsBadInput(t *testing.T) {
	o, _ := NewAdamW(DefaultConfig(), []Param{{Name: "w", Data: make([]float32, 2)}})
	cases := map[string][][]float32{
		"count": {},
		"size":  {{1}},
		"nan":   {{float32(math.NaN()), 0}},
	}
	for name, g := range cases {
		if _, err := o.Step(g); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
	bad := DefaultConfig()
	bad.LR = -1
	if _, err := NewAdamW(bad, nil); err == nil {
		t.Error("negative lr accepted")
	}
}

func TestScheduleFactor(t *testing.T) {
	cases := []struct {
		s    Schedule
		step int
		want float64
	}{
		{Schedule{Kind: "constant"}, 7, 1},
		{Schedule{Kind: "constant", Warmup: 10}, 5, 0.5},
		{Schedule{Kind: "cosine", Warmup: 10, Total: 110}, 10, 1},
		{Schedule{Kind: "cosine", Warmup: 10, Total: 110}, 60, 0.5},
		{Schedule{Kind: "cosine", Warmup: 10, Total: 110, MinFactor: 0.1}, 110, 0.1},
		{Schedule{Kind: "cosine", Total: 100}, 500, 0},
	}
	for _, c := range cases {
		if got := c.s.Factor(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%+v step %d: got %v want %v", c.s, c.step, got, c.want)
		}
	}
}
