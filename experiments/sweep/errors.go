package sweep

import (
	"github.com/grao-lab/grao/core"

	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem with a sweep or trial file, "file:line: key:
// reason" (the line is omitted when unknown, e.g. for a default value that
// turns out invalid in combination with another key; the key is dotted as
// written, e.g. train.steps, sweep."train.lr", algorithm.grao.beta).
type Error = core.InputError

// Errors lists the *Error values inside err (as returned by Parse, Expand
// or DecodeTrial, which join every problem they find), in file order.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		walk(errors.Unwrap(err))
	}
	walk(err)
	return out
}

// errList collects problems; every function that validates appends to one
// so that a user sees all of them at once, not one per run.
type errList struct {
	file string
	errs []*Error
	// decoded holds the keys whose decoding failed: validation, which
	// still runs so that one pass reports every problem, sees their zero
	// values and must not report them a second time.
	decoded map[string]bool
	// origin names the --set overrides: a problem with a key one of them
	// set is reported against the override, not a line of the file.
	origin setOrigin
}

func (l *errList) add(line int, key, format string, args ...any) {
	if l.decoded[key] {
		return
	}
	file := l.file
	if set, ok := l.origin.of(key); ok {
		file, line = "--set "+set, 0
	}
	l.errs = append(l.errs, &Error{File: file, Line: line, Key: key, Reason: fmt.Sprintf(format, args...)})
}

// freeze marks every key with an error so far as decoded (see decoded).
func (l *errList) freeze() {
	l.decoded = map[string]bool{}
	for _, e := range l.errs {
		l.decoded[e.Key] = true
	}
}

// err returns nil or the problems joined, sorted by line then key, without
// duplicates (the same bad grid value can fail in many grid points).
func (l *errList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	es := slices.Clone(l.errs)
	slices.SortStableFunc(es, func(a, b *Error) int {
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	es = slices.CompactFunc(es, func(a, b *Error) bool { return *a == *b })
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return errors.Join(out...)
}

// didYouMean returns ` (did you mean "x"?)` for the known name closest to
// s by edit distance, when it is close enough to be a likely typo (at most
// a third of its length, and at least 1, edits), else "".
func didYouMean(s string, known []string) string {
	best, bestD := "", -1
	for _, k := range known {
		d := editDistance(strings.ToLower(s), strings.ToLower(k))
		if d == 0 && s == k {
			return ""
		}
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD < 0 || bestD > max(1, len([]rune(best))/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the optimal-string-alignment distance between a and b
// in runes: insertions, deletions, substitutions and transpositions of
// neighbours ("stesp" → "steps") each count 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
