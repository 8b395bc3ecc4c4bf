package rewards

import (
	"strconv"

	"github.com/grao-lab/grao/core"
)

// MetaPartial says how an answer task's dense rubric gives partial credit
// to a relevant but wrong answer (PartialAnswerRubric). Absent, it follows
// the answer: PartialDigits for one number, PartialPositions for a list,
// PartialChars for a word.
const MetaPartial = "partial"

// Values of MetaPartial.
const (
	// PartialDigits: the share of the answer's digits the completion's last
	// number gets right, aligned from the right (67 for 68: 1/2; 168 for
	// 68: 2/3, the longer number sets the denominator).
	PartialDigits = "digits"
	// PartialPositions: the share of list positions holding the right
	// number (a sort answer with one swap of three: 1/3).
	PartialPositions = "positions"
	// PartialChars: the best positional character match between the
	// answer word and any word of the completion, over the longer of the
	// two ("okba" for "okab": 2/4).
	PartialChars = "chars"
	// PartialNone: no partial credit. Facts use it: a name with some
	// letters right is not a fact partly known.
	PartialNone = "none"
)

var partialModes = []string{PartialDigits, PartialPositions, PartialChars, PartialNone}

// AnswerRubric is the exact-answer rubric of HelpfulRubric under a
// task-neutral name: the check comes from Meta[MetaCheck] (inferred from
// the answer when absent).
func AnswerRubric() core.Reward {
	return &itemReward{
		info: core.RewardInfo{Name: "rubric/answer", Version: "1", Reads: []string{"prompt", "completion", "meta"},
			Deterministic: true, Min: 0, Max: 1},
		fn: func(it *core.RewardItem) core.Score { return scoreAnswer(it, "", false) },
	}
}

// PartialAnswerRubric is the dense version of the answer rubrics: the same
// weights, with a relevant but wrong answer earning its partial credit c ∈
// [0, 1) (see MetaPartial) where an exact one earns 1:
//
//	score = 0.6·c + 0.1·relevant + 0.3·concision·c
//
// An exact answer scores exactly what the exact rubric gives it, so
// relative to a correct reference the dense reward s(o) − s(y) is ≤ 0 for
// every wrong answer, like the judge, but tells near misses from garbage.
// check forces CheckNumbers or CheckWord ("" reads it from the meta).
func PartialAnswerRubric(check string) core.Reward {
	name := "rubric/answer-partial"
	if check != "" {
		name += "-" + check
	}
	return &itemReward{
		info: core.RewardInfo{Name: name, Version: "1", Reads: []string{"prompt", "completion", "meta"},
			Deterministic: true, Min: 0, Max: 1},
		fn: func(it *core.RewardItem) core.Score { return scoreAnswer(it, check, true) },
	}
}

// partialCredit is the credit of a relevant, incorrect completion c for
// answer; ok is false for an unknown MetaPartial. A completion whose
// extracted answer is exact yet was judged incorrect hedges (it names a
// distractor, or a stray number beside the answer): it earns 0, not 1.
func partialCredit(it *core.RewardItem, check, answer, c string) (credit float64, ok bool) {
	credit, ok = rawCredit(it, check, answer, c)
	if credit >= 1 {
		credit = 0
	}
	return credit, ok
}

func rawCredit(it *core.RewardItem, check, answer, c string) (float64, bool) {
	mode, _ := metaString(it.Meta, MetaPartial)
	if mode == "" {
		mode = PartialChars
		if check == CheckNumbers {
			mode = PartialDigits
			if len(numbers(answer)) > 1 {
				mode = PartialPositions
			}
		}
	}
	switch mode {
	case PartialNone:
		return 0, true
	case PartialDigits:
		want, got := numbers(answer), numbers(c)
		if len(want) == 0 || len(got) == 0 {
			return 0, true
		}
		return digitCredit(want[len(want)-1], got[len(got)-1]), true
	case PartialPositions:
		return positionCredit(numbers(answer), numbers(c)), true
	case PartialChars:
		return charCredit(words(answer), words(c)), true
	}
	return 0, false
}

// digitCredit compares decimal digits from the right.
func digitCredit(want, got int64) float64 {
	if want < 0 || got < 0 {
		return 0
	}
	w, g := strconv.FormatInt(want, 10), strconv.FormatInt(got, 10)
	match := 0
	for i := 1; i <= min(len(w), len(g)); i++ {
		if w[len(w)-i] == g[len(g)-i] {
			match++
		}
	}
	return float64(match) / float64(max(len(w), len(g)))
}

// positionCredit compares the completion's last len(want) numbers (or all
// of them, from the start, when it has fewer) with want position by
// position.
func positionCredit(want, got []int64) float64 {
	if len(want) == 0 {
		return 0
	}
	if len(got) > len(want) {
		got = got[len(got)-len(want):]
	}
	match := 0
	for i := range got {
		if got[i] == want[i] {
			match++
		}
	}
	return float64(match) / float64(len(want))
}

// charCredit is the best positional character match of a one-word answer
// with any completion word; a multi-word answer earns the share of its
// words the completion contains.
func charCredit(answer, completion []string) float64 {
	if len(answer) == 0 {
		return 0
	}
	if len(answer) > 1 {
		have := map[string]bool{}
		for _, w := range completion {
			have[w] = true
		}
		n := 0
		for _, w := range answer {
			if have[w] {
				n++
			}
		}
		return float64(n) / float64(len(answer))
	}
	a := answer[0]
	best := 0.0
	for _, w := range completion {
		match := 0
		for i := 0; i < min(len(w), len(a)); i++ {
			if w[i] == a[i] {
				match++
			}
		}
		best = max(best, float64(match)/float64(max(len(w), len(a))))
	}
	return best
}
