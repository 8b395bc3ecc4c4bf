package kernels

import (
	"fmt"
	"math"
	"slices"
	"strings"
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

// scaled returns x/temp, the logits a sampler at temperature temp draws from.
func scaled(x []float64, temp float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v / temp
	}
	return y
}

// The tempered kernel is the plain one applied to logits/temp, computed
// here directly in float64. The reference at the wrong scaling (logits·temp,
// as a kernel that multiplied by temp instead of dividing would compute)
// must fail the same tolerance, so the check can tell them apart.
func TestLogSoftmaxGatherAt(t *testing.T) {
	for _, temp := range []float64{0.7, 1.6} {
		for _, c := range lsmCases {
			t.Run(fmt.Sprintf("T%g/n%d_v%d", temp, c.n, c.v), func(t *testing.T) {
				logits := fkRand(uint64(c.v)+3, c.n*c.v, 4)
				want := naiveLogSoftmaxGather(scaled(logits, temp), c.targets, c.n, c.v)
				out := fkRand(1, c.n, 9) // garbage: ignored rows must become 0
				LogSoftmaxGatherAt(out, logits, c.targets, c.n, c.v, temp)
				fkClose(t, "out64", out, want, 1e-12, 1e-10)
				out32 := make([]float32, c.n)
				LogSoftmaxGatherAt(out32, fkTo32(logits), c.targets, c.n, c.v, temp)
				fkClose(t, "out32", out32, want, 1e-5, 1e-5)

				wrong := naiveLogSoftmaxGather(scaled(logits, 1/temp), c.targets, c.n, c.v)
				// (Only rows with a target over more than one token depend on temp.)
				if c.v > 1 && slices.Max(c.targets) >= 0 && !anyFar(out, wrong, 1e-12, 1e-10) {
					t.Fatal("the value check does not tell temp from 1/temp")
				}

				shifted := append([]float64(nil), logits...)
				for i := range shifted {
					shifted[i] += 1000
				}
				LogSoftmaxGatherAt(out, shifted, c.targets, c.n, c.v, temp)
				fkClose(t, "shifted", out, want, 1e-9, 1e-9)
			})
		}
	}
}

// anyFar says whether some element of got is outside atol + rtol·|want|.
func anyFar(got, want []float64, atol, rtol float64) bool {
	for i := range want {
		if math.Abs(got[i]-want[i]) > atol+rtol*math.Abs(want[i]) {
			return true
		}
	}
	return false
}

func TestLogSoftmaxGatherAtBackward(t *testing.T) {
	const temp = 0.7
	for _, c := range lsmCases {
		t.Run(fmt.Sprintf("n%d_v%d", c.n, c.v), func(t *testing.T) {
			logits := fkRand(uint64(c.v)+11, c.n*c.v, 3)
			dy := fkRand(8, c.n, 1)
			out := make([]float64, c.n)
			dl := fkRand(2, c.n*c.v, 5) // garbage: must be overwritten
			LogSoftmaxGatherAtBackward(dl, logits, c.targets, dy, c.n, c.v, temp)
			fkGradCheck(t, "dlogits", logits, dl, func() float64 {
				LogSoftmaxGatherAt(out, logits, c.targets, c.n, c.v, temp)
				return fkDot(out, dy)
			})
			dl32 := make([]float32, c.n*c.v)
			LogSoftmaxGatherAtBackward(dl32, fkTo32(logits), c.targets, fkTo32(dy), c.n, c.v, temp)
			fkClose(t, "dlogits32", dl32, dl, 1e-6, 1e-4)
		})
	}
}

// At temperature 1 the tempered kernels are the plain ones, bit for bit.
func TestLogSoftmaxGatherAtOne(t *testing.T) {
	for _, c := range lsmCases {
		logits := fkRand(uint64(c.v)+5, c.n*c.v, 4)
		l32, dy32 := fkTo32(logits), fkTo32(fkRand(6, c.n, 1))
		a, b := make([]float32, c.n), make([]float32, c.n)
		LogSoftmaxGather(a, l32, c.targets, c.n, c.v)
		LogSoftmaxGatherAt(b, l32, c.targets, c.n, c.v, 1)
		da, db := make([]float32, c.n*c.v), make([]float32, c.n*c.v)
		LogSoftmaxGatherBackward(da, l32, c.targets, dy32, c.n, c.v)
		LogSoftmaxGatherAtBackward(db, l32, c.targets, dy32, c.n, c.v, 1)
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("n%d_v%d: out[%d] %v vs %v", c.n, c.v, i, a[i], b[i])
			}
		}
		for i := range da {
			if math.Float32bits(da[i]) != math.Float32bits(db[i]) {
				t.Fatalf("n%d_v%d: dlogits[%d] %v vs %v", c.n, c.v, i, da[i], db[i])
			}
		}
	}
}

func TestLogSoftmaxGatherAtBadTemperature(t *testing.T) {
	for _, temp := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "is not positive and finite") {
					t.Errorf("temperature %g: panic = %v", temp, r)
				}
			}()
			LogSoftmaxGatherAt(make([]float32, 1), make([]float32, 3), []int{0}, 1, 3, temp)
		}()
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
