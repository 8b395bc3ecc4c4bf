package kernels

import (
	"fmt"
	"math"
)

// LogSoftmaxGather computes out[i] = log_softmax(logits[i,:])[targets[i]]
// for n rows of width v without materialising the log-softmax. A negative
// target marks an ignored row (padding, prompt tokens): out[i] = 0. The
// maximum is subtracted before exponentiating and the sum is accumulated in
// float64, so large logits neither overflow nor lose the target's precision.
func LogSoftmaxGather[T Float](out, logits []T, targets []int, n, v int) {
	checkLen("LogSoftmaxGather", "logits", len(logits), n*v)
	checkLen("LogSoftmaxGather", "out", len(out), n)
	checkLen("LogSoftmaxGather", "targets", len(targets), n)
	for i := 0; i < n; i++ {
		tg := targets[i]
		if tg < 0 {
			out[i] = 0
			continue
		}
		checkTarget("LogSoftmaxGather", i, tg, v)
		row := logits[i*v : i*v+v]
		mx, lse := logSumExp(row)
		out[i] = T(float64(row[tg]) - mx - lse)
	}
}

// logSumExp returns the row maximum mx and log Σ exp(row-mx).
func logSumExp[T Float](row []T) (mx, lse float64) {
	m := row[0]
	for _, x := range row[1:] {
		if x > m {
			m = x
		}
	}
	var s float64
	var buf [256]T
	for len(row) > 0 {
		c := buf[:min(len(row), len(buf))]
		expShift(c, row[:len(c)], m)
		s += sum64(c)
		row = row[len(c):]
	}
	return float64(m), math.Log(s)
}

// LogSoftmaxGatherBackward overwrites dlogits with the gradient of
// Σ_i dy[i]·out[i]: dlogits[i,:] = dy[i]·(onehot(targets[i]) - softmax(logits[i,:])).
// Rows with a negative target get zeros.
func LogSoftmaxGatherBackward[T Float](dlogits, logits []T, targets []int, dy []T, n, v int) {
	checkLen("LogSoftmaxGatherBackward", "logits", len(logits), n*v)
	checkLen("LogSoftmaxGatherBackward", "dlogits", len(dlogits), n*v)
	checkLen("LogSoftmaxGatherBackward", "targets", len(targets), n)
	checkLen("LogSoftmaxGatherBackward", "dy", len(dy), n)
	for i := 0; i < n; i++ {
		dr := dlogits[i*v : i*v+v]
		tg := targets[i]
		if tg < 0 {
			clear(dr)
			continue
		}
		checkTarget("LogSoftmaxGatherBackward", i, tg, v)
		row := logits[i*v : i*v+v]
		mx, lse := logSumExp(row)
		// softmax_j = exp(x_j - mx)/exp(lse), computed in T's precision.
		g := dy[i]
		scale := -g * T(math.Exp(-lse))
		expShift(dr, row, T(mx))
		for j := range dr {
			dr[j] *= scale
		}
		dr[tg] += g
	}
}

func checkTarget(kernel string, row, tg, v int) {
	if tg >= v {
		panic(fmt.Sprintf("kernels.%s: targets[%d] = %d is out of range for vocabulary size %d", kernel, row, tg, v))
	}
}
