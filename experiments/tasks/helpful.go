package tasks

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/grao-lab/grao/rewards"
)

// hh-helpful: six request kinds with checkable answers, drawn uniformly:
// arithmetic in words, reversing a word, counting letters, sorting 3–4
// numbers, unit conversion and small facts (capitals, colours, opposites).
// good = the bare answer; fair = the answer padded or wrapped in a
// sentence (sometimes behind a polite filler); bad = 60% wrong, 20%
// evasive, 20% irrelevant.
func genHelpful(r *rand.Rand, _ *config) sample {
	var s sample
	var wrong string
	switch r.IntN(6) {
	case 0:
		s, wrong = helpWordArith(r)
	case 1:
		s, wrong = helpReverse(r)
	case 2:
		s, wrong = helpCount(r)
	case 3:
		s, wrong = helpSort(r)
	case 4:
		s, wrong = helpConvert(r)
	default:
		s, wrong = helpFact(r)
	}
	s.meta[rewards.MetaTask] = "hh-helpful"
	if p := pick(r, politePrefixes); r.IntN(3) == 0 && len(p)+len(s.fair) <= MaxAnswerBytes {
		s.fair = p + lowerFirst(s.fair)
	}
	switch u := r.IntN(10); {
	case u < 6:
		s.bad = wrong
	case u < 8:
		s.bad = pick(r, evasions)
	default:
		s.bad = pick(r, irrelevant)
	}
	return s
}

func lowerFirst(s string) string {
	if s == "" || strings.HasPrefix(s, "I ") || strings.HasPrefix(s, "I'") || s[0] == '\'' {
		return s
	}
	// Proper nouns (capitals) stay capitalised: only lower a leading
	// "The"/"It"/"That"-style word.
	for _, w := range []string{"The ", "It ", "That ", "There ", "In ", "Backwards", "Sorted", "Reversed"} {
		if strings.HasPrefix(s, w) {
			return strings.ToLower(s[:1]) + s[1:]
		}
	}
	return s
}

func numMeta(kind, ans string) map[string]any {
	return map[string]any{rewards.MetaKind: kind, rewards.MetaAnswer: ans, rewards.MetaCheck: rewards.CheckNumbers}
}

func helpWordArith(r *rand.Rand) (sample, string) {
	type op struct{ word, sym string }
	o := pick(r, []op{{"plus", "+"}, {"minus", "-"}, {"times", "*"}})
	hi := 20
	if o.sym == "*" {
		hi = 10
	}
	a, b := r.IntN(hi+1), r.IntN(hi+1)
	if o.sym == "-" && a < b {
		a, b = b, a
	}
	ans := apply(o.sym, a, b)
	req := fmt.Sprintf(pick(r, []string{"What is %s %s %s?", "What's %s %s %s?"}), numberWords[a], o.word, numberWords[b])
	as := strconv.Itoa(ans)
	fair := fmt.Sprintf(pick(r, []string{"%s %s %s is %s.", "The answer is %[4]s.", "That makes %[4]s."}),
		capFirst(numberWords[a]), o.word, numberWords[b], as)
	w := ans + pick(r, []int{-3, -2, -1, 1, 2, 3})
	if w < 0 {
		w = ans + 1
	}
	return sample{request: req, meta: numMeta("word-arith", as), good: as, fair: fair},
		fmt.Sprintf(pick(r, []string{"%d", "The answer is %d.", "It is %d."}), w)
}

func capFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}

func helpReverse(r *rand.Rand) (sample, string) {
	w := pick(r, reverseWords)
	ans := reverse(w)
	req := fmt.Sprintf(pick(r, []string{"Reverse the word '%s'.", "Spell '%s' backwards.", "What is '%s' reversed?"}), w)
	fair := fmt.Sprintf(pick(r, []string{"'%s' reversed is '%s'.", "Backwards, it is %[2]s.", "Reversed: %[2]s."}), w, ans)
	meta := map[string]any{rewards.MetaKind: "reverse", rewards.MetaAnswer: ans, rewards.MetaCheck: rewards.CheckWord}
	return sample{request: req, meta: meta, good: ans, fair: fair}, wrongReversal(r, w, ans)
}

// wrongReversal is a plausible wrong reversal ans of w: the word
// unchanged, the reversal with two neighbouring letters swapped, or with
// its last letter dropped.
func wrongReversal(r *rand.Rand, w, ans string) string {
	switch r.IntN(3) {
	case 0:
		return w
	case 1:
		b := []byte(ans)
		i := r.IntN(len(b) - 1)
		b[i], b[i+1] = b[i+1], b[i]
		if string(b) == ans {
			return w
		}
		return string(b)
	}
	return ans[:len(ans)-1]
}

func helpCount(r *rand.Rand) (sample, string) {
	w := pick(r, reverseWords)
	var req string
	var ans int
	if r.IntN(2) == 0 {
		ans = len(w)
		req = fmt.Sprintf(pick(r, []string{"How many letters are in '%s'?", "Count the letters in '%s'."}), w)
	} else {
		c := w[r.IntN(len(w))]
		ans = strings.Count(w, string(c))
		req = fmt.Sprintf("How many times does '%c' appear in '%s'?", c, w)
	}
	as := strconv.Itoa(ans)
	fair := fmt.Sprintf(pick(r, []string{"There are %[1]s.", "'%[2]s' has %[1]s.", "I count %[1]s of them."}), as, w)
	wrong := ans + pick(r, []int{-1, 1, 2})
	if wrong < 0 || wrong == ans {
		wrong = ans + 1
	}
	return sample{request: req, meta: numMeta("count", as), good: as, fair: fair}, strconv.Itoa(wrong)
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

func helpSort(r *rand.Rand) (sample, string) {
	n := 3 + r.IntN(2)
	var xs []int
	for len(xs) < n {
		x := r.IntN(100)
		if !slices.Contains(xs, x) {
			xs = append(xs, x)
		}
	}
	desc := r.IntN(3) == 0
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	if desc {
		slices.Reverse(sorted)
	}
	if slices.Equal(xs, sorted) { // never ask to sort a sorted list
		xs[0], xs[1] = xs[1], xs[0]
	}
	order := "from small to large"
	if desc {
		order = "from large to small"
	}
	req := fmt.Sprintf("Sort %s %s.", joinInts(xs), order)
	ans := joinInts(sorted)
	fair := fmt.Sprintf(pick(r, []string{"Sorted: %s.", "In order, that is %s.", "Here you go: %s."}), ans)
	return sample{request: req, meta: numMeta("sort", ans), good: ans, fair: fair}, joinInts(wrongOrder(r, xs, sorted))
}

// wrongOrder is a plausible wrong sort of xs: the list as given, sorted
// the other way, or sorted with two neighbours swapped.
func wrongOrder(r *rand.Rand, xs, sorted []int) []int {
	switch r.IntN(3) {
	case 0:
		return xs
	case 1:
		w := slices.Clone(sorted)
		slices.Reverse(w)
		return w
	}
	w := slices.Clone(sorted)
	i := r.IntN(len(w) - 1)
	w[i], w[i+1] = w[i+1], w[i]
	return w
}

func helpConvert(r *rand.Rand) (sample, string) {
	u := pick(r, units)
	q := 1 + r.IntN(9)
	from := u.many
	if q == 1 {
		from = u.one
	}
	ans := q * u.factor
	req := fmt.Sprintf(pick(r, []string{"How many %[3]s are in %[1]d %[2]s?", "Convert %d %s to %s."}), q, from, u.to)
	as := strconv.Itoa(ans)
	fair := fmt.Sprintf(pick(r, []string{"%d %s is %s %s.", "That is %[3]s %[4]s.", "It comes to %[3]s %[4]s."}), q, from, as, u.to)
	wrong := pick(r, []int{ans * 10, q * u.factor / 10, ans + u.factor, q + u.factor})
	if wrong == ans || wrong <= 0 {
		wrong = ans + 1
	}
	return sample{request: req, meta: numMeta("convert", as), good: as, fair: fair},
		fmt.Sprintf(pick(r, []string{"%[1]d", "That is %d %s."}), wrong, u.to)
}

func helpFact(r *rand.Rand) (sample, string) {
	var req, ans, fair string
	var pool []string
	kind := "capital"
	switch r.IntN(3) {
	case 0:
		f := pick(r, capitals)
		ans = f.answer
		req = fmt.Sprintf(pick(r, []string{"What is the capital of %s?", "Name the capital of %s.", "Which city is the capital of %s?"}), f.subject)
		fair = fmt.Sprintf(pick(r, []string{"The capital of %s is %s.", "It is %[2]s, I believe.", "%[2]s is the capital."}), f.subject, ans)
		for _, c := range capitals {
			pool = append(pool, c.answer)
		}
	case 1:
		kind = "colour"
		f := pick(r, colours)
		ans = f.answer
		req = fmt.Sprintf(pick(r, []string{"What colour is %s?", "What color is %s?"}), f.subject)
		fair = fmt.Sprintf(pick(r, []string{"%s is %s.", "It is %[2]s, usually.", "The colour is %[2]s."}), capFirst(f.subject), ans)
		pool = colourNames
	default:
		kind = "opposite"
		p := pick(r, opposites)
		w, o := p[0], p[1]
		if r.IntN(2) == 0 {
			w, o = o, w
		}
		ans = o
		req = fmt.Sprintf(pick(r, []string{"What is the opposite of '%s'?", "Give the opposite of '%s'."}), w)
		fair = fmt.Sprintf(pick(r, []string{"The opposite of '%s' is '%s'.", "That would be '%[2]s'.", "It is '%[2]s', I think."}), w, o)
		pool = []string{w}
		for _, q := range opposites {
			pool = append(pool, q[0], q[1])
		}
	}
	var distractors []string
	for _, d := range pool {
		if d != ans && !slices.Contains(distractors, d) {
			distractors = append(distractors, d)
		}
	}
	// Opposites have many words; a seeded subset (always with the
	// question's own word) keeps meta small while catching the usual hedges.
	if kind == "opposite" && len(distractors) > 12 {
		first := distractors[0]
		rest := slices.Clone(distractors[1:])
		r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		distractors = append([]string{first}, rest[:11]...)
	}
	wrong := distractors[r.IntN(len(distractors))]
	if kind == "capital" || kind == "opposite" {
		wrong = fmt.Sprintf(pick(r, []string{"%s", "It is %s.", "I think %s."}), wrong)
	}
	meta := map[string]any{rewards.MetaKind: kind, rewards.MetaAnswer: ans, rewards.MetaCheck: rewards.CheckWord,
		rewards.MetaDistractors: distractors}
	return sample{request: req, meta: meta, good: ans, fair: fair}, wrong
}
