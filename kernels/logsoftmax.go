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

// LogSoftmaxGatherAt is LogSoftmaxGather at sampling temperature temp:
// out[i] = log_softmax(logits[i,:]/temp)[targets[i]], the logits divided by
// temp as the samplers that produced the tokens did. Each scaled logit is
// rounded to T once, and the target's log-prob is formed from that same
// rounded value, so the result is a deterministic function of the inputs.
// temp == 1 is LogSoftmaxGather itself (same bits, no division), so that
// untempered training is unchanged. temp must be positive and finite.
func LogSoftmaxGatherAt[T Float](out, logits []T, targets []int, n, v int, temp float64) {
	checkTemp("LogSoftmaxGatherAt", temp)
	if temp == 1 {
		LogSoftmaxGather(out, logits, targets, n, v)
		return
	}
	checkLen("LogSoftmaxGatherAt", "logits", len(logits), n*v)
	checkLen("LogSoftmaxGatherAt", "out", len(out), n)
	checkLen("LogSoftmaxGatherAt", "targets", len(targets), n)
	for i := 0; i < n; i++ {
		tg := targets[i]
		if tg < 0 {
			out[i] = 0
			continue
		}
		checkTarget("LogSoftmaxGatherAt", i, tg, v)
		row := logits[i*v : i*v+v]
		mx, lse := logSumExpAt(row, temp)
		out[i] = T(float64(divT(row[tg], temp)) - mx - lse)
	}
}

// divT is x/temp rounded to T: the one place a logit is scaled, so the
// forward and backward kernels see identical values.
func divT[T Float](x T, temp float64) T { return T(float64(x) / temp) }

// logSumExpAt is logSumExp of row/temp: it returns the scaled maximum mx and
// log Σ exp(row/temp - mx). Dividing by a positive number and rounding are
// both monotonic, so the scaled maximum is the maximum's scaled value.
func logSumExpAt[T Float](row []T, temp float64) (mx, lse float64) {
	m := row[0]
	for _, x := range row[1:] {
		if x > m {
			m = x
		}
	}
	sm := divT(m, temp)
	var s float64
	var buf [256]T
	for len(row) > 0 {
		c := buf[:min(len(row), len(buf))]
		for j, x := range row[:len(c)] {
			c[j] = divT(x, temp)
		}
		expShift(c, c, sm)
		s += sum64(c)
		row = row[len(c):]
	}
	return float64(sm), math.Log(s)
}

// LogSoftmaxGatherAtBackward overwrites dlogits with the gradient of
// Σ_i dy[i]·out[i] for out from LogSoftmaxGatherAt:
// dlogits[i,:] = (dy[i]/temp)·(onehot(targets[i]) - softmax(logits[i,:]/temp)).
// Rows with a negative target get zeros; temp == 1 is
// LogSoftmaxGatherBackward itself.
func LogSoftmaxGatherAtBackward[T Float](dlogits, logits []T, targets []int, dy []T, n, v int, temp float64) {
	checkTemp("LogSoftmaxGatherAtBackward", temp)
	if temp == 1 {
		LogSoftmaxGatherBackward(dlogits, logits, targets, dy, n, v)
		return
	}
	checkLen("LogSoftmaxGatherAtBackward", "logits", len(logits), n*v)
	checkLen("LogSoftmaxGatherAtBackward", "dlogits", len(dlogits), n*v)
	checkLen("LogSoftmaxGatherAtBackward", "targets", len(targets), n)
	checkLen("LogSoftmaxGatherAtBackward", "dy", len(dy), n)
	for i := 0; i < n; i++ {
		dr := dlogits[i*v : i*v+v]
		tg := targets[i]
		if tg < 0 {
			clear(dr)
			continue
		}
		checkTarget("LogSoftmaxGatherAtBackward", i, tg, v)
		row := logits[i*v : i*v+v]
		mx, lse := logSumExpAt(row, temp)
		for j, x := range row {
			dr[j] = divT(x, temp)
		}
		// The chain rule through logits/temp contributes the 1/temp.
		g := divT(dy[i], temp)
		scale := -g * T(math.Exp(-lse))
		expShift(dr, dr, T(mx))
		for j := range dr {
			dr[j] *= scale
		}
		dr[tg] += g
	}
}

func checkTemp(kernel string, temp float64) {
	if !(temp > 0) || math.IsInf(temp, 1) {
		panic(fmt.Sprintf("kernels.%s: temperature %g is not positive and finite", kernel, temp))
	}
}

func checkTarget(kernel string, row, tg, v int) {
	if tg >= v {
		panic(fmt.Sprintf("kernels.%s: targets[%d] = %d is out of range for vocabulary size %d", kernel, row, tg, v))
	}
}

// EntropyAt writes out[i] = H(softmax(logits[i,:]/temp)) in nats for rows
// with a target (targets[i] ≥ 0) and 0 for the others, in float64:
// H = log Σ exp(z − m) − Σ exp(z − m)·(z − m) / Σ exp(z − m), z = logits/temp,
// m = max z. temp must be positive and finite.
func EntropyAt[T Float](out []float64, logits []T, targets []int, n, v int, temp float64) {
	checkTemp("EntropyAt", temp)
	checkLen("EntropyAt", "logits", len(logits), n*v)
	checkLen("EntropyAt", "out", len(out), n)
	checkLen("EntropyAt", "targets", len(targets), n)
	for i := 0; i < n; i++ {
		if targets[i] < 0 {
			out[i] = 0
			continue
		}
		out[i] = rowEntropy(logits[i*v:i*v+v], temp)
	}
}

func rowEntropy[T Float](row []T, temp float64) float64 {
	m := math.Inf(-1)
	for _, x := range row {
		m = math.Max(m, float64(x)/temp)
	}
	var s, sz float64
	for _, x := range row {
		z := float64(x)/temp - m
		e := math.Exp(z)
		s += e
		sz += e * z
	}
	return math.Log(s) - sz/s
}
