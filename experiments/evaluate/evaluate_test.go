package evaluate

import (
	"math"
	"testing"
)

func TestMetrics(t *testing.T) {
	post := Outputs{Completions: []string{"ab", "ab", "cd", "x"}, Judge: []float64{1, 0, -1, 1}, Scores: []float64{1, .5, 0, .5}, Lengths: []int{2, 2, 2, 1},
		Tokens: []int{3, 3, 2, 1}}
	pre := Outputs{Judge: []float64{-1, 0, 0, 1}}
	m := Metrics(post, pre)
	want := map[string]float64{
		"RAS": 50, "win_tie": 75, "NAG": 25, "NAG_signed": 0,
		"reward": 0.25, "score": 0.5, "length": 1.75, "length_tokens": 2.25, "distinct2": 2.0 / 3,
	}
	for k, v := range want {
		if math.Abs(m[k]-v) > 1e-12 {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	post.Tokens = nil // outputs recorded before token lengths were
	if _, ok := Metrics(post, pre)["length_tokens"]; ok {
		t.Error("length_tokens without token lengths")
	}
}

func TestStepsTo90(t *testing.T) {
	cases := []struct {
		curve []Point
		step  float64
		ok    bool
	}{
		// 0.9 is crossed between 0.5 at step 10 and 0.95 at step 20: 10 + 10·0.4/0.45.
		{[]Point{{0, 0}, {10, 0.5}, {20, 0.95}, {30, 1}}, 10 + 10*0.4/0.45, true},
		{[]Point{{0, 0}, {10, 1}, {20, 1}}, 9, true},
		{[]Point{{0, 0.5}, {10, 0.2}}, 0, false},
		{[]Point{{0, 0}}, 0, false},
		// target −1 + 0.9 = −0.1, between −0.8 (step 5) and 0 (step 10).
		{[]Point{{0, -1}, {5, -0.8}, {10, 0}}, 5 + 5*0.7/0.8, true},
		// Overshoot: the final reward is 0.95, so the target is 0.855,
		// first crossed between 0.2 (step 8) and 1 (step 12).
		{[]Point{{0, 0}, {4, 0.2}, {8, 0.2}, {12, 1}, {16, 0.95}}, 8 + 4*(0.855-0.2)/0.8, true},
	}
	for _, c := range cases {
		s, ok := StepsTo90(c.curve)
		if math.Abs(s-c.step) > 1e-9 || ok != c.ok {
			t.Errorf("%v: got %v %v, want %v %v", c.curve, s, ok, c.step, c.ok)
		}
	}
}

func TestGroupMetrics(t *testing.T) {
	post := Outputs{Completions: []string{"a", "b", "c", "d"}, Judge: []float64{1, 0, -1, 1}, Scores: []float64{1, .5, 0, .5}, Lengths: []int{1, 1, 1, 1}}
	pre := Outputs{Judge: []float64{-1, 0, 0, 1}}
	m := GroupMetrics(post, pre, map[string][]int{"x": {0, 1}, "y": {2, 3}})
	want := map[string]float64{
		"RAS@x": 50, "win_tie@x": 100, "NAG@x": 50, "NAG_signed@x": 50, "reward@x": 0.5, "score@x": 0.75,
		"RAS@y": 50, "win_tie@y": 50, "NAG@y": 0, "NAG_signed@y": -50, "reward@y": 0, "score@y": 0.25,
	}
	if len(m) != len(want) {
		t.Errorf("got %d metrics %v, want %d", len(m), m, len(want))
	}
	for k, v := range want {
		if math.Abs(m[k]-v) > 1e-12 {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
}
