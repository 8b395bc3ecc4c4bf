package tasks

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/grao-lab/grao/rewards"
)

// arith: "Human: 37+48=?\nAssistant:" (80%) or "What is 37+48?" (20%).
// Operands draw their digit count uniformly in 1..digits, then a value of
// that many digits; subtraction puts the larger operand first so answers
// are never negative. good = the bare answer; fair = the answer in a short
// sentence; bad = a near miss (±1–10, off by ten, or the result of the
// wrong operation), bare or in a sentence.
func genArith(r *rand.Rand, c *config) sample {
	a, b := operand(r, c.digits), operand(r, c.digits)
	ops := []struct {
		sym, kind string
	}{{"+", "add"}, {"-", "sub"}, {"*", "mul"}}
	op := pick(r, ops)
	if op.sym == "-" && a < b {
		a, b = b, a
	}
	ans := apply(op.sym, a, b)
	expr := fmt.Sprintf("%d%s%d", a, op.sym, b)
	req := expr + "=?"
	if r.IntN(5) == 0 {
		req = "What is " + expr + "?"
	}
	wrong := nearMiss(r, ans, a, b, op.sym)
	pads := []string{"The answer is %d.", expr + " is %d.", "It is %d.", "That is %d.", "I think it is %d.", "Let me see, %d."}
	bad := strconv.Itoa(wrong)
	if r.IntN(2) == 0 {
		bad = fmt.Sprintf(pick(r, pads), wrong)
	}
	return sample{
		request: req,
		meta: map[string]any{rewards.MetaTask: "arith", rewards.MetaKind: op.kind,
			rewards.MetaAnswer: strconv.Itoa(ans), rewards.MetaCheck: rewards.CheckNumbers},
		good: strconv.Itoa(ans),
		fair: fmt.Sprintf(pick(r, pads), ans),
		bad:  bad,
	}
}

func operand(r *rand.Rand, maxDigits int) int {
	nd := 1 + r.IntN(maxDigits)
	lo, hi := 0, 9
	if nd > 1 {
		lo = pow10(nd - 1)
		hi = pow10(nd) - 1
	}
	return lo + r.IntN(hi-lo+1)
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

func apply(op string, a, b int) int {
	switch op {
	case "+":
		return a + b
	case "-":
		return a - b
	}
	return a * b
}

// nearMiss returns a plausible wrong, non-negative answer ≠ ans.
func nearMiss(r *rand.Rand, ans, a, b int, op string) int {
	for {
		var w int
		switch r.IntN(3) {
		case 0:
			d := 1 + r.IntN(10)
			if r.IntN(2) == 0 {
				d = -d
			}
			w = ans + d
		case 1:
			w = ans + 10
			if r.IntN(2) == 0 {
				w = ans - 10
			}
		default:
			other := map[string]string{"+": "*", "-": "+", "*": "+"}[op]
			w = apply(other, a, b)
		}
		if w >= 0 && w != ans {
			return w
		}
	}
}
