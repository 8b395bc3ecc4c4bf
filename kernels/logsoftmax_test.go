package kernels

import (
	"fmt"
	"math"
	"testing"
)

// naiveLogSoftmaxGather forms the full softmax without max subtraction
// (fine for the moderate logits it is given).
func naiveLogSoftmaxGather(logits []float64, targets []int, n, v int) []float64 {
	out := make([]float64, n)
	for i := 0; i < n; i++ {
		if targets[i] < 0 {
			continue
		}
		var s float64
		for j := 0; j < v; j++ {
			s += math.Exp(logits[i*v+j])
		}
		out[i] = math.Log(math.Exp(logits[i*v+targets[i]]) / s)
	}
	return out
}

var lsmCases = []struct {
	n, v    int
	targets []int
}{
	{1, 1, []int{0}},
	{1, 5, []int{4}},
	{3, 7, []int{0, -1, 6}},
	{4, 259, []int{256, 3, -1, 258}},
	{2, 3, []int{-1, -1}},
}

func TestLogSoftmaxGather(t *testing.T) {
	for _, c := range lsmCases {
		t.Run(fmt.Sprintf("n%d_v%d", c.n, c.v), func(t *testing.T) {
			logits := fkRand(uint64(c.v), c.n*c.v, 4)
			want := naiveLogSoftmaxGather(logits, c.targets, c.n, c.v)
			out := fkRand(1, c.n, 9) // garbage: ignored rows must become 0
			LogSoftmaxGather(out, logits, c.targets, c.n, c.v)
			fkClose(t, "out64", out, want, 1e-12, 1e-10)
			out32 := make([]float32, c.n)
			LogSoftmaxGather(out32, fkTo32(logits), c.targets, c.n, c.v)
			fkClose(t, "out32", out32, want, 1e-5, 1e-5)

			// Shifting a row by a large constant changes nothing (stability).
			shifted := append([]float64(nil), logits...)
			for i := range shifted {
				shifted[i] += 1000
			}
			LogSoftmaxGather(out, shifted, c.targets, c.n, c.v)
			fkClose(t, "shifted", out, want, 1e-9, 1e-9)
		})
	}
}

func TestLogSoftmaxGatherBackward(t *testing.T) {
	for _, c := range lsmCases {
		t.Run(fmt.Sprintf("n%d_v%d", c.n, c.v), func(t *testing.T) {
			logits := fkRand(uint64(c.v)+7, c.n*c.v, 3)
			dy := fkRand(8, c.n, 1)
			out := make([]float64, c.n)
			dl := fkRand(2, c.n*c.v, 5) // garbage: must be overwritten
			LogSoftmaxGatherBackward(dl, logits, c.targets, dy, c.n, c.v)
			fkGradCheck(t, "dlogits", logits, dl, func() float64 {
				LogSoftmaxGather(out, logits, c.targets, c.n, c.v)
				return fkDot(out, dy)
			})
			dl32 := make([]float32, c.n*c.v)
			LogSoftmaxGatherBackward(dl32, fkTo32(logits), c.targets, fkTo32(dy), c.n, c.v)
			fkClose(t, "dlogits32", dl32, dl, 1e-6, 1e-4)
		})
	}
}

func TestLogSoftmaxGatherBadTarget(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || fmt.Sprint(r) != "kernels.LogSoftmaxGather: targets[1] = 3 is out of range for vocabulary size 3" {
			t.Fatalf("panic = %v", r)
		}
	}()
	LogSoftmaxGather(make([]float32, 2), make([]float32, 6), []int{0, 3}, 2, 3)
}

func ExampleLogSoftmaxGather() {
	// Two positions over a 3-token vocabulary; the second is padding.
	logits := []float64{
		1, 2, 3,
		0, 0, 0,
	}
	out := make([]float64, 2)
	LogSoftmaxGather(out, logits, []int{2, -1}, 2, 3)
	fmt.Printf("%.4f %.4f\n", out[0], out[1])
	// Output: -0.4076 0.0000
}
