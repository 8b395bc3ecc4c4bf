package evaluate

import (
	"math"
	"testing"
)

func TestMetrics(t *testing.T) {
	post := Outputs{Completions: []string{"ab", "ab", "cd", "x"}, Judge: []float64{1, 0, -1, 1}, Scores: []float64{1, .5, 0, .5}, Lengths: []int{2, 2, 2, 1}}
	pre := Outputs{Judge: []float64{-1, 0, 0, 1}}
	m := Metrics(post, pre)
	want := map[string]float64{
		"RAS": 50, "win_tie": 75, "NAG": 25, "NAG_signed": 0,
		"reward": 0.25, "score": 0.5, "length": 1.75, "distinct2": 2.0 / 3,
	}
	for k, v := range want {
		if math.Abs(m[k]-v) > 1e-12 {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
}

func TestStepsTo90(t *testing.T) {
	cases := []struct {
		curve []Point
		step  int
		ok    bool
	}{
		{[]Point{{0, 0}, {10, 0.5}, {20, 0.95}, {30, 1}}, 20, true},
		{[]Point{{0, 0}, {10, 1}, {20, 1}}, 10, true},
		{[]Point{{0, 0.5}, {10, 0.2}}, 0, false},
		{[]Point{{0, 0}}, 0, false},
		{[]Point{{0, -1}, {5, -0.8}, {10, 0}}, 10, true},
	}
	for _, c := range cases {
		s, ok := StepsTo90(c.curve)
		if s != c.step || ok != c.ok {
			t.Errorf("%v: got %d %v, want %d %v", c.curve, s, ok, c.step, c.ok)
		}
	}
}
