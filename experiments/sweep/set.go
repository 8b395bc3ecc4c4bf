package sweep

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// A --set override changes one key of a sweep without editing its file:
// "train.lr=3e-4", "seeds=[1,2,3]", "algorithm.grao.beta=0.5" (an
// [[algorithm]] table by label, or by name when it has no label),
// 'sweep."train.lr"=[1e-4,3e-4]'. The key is a TOML dotted key and the
// value a TOML value; a value that is not valid TOML is taken as a string,
// so "task.name=arith" needs no quotes. Overrides go through the same
// decoding and validation as the file's own keys, and a problem with one
// is reported against the override rather than a line of the file.

// ParseFileWith is ParseFile with --set overrides applied to the file's
// keys before validation.
func ParseFileWith(path string, sets []string) (*Sweep, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Reason: errReason(err)}
	}
	return ParseWith(data, path, sets)
}

// ParseWith is Parse with --set overrides (see ParseFileWith).
func ParseWith(data []byte, file string, sets []string) (*Sweep, error) {
	return parse(data, file, sets)
}

// Sets returns the overrides the sweep was parsed with, as given.
func (s *Sweep) Sets() []string { return slices.Clone(s.sets) }

// setOrigin maps the display keys an override replaced to the override.
type setOrigin map[string]string

// applySets merges each override into raw (the decoded file). Problems
// with an override's own syntax or target go to el.
func applySets(raw map[string]any, sets []string, el *errList) setOrigin {
	origin := setOrigin{}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			el.errs = append(el.errs, &Error{File: "--set " + s, Reason: `want KEY=VALUE, e.g. train.lr=3e-4`})
			continue
		}
		tree, err := setTree(k, strings.TrimSpace(v))
		if err != nil {
			el.errs = append(el.errs, &Error{File: "--set " + s, Reason: err.Error()})
			continue
		}
		if err := mergeSet(raw, tree, nil, origin, s); err != nil {
			el.errs = append(el.errs, &Error{File: "--set " + s, Reason: err.Error()})
		}
	}
	return origin
}

// setTree decodes "KEY = VALUE" as a TOML document; a value that does not
// decode is retried as a quoted string.
func setTree(key, val string) (map[string]any, error) {
	var tree map[string]any
	if _, err := toml.Decode(key+" = "+val, &tree); err == nil {
		return tree, nil
	}
	if _, err := toml.Decode(key+" = "+strconv.Quote(val), &tree); err != nil {
		var pe toml.ParseError
		if ok := asParseError(err, &pe); ok {
			return nil, fmt.Errorf("not a TOML key: %s", pe.Message)
		}
		return nil, fmt.Errorf("not a TOML key: %v", err)
	}
	return tree, nil
}

func asParseError(err error, pe *toml.ParseError) bool {
	p, ok := err.(toml.ParseError)
	if ok {
		*pe = p
	}
	return ok
}

// mergeSet writes the leaves of tree into dst, replacing what the file
// had. [[algorithm]] tables are addressed by label (or name).
func mergeSet(dst, tree map[string]any, path []string, origin setOrigin, set string) error {
	for k, v := range tree {
		segs := append(slices.Clone(path), k)
		if len(path) == 0 && k == "algorithm" {
			if err := mergeAlgorithms(dst, v, origin, set); err != nil {
				return err
			}
			continue
		}
		sub, isTable := v.(map[string]any)
		cur, hasTable := dst[k].(map[string]any)
		if isTable && len(path) == 0 && k == "sweep" && !hasTable {
			cur, hasTable = map[string]any{}, true
			dst[k] = cur
		}
		if isTable && hasTable {
			if err := mergeSet(cur, sub, segs, origin, set); err != nil {
				return err
			}
			continue
		}
		if isTable && dst[k] == nil {
			cur = map[string]any{}
			dst[k] = cur
			if err := mergeSet(cur, sub, segs, origin, set); err != nil {
				return err
			}
			continue
		}
		dst[k] = v
		origin[display(segs)] = set
	}
	return nil
}

// mergeAlgorithms applies algorithm.<label>.<key> = value to every
// [[algorithm]] table with that label (or, without a label, that name).
func mergeAlgorithms(dst map[string]any, v any, origin setOrigin, set string) error {
	byLabel, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("set a parameter of one [[algorithm]] table: algorithm.LABEL.KEY=VALUE")
	}
	tables, _ := dst["algorithm"].([]map[string]any)
	for label, params := range byLabel {
		ps, ok := params.(map[string]any)
		if !ok {
			return fmt.Errorf("set a parameter of one [[algorithm]] table: algorithm.%s.KEY=VALUE", label)
		}
		var known []string
		found := false
		for _, t := range tables {
			id, _ := t["label"].(string)
			if id == "" {
				id, _ = t["name"].(string)
			}
			known = append(known, id)
			if id != label {
				continue
			}
			found = true
			for pk, pv := range ps {
				t[pk] = pv
				origin["algorithm."+label+"."+pk] = set
				origin[display([]string{"algorithm", label, pk})] = set
			}
		}
		if !found {
			return fmt.Errorf("no [[algorithm]] table is labelled %q%s (the sweep has %s)", label, didYouMean(label, known), strings.Join(known, ", "))
		}
	}
	return nil
}

// of returns the override that set key (or a table above it), if any.
func (o setOrigin) of(key string) (string, bool) {
	for k := key; k != ""; {
		if s, ok := o[k]; ok {
			return s, true
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return "", false
}
