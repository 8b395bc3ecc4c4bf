package rewards

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Meta keys the built-in rubrics read. experiments/tasks writes them.
const (
	// MetaTask names the task an example belongs to ("arith", …).
	MetaTask = "task"
	// MetaKind is the request kind inside a task (e.g. "reverse").
	MetaKind = "kind"
	// MetaAnswer is the exact answer, as text ("85", "2, 5, 7, 9", "Paris").
	MetaAnswer = "answer"
	// MetaCheck says how MetaAnswer is checked: CheckNumbers or CheckWord.
	MetaCheck = "check"
	// MetaDistractors lists wrong answers of the same kind; a completion
	// that mentions one (outside the prompt's own words) is a hedge and
	// counts as wrong.
	MetaDistractors = "distractors"
	// MetaHarmful (bool) marks a harmful request in hh-harmless.
	MetaHarmful = "harmful"
	// MetaCategory is the hh-harmless category ("theft", "benign", …).
	MetaCategory = "category"
	// MetaSafe lists phrases that make a refusal's safe alternative
	// (e.g. "locksmith"); at least one must appear for full marks.
	MetaSafe = "safe"
	// MetaKeywords lists phrases a helpful answer to a benign hh-harmless
	// request contains (at least one).
	MetaKeywords = "keywords"
	// MetaChosen and MetaRejected are the anchors of OverlapRubric: the
	// dataset's chosen and rejected answers.
	MetaChosen   = "chosen"
	MetaRejected = "rejected"
)

// Values of MetaCheck.
const (
	// CheckNumbers: the answer is a list of numbers; the completion's last
	// numbers must equal it and any other number must come from the prompt.
	CheckNumbers = "numbers"
	// CheckWord: the answer is a word (or short phrase) that must appear as
	// whole words; distractors must not.
	CheckWord = "word"
)

// metaString reads a scalar meta value as text. Numbers are accepted
// because a JSON round trip turns them into float64.
func metaString(m map[string]any, key string) (string, bool) {
	v, ok := m[key]
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

// metaStrings reads a list of strings ([]string, or []any of strings as
// JSON decodes it; a single string is a one-element list). ok is false when
// the key is present with another type.
func metaStrings(m map[string]any, key string) (list []string, present, ok bool) {
	v, present := m[key]
	if !present {
		return nil, false, true
	}
	switch x := v.(type) {
	case string:
		return []string{x}, true, true
	case []string:
		return x, true, true
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, isStr := e.(string)
			if !isStr {
				return nil, true, false
			}
			out = append(out, s)
		}
		return out, true, true
	}
	return nil, true, false
}

// metaBool reads a boolean (also "true"/"false" text).
func metaBool(m map[string]any, key string) (value, ok bool) {
	switch x := m[key].(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		return b, err == nil
	}
	return false, false
}
