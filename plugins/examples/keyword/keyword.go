package main

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/grao-lab/grao/core"
)

// Keyword scores a completion by the fraction of keywords it mentions, as
// whole words, case-insensitively. The keywords come from the item's meta
// ("keywords": list of strings) or else from Default; with none, the item is
// not applicable.
type Keyword struct {
	Default []string
}

// Describe implements core.Reward.
func (k *Keyword) Describe() core.RewardInfo {
	return core.RewardInfo{
		Name:          "keyword",
		Version:       "1.0.0",
		Reads:         []string{"completion", "meta"},
		Deterministic: true,
		Min:           0,
		Max:           1,
	}
}

// Score implements core.Reward.
func (k *Keyword) Score(ctx context.Context, items []core.RewardItem) ([]core.Score, error) {
	out := make([]core.Score, len(items))
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		kws, err := keywordsOf(it.Meta, k.Default)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		if len(kws) == 0 {
			continue // not applicable
		}
		words := wordSet(it.Completion)
		var missing []string
		for _, kw := range kws {
			if !containsPhrase(words, it.Completion, kw) {
				missing = append(missing, kw)
			}
		}
		found := len(kws) - len(missing)
		info := fmt.Sprintf("%d/%d keywords", found, len(kws))
		if len(missing) > 0 {
			info += "; missing " + strings.Join(missing, ", ")
		}
		out[i] = core.Score{Value: float64(found) / float64(len(kws)), Applicable: true, Info: info}
	}
	return out, nil
}

// keywordsOf reads meta "keywords" (a JSON list of strings) or falls back.
func keywordsOf(meta map[string]any, def []string) ([]string, error) {
	raw, ok := meta["keywords"]
	if !ok {
		return def, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf(`meta "keywords": want a list of strings, got %T`, raw)
	}
	out := make([]string, 0, len(list))
	for j, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf(`meta "keywords"[%d]: want a string, got %T`, j, v)
		}
		out = append(out, s)
	}
	return out, nil
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range words(s) {
		m[w] = true
	}
	return m
}

// containsPhrase matches a one-word keyword against the word set and a
// multi-word keyword as a contiguous word sequence.
func containsPhrase(set map[string]bool, text, kw string) bool {
	kwWords := words(kw)
	switch len(kwWords) {
	case 0:
		return false
	case 1:
		return set[kwWords[0]]
	}
	return strings.Contains(" "+strings.Join(words(text), " ")+" ", " "+strings.Join(kwWords, " ")+" ")
}
