// Package contract checks a core.Reward against the reward contract. The
// rewardtest package runs it from tests, and plugins.Check from
// `bench plugin check`, so the two cannot drift apart.
package contract

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/grao-lab/grao/core"
)

var knownReads = map[string]bool{"prompt": true, "completion": true, "reference": true, "meta": true}

// Check checks r against the core.Reward contract on items and
// returns every violation found (none: r conforms) and notes worth
// showing that are not violations. Use at least a few items, some of them
// not applicable if the reward has that case. It checks, in order: the
// description (name, version, bounds, known Reads fields); one score per
// item and an empty batch giving no scores; values finite and, for
// applicable items, within the declared bounds (not applicable ⇒ value
// 0); determinism when declared (same batch twice, and the batch
// reversed); that scoring each item alone gives the batch's result (for
// deterministic rewards); that items, including nested Meta values, are
// unchanged afterwards (deep copy compare); and that an already cancelled
// context gives an error.
func Check(ctx context.Context, r core.Reward, items []core.RewardItem) (problems, notes []string) {
	errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(items) == 0 {
		return []string{"no items given"}, nil
	}
	info := r.Describe()
	name := info.Name
	if info.Name == "" {
		errorf("Describe: empty Name")
		name = fmt.Sprintf("%T", r)
	}
	if info.Version == "" {
		errorf("%s: Describe: empty Version", name)
	}
	if math.IsNaN(info.Min) || math.IsNaN(info.Max) || info.Min > info.Max {
		errorf("%s: Describe: bad bounds [%v, %v]", name, info.Min, info.Max)
	}
	for _, f := range info.Reads {
		if !knownReads[f] {
			errorf("%s: Describe: unknown Reads field %q (want prompt, completion, reference, meta)", name, f)
		}
	}
	bounded := info.Min != 0 || info.Max != 0

	orig := cloneItems(items)

	// One score per item; an empty batch is fine.
	batch, err := r.Score(ctx, items)
	if err != nil {
		errorf("%s: Score: %v", name, err)
		return problems, notes
	}
	if len(batch) != len(items) {
		errorf("%s: Score returned %d scores for %d items", name, len(batch), len(items))
		return problems, notes
	}
	if s, err := r.Score(ctx, nil); err != nil || len(s) != 0 {
		errorf("%s: Score(empty batch) = %d scores, %v; want 0 scores, nil", name, len(s), err)
	}

	// Values.
	for i, s := range batch {
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			errorf("%s: item %d: value %v is not finite", name, i, s.Value)
			continue
		}
		if !s.Applicable {
			if s.Value != 0 {
				errorf("%s: item %d: not applicable but value %v (want 0)", name, i, s.Value)
			}
			continue
		}
		if bounded && (s.Value < info.Min || s.Value > info.Max) {
			errorf("%s: item %d: value %v outside declared bounds [%v, %v]", name, i, s.Value, info.Min, info.Max)
		}
	}

	if info.Deterministic {
		again, err := r.Score(ctx, items)
		if err != nil {
			errorf("%s: second Score: %v", name, err)
			return problems, notes
		}
		problems = append(problems, compare(name, "second call", batch, again)...)

		rev := make([]core.RewardItem, len(items))
		for i := range items {
			rev[len(items)-1-i] = items[i]
		}
		rs, err := r.Score(ctx, rev)
		if err != nil {
			errorf("%s: Score(reversed): %v", name, err)
			return problems, notes
		}
		if len(rs) == len(items) {
			unrev := make([]core.Score, len(rs))
			for i := range rs {
				unrev[len(rs)-1-i] = rs[i]
			}
			problems = append(problems, compare(name, "reversed batch", batch, unrev)...)
		}

		single := make([]core.Score, len(items))
		for i := range items {
			s, err := r.Score(ctx, items[i:i+1])
			if err != nil {
				errorf("%s: Score(item %d alone): %v", name, i, err)
				return problems, notes
			}
			if len(s) != 1 {
				errorf("%s: Score(item %d alone) returned %d scores", name, i, len(s))
				return problems, notes
			}
			single[i] = s[0]
		}
		problems = append(problems, compare(name, "items scored one by one", batch, single)...)
	}

	if !reflect.DeepEqual(orig, items) {
		for i := range items {
			if !reflect.DeepEqual(orig[i], items[i]) {
				errorf("%s: item %d was modified:\n before %#v\n after  %#v", name, i, orig[i], items[i])
			}
		}
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if s, err := r.Score(cctx, items); err == nil {
		errorf("%s: Score with a cancelled context returned %d scores and no error", name, len(s))
	} else if !errors.Is(err, context.Canceled) {
		// Allowed (a remote reward may translate the error), but worth a note.
		notes = append(notes, fmt.Sprintf("%s: cancelled context gave %v (does not wrap context.Canceled)", name, err))
	}
	return problems, notes
}

func compare(name, what string, want, got []core.Score) []string {
	if len(got) != len(want) {
		return []string{fmt.Sprintf("%s: %s: %d scores, want %d", name, what, len(got), len(want))}
	}
	var out []string
	for i := range want {
		if got[i].Applicable != want[i].Applicable || !sameFloat(got[i].Value, want[i].Value) {
			out = append(out, fmt.Sprintf("%s: %s: item %d = (%v, applicable=%t), batch gave (%v, applicable=%t)",
				name, what, i, got[i].Value, got[i].Applicable, want[i].Value, want[i].Applicable))
		}
	}
	return out
}

func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func cloneItems(items []core.RewardItem) []core.RewardItem {
	out := make([]core.RewardItem, len(items))
	for i, it := range items {
		out[i] = it
		if it.Meta != nil {
			out[i].Meta = deepCopy(reflect.ValueOf(it.Meta)).Interface().(map[string]any)
		}
	}
	return out
}

// deepCopy copies maps, slices, arrays, pointers and interfaces
// recursively, so a reward that writes into a nested Meta value is caught.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			m.SetMapIndex(iter.Key(), deepCopy(iter.Value()))
		}
		return m
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			s.Index(i).Set(deepCopy(v.Index(i)))
		}
		return s
	case reflect.Array:
		a := reflect.New(v.Type()).Elem()
		for i := 0; i < v.Len(); i++ {
			a.Index(i).Set(deepCopy(v.Index(i)))
		}
		return a
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(deepCopy(v.Elem()))
		return p
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		c := deepCopy(v.Elem())
		out := reflect.New(v.Type()).Elem()
		out.Set(c)
		return out
	}
	return v
}
