package tasks

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/grao-lab/grao/rewards"
)

// The explore kinds. Each returns good (the bare answer), fair (the answer
// padded in a sentence: the reference) and bad (wrong, or 20% of the time
// evasive). Made-up words are used where a real word could be recalled
// instead of read from the prompt, so the kinds test copying and
// comparing, not memory.

const (
	consonants = "bcdfghjklmnprstvz"
	vowels     = "aeiou"
)

// pseudoWord draws a pronounceable made-up word of n letters (consonants
// and vowels alternate, starting with either).
func pseudoWord(r *rand.Rand, n int) string {
	b := make([]byte, n)
	v := r.IntN(2) == 0
	for i := range b {
		if v {
			b[i] = vowels[r.IntN(len(vowels))]
		} else {
			b[i] = consonants[r.IntN(len(consonants))]
		}
		v = !v
	}
	return string(b)
}

// nonPalindrome draws made-up words until one differs from its reverse.
func nonPalindrome(r *rand.Rand, n int) string {
	for {
		if w := pseudoWord(r, n); w != reverse(w) {
			return w
		}
	}
}

// withBad sets the bad answer: wrong with probability 0.8, else evasive.
func withBad(r *rand.Rand, s sample, wrong string) sample {
	s.bad = wrong
	if r.IntN(5) == 0 {
		s.bad = pick(r, evasions)
	}
	return s
}

func kindMeta(kind, regime string, level int, ans, check string) map[string]any {
	return map[string]any{
		rewards.MetaTask: "skills", rewards.MetaKind: kind, MetaRegime: regime, MetaLevel: level,
		rewards.MetaAnswer: ans, rewards.MetaCheck: check,
	}
}

// nDigits draws a number with exactly d digits (d = 1: 0–9).
func nDigits(r *rand.Rand, d int) int {
	if d <= 1 {
		return r.IntN(10)
	}
	lo := pow10(d - 1)
	return lo + r.IntN(9*lo)
}

func genCompare(r *rand.Rand, level int, _ split, _ *kindEnv) sample {
	a := nDigits(r, level)
	b := nDigits(r, level)
	for b == a {
		b = nDigits(r, level)
	}
	word := "larger"
	if r.IntN(2) == 0 {
		word = "smaller"
	}
	ans, other := max(a, b), min(a, b)
	if word == "smaller" {
		ans, other = other, ans
	}
	req := fmt.Sprintf(pick(r, []string{"Which is %[3]s, %[1]d or %[2]d?", "Which is %[3]s: %[1]d or %[2]d?", "Of %[1]d and %[2]d, which is %[3]s?"}), a, b, word)
	pads := []string{"The %[2]s is %[1]d.", "%[1]d is %[2]s.", "It is %[1]d, the %[2]s."}
	pad := pick(r, pads)
	s := sample{request: req, meta: kindMeta("compare", RegimeExplore, level, strconv.Itoa(ans), rewards.CheckNumbers),
		good: strconv.Itoa(ans), fair: fmt.Sprintf(pad, ans, word)}
	wrong := strconv.Itoa(other)
	if r.IntN(2) == 0 {
		wrong = fmt.Sprintf(pad, other, word)
	}
	return withBad(r, s, wrong)
}

func genFirstLetter(r *rand.Rand, level int, _ split, _ *kindEnv) sample {
	return letterOf(r, level, "first")
}

func genLastLetter(r *rand.Rand, level int, _ split, _ *kindEnv) sample {
	return letterOf(r, level, "last")
}

// letterOf asks for the first or last letter of a made-up word of level+2
// letters whose first and last letters differ.
func letterOf(r *rand.Rand, level int, which string) sample {
	var w string
	for w == "" || w[0] == w[len(w)-1] {
		w = pseudoWord(r, level+2)
	}
	ans, other := w[:1], w[len(w)-1:]
	if which == "last" {
		ans, other = other, ans
	}
	req := fmt.Sprintf(pick(r, []string{"What is the %[1]s letter of '%[2]s'?", "Give the %[1]s letter of '%[2]s'.", "Name the %[1]s letter of '%[2]s'."}), which, w)
	fair := fmt.Sprintf(pick(r, []string{"The %[1]s letter is %[2]s.", "It is %[2]s.", "That is %[2]s."}), which, ans)
	// Distractors are the word's other letters: naming one beside the
	// answer is a hedge.
	var ds []string
	for _, c := range w {
		if l := string(c); l != ans && !slices.Contains(ds, l) {
			ds = append(ds, l)
		}
	}
	meta := kindMeta(which+"-letter", RegimeExplore, level, ans, rewards.CheckWord)
	meta[rewards.MetaDistractors] = ds
	wrong := other
	if r.IntN(2) == 0 {
		wrong = string(w[1+r.IntN(len(w)-2)])
		if wrong == ans {
			wrong = other
		}
	}
	return withBad(r, sample{request: req, meta: meta, good: ans, fair: fair}, wrong)
}

func genRepeat(r *rand.Rand, level int, _ split, _ *kindEnv) sample {
	w := pseudoWord(r, level+2)
	req := fmt.Sprintf(pick(r, []string{"Repeat the word '%s'.", "Say '%s' once more.", "Echo the word '%s'."}), w)
	fair := fmt.Sprintf(pick(r, []string{"Sure: %s.", "The word is %s.", "Here it is: %s."}), w)
	// wrong: one letter changed, or the last one dropped.
	b := []byte(w)
	if r.IntN(2) == 0 {
		i := r.IntN(len(b))
		for c := b[i]; b[i] == c; {
			b[i] = 'a' + byte(r.IntN(26))
		}
	} else {
		b = b[:len(b)-1]
	}
	return withBad(r, sample{request: req, meta: kindMeta("repeat", RegimeExplore, level, w, rewards.CheckWord), good: w, fair: fair}, string(b))
}

func genCount(r *rand.Rand, level int, _ split, _ *kindEnv) sample {
	w := pseudoWord(r, level+2)
	n := len(w)
	req := fmt.Sprintf(pick(r, []string{"How many letters are in '%s'?", "Count the letters of '%s'.", "How long is the word '%s'?"}), w)
	fair := fmt.Sprintf(pick(r, []string{"There are %[1]d letters.", "'%[2]s' has %[1]d letters.", "It has %[1]d letters."}), n, w)
	wrong := n + pick(r, []int{-2, -1, 1, 2})
	if wrong < 1 {
		wrong = n + 1
	}
	return withBad(r, sample{request: req, meta: kindMeta("count", RegimeExplore, level, strconv.Itoa(n), rewards.CheckNumbers),
		good: strconv.Itoa(n), fair: fair}, strconv.Itoa(wrong))
}

func genAdd(r *rand.Rand, level int, _ split, _ *kindEnv) sample {
	a, b := nDigits(r, level), nDigits(r, level)
	ans := a + b
	expr := fmt.Sprintf("%d+%d", a, b)
	req := fmt.Sprintf(pick(r, []string{"What is %[1]s?", "%[1]s=?", "Add %[2]d and %[3]d."}), expr, a, b)
	fair := fmt.Sprintf(pick(r, []string{"%[2]s is %[1]d.", "The sum is %[1]d.", "That makes %[1]d."}), ans, expr)
	return withBad(r, sample{request: req, meta: kindMeta("add", RegimeExplore, level, strconv.Itoa(ans), rewards.CheckNumbers),
		good: strconv.Itoa(ans), fair: fair}, strconv.Itoa(nearMiss(r, ans, a, b, "+")))
}

func genReverse(r *rand.Rand, level int, _ split, _ *kindEnv) sample {
	w := nonPalindrome(r, level+1)
	ans := reverse(w)
	req := fmt.Sprintf(pick(r, []string{"Reverse the word '%s'.", "Spell '%s' backwards.", "What is '%s' reversed?"}), w)
	fair := fmt.Sprintf(pick(r, []string{"Reversed: %[2]s.", "'%[1]s' reversed is %[2]s.", "Backwards it is %[2]s."}), w, ans)
	return withBad(r, sample{request: req, meta: kindMeta("reverse", RegimeExplore, level, ans, rewards.CheckWord), good: ans, fair: fair},
		wrongReversal(r, w, ans))
}

func genSort(r *rand.Rand, level int, _ split, _ *kindEnv) sample {
	n := level + 1
	var xs []int
	for len(xs) < n {
		if x := r.IntN(100); !slices.Contains(xs, x) {
			xs = append(xs, x)
		}
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	if slices.Equal(xs, sorted) { // never ask to sort a sorted list
		xs[0], xs[1] = xs[1], xs[0]
	}
	req := fmt.Sprintf(pick(r, []string{"Sort %s ascending.", "Sort %s from small to large.", "Put %s in order."}), joinInts(xs))
	ans := joinInts(sorted)
	fair := fmt.Sprintf(pick(r, []string{"Sorted: %s.", "In order: %s.", "Here you go: %s."}), ans)
	return withBad(r, sample{request: req, meta: kindMeta("sort", RegimeExplore, level, ans, rewards.CheckNumbers), good: ans, fair: fair},
		joinInts(wrongOrder(r, xs, sorted)))
}
