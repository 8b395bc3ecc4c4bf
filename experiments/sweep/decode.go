package sweep

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Why not toml.Decode straight into the structs and MetaData.Undecoded()?
// Struct decoding stops at the first type error and reports it as an
// unstructured string without the file's name, so a user would fix one
// problem per run. Decoding into a generic map and walking it against the
// struct tags finds every unknown key, wrong type and bad range in one
// pass, with the exact key path (including which [[algorithm]] table),
// and the locator supplies the line. The walk is driven by the toml tags,
// so a field added to spec.go is accepted by the parser without more code.

// ParseFile reads and parses a sweep file; see Parse.
func ParseFile(path string) (*Sweep, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Reason: errReason(err)}
	}
	return Parse(data, path)
}

func errReason(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse parses and validates a sweep. file names the source in errors and
// anchors relative paths (task datasets, plugins, checkpoints) at its
// directory. On failure it returns nil and every problem it found, joined
// (use Errors to list them; each is an *Error). Parse validates every grid
// point of every algorithm, so a sweep that parses also expands. Decoding
// and validation errors are reported together.
func Parse(data []byte, file string) (*Sweep, error) {
	return parse(data, file, nil)
}

func parse(data []byte, file string, sets []string) (*Sweep, error) {
	if file == "" {
		file = "<sweep>"
	}
	el := &errList{file: file}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			el.add(pe.Position.Line, pe.LastKey, "syntax error: %s", pe.Message)
		} else {
			el.add(0, "", "syntax error: %v", err)
		}
		return nil, el.err()
	}
	if raw == nil {
		raw = map[string]any{}
	}
	el.origin = applySets(raw, sets, el)
	d := &decoder{errs: el, loc: locate(string(data)), set: map[string]bool{}}
	markSet(d.set, nil, raw)
	s := &Sweep{file: file, dir: filepath.Dir(file), loc: d.loc, set: d.set, grid: map[string]gridKey{}, sets: slices.Clone(sets)}
	d.sweep(raw, s)
	s.addControls(el)
	// One pass: validation runs even after decoding errors, so a misspelt
	// key does not hide a bad value elsewhere until the next run; the keys
	// that failed to decode are not reported again.
	el.freeze()
	s.validate(el)
	if err := el.err(); err != nil {
		return nil, err
	}
	return s, nil
}

type decoder struct {
	errs *errList
	loc  *locator
	set  map[string]bool // display keys present in the file
}

// display renders a path as a user reads it: toml's quoting, and "[n]"
// (1-based) for the n-th table of an array of tables.
func display(segs []string) string {
	var b strings.Builder
	for _, s := range segs {
		if strings.HasPrefix(s, "[") {
			n, _ := strconv.Atoi(strings.Trim(s, "[]"))
			fmt.Fprintf(&b, "[%d]", n+1)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(toml.Key{s}.String())
	}
	return b.String()
}

func (d *decoder) fail(segs []string, format string, args ...any) {
	d.errs.add(d.loc.lineOf(segs...), display(segs), format, args...)
}

func (d *decoder) sweep(raw map[string]any, s *Sweep) {
	v := reflect.ValueOf(s).Elem()
	for _, k := range sortedKeys(raw) {
		segs := []string{k}
		switch k {
		case "algorithm":
			d.algorithms(raw[k], s)
		case "sweep":
			d.grid(raw[k], s)
		case "select":
			d.selectTable(raw[k], s)
		default:
			f, ok := fieldByTag(v, k, true)
			if !ok {
				known := tagNames(v.Type(), true)
				d.fail(segs, "unknown key%s (known: %s)", didYouMean(k, known), strings.Join(known, ", "))
				continue
			}
			d.value(segs, raw[k], f)
		}
	}
}

func (d *decoder) algorithms(raw any, s *Sweep) {
	tables, ok := raw.([]map[string]any)
	if !ok {
		d.fail([]string{"algorithm"}, "want [[algorithm]] tables (an array of tables), got %s", describe(raw))
		return
	}
	for i, t := range tables {
		segs := []string{"algorithm", indexSeg(i)}
		a := AlgorithmSpec{Params: map[string]any{}, line: d.loc.lineOf(segs...), index: i}
		var bad []string // non-finite parameters
		for _, k := range sortedKeys(t) {
			a.lines = append(a.lines, paramLine{k, d.loc.lineOf(append(segs, k)...)})
			switch k {
			case "name", "label":
				str, ok := t[k].(string)
				if !ok {
					d.fail(append(segs, k), "want a string, got %s", describe(t[k]))
					continue
				}
				if k == "name" {
					a.Name = str
				} else {
					a.Label = str
					a.labelSet = true
				}
			default:
				// Checked here, at the parameter's line: factories decode
				// their parameters through JSON, which has no NaN or ±Inf.
				if f, ok := t[k].(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
					bad = append(bad, k)
					continue
				}
				a.Params[k] = t[k]
			}
		}
		for _, k := range bad {
			d.errs.add(a.paramLine(k), a.disp()+"."+k, "must be a finite number, got %v", t[k])
		}
		s.Algorithms = append(s.Algorithms, a)
	}
}

// grid reads [sweep]: dotted keys, quoted ("train.lr" = …) or as nested
// tables (train.lr = … without quotes), each mapped to a non-empty array.
func (d *decoder) grid(raw any, s *Sweep) {
	m, ok := raw.(map[string]any)
	if !ok {
		d.fail([]string{"sweep"}, "want a table of grid keys, got %s", describe(raw))
		return
	}
	s.Grid = map[string][]any{}
	d.gridKeys("sweep", m, s.Grid, s.grid)
}

// selectTable reads [select]: its settings (metric, seeds) and grid keys
// in the [sweep] form.
func (d *decoder) selectTable(raw any, s *Sweep) {
	m, ok := raw.(map[string]any)
	if !ok {
		d.fail([]string{"select"}, "want a table (metric, seeds and grid keys), got %s", describe(raw))
		return
	}
	keys := map[string]any{}
	settings := map[string]any{}
	for k, v := range m {
		if k == "metric" || k == "seeds" {
			settings[k] = v
		} else {
			keys[k] = v
		}
	}
	d.value([]string{"select"}, settings, reflect.ValueOf(&s.Select).Elem())
	s.Select.Grid = map[string][]any{}
	if s.selGrid == nil {
		s.selGrid = map[string]gridKey{}
	}
	d.gridKeys("select", keys, s.Select.Grid, s.selGrid)
}

// gridKeys walks a table of grid keys under the top-level table top.
func (d *decoder) gridKeys(top string, m map[string]any, out map[string][]any, where map[string]gridKey) {
	var walk func(segs []string, m map[string]any)
	walk = func(segs []string, m map[string]any) {
		for _, k := range sortedKeys(m) {
			ks := append(slices.Clone(segs), k)
			if sub, ok := m[k].(map[string]any); ok {
				walk(ks, sub)
				continue
			}
			key := strings.Join(ks[1:], ".")
			g := gridKey{key: key, disp: display(ks), line: d.loc.lineOf(ks...)}
			vals, ok := m[k].([]any)
			switch {
			case !ok:
				d.errs.add(g.line, g.disp, "want an array of values, got %s", describe(m[k]))
				continue
			case len(vals) == 0:
				d.errs.add(g.line, g.disp, "empty list of values")
				continue
			}
			if _, dup := out[key]; dup {
				d.errs.add(g.line, g.disp, "grid key %q given twice", key)
				continue
			}
			out[key] = vals
			where[key] = g
		}
	}
	walk([]string{top}, m)
}

// value decodes raw into v (a field of a spec struct) with strict types.
func (d *decoder) value(segs []string, raw any, v reflect.Value) {
	if reason := assign(v, raw, true, func(sub []string, reason string) { d.fail(append(slices.Clone(segs), sub...), "%s", reason) }); reason != "" {
		d.fail(segs, "%s", reason)
	}
}

// markSet records the display key of every value in the file, so that
// an explicit zero (weight_decay = 0) is told apart from an absent key.
func markSet(set map[string]bool, segs []string, raw any) {
	if len(segs) > 0 {
		set[display(segs)] = true
	}
	switch x := raw.(type) {
	case map[string]any:
		for k, v := range x {
			markSet(set, append(slices.Clone(segs), k), v)
		}
	case []map[string]any:
		for i, v := range x {
			markSet(set, append(slices.Clone(segs), indexSeg(i)), v)
		}
	}
}

// assign stores raw (a value from the toml decoder) into v, returning a
// reason when its type does not fit; nested problems (inside tables and
// arrays) go to sub with the relative path.
//
// In a sweep file (inSweep) the fields tagged sweep:"resolved", which
// Expand computes, are unknown keys; a trial's config.toml has them.
func assign(v reflect.Value, raw any, inSweep bool, sub func(segs []string, reason string)) string {
	switch v.Kind() {
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			return "want a string, got " + describe(raw)
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			return "want true or false, got " + describe(raw)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, ok := raw.(int64)
		if !ok {
			return "want an integer, got " + describe(raw)
		}
		if v.OverflowInt(n) {
			return fmt.Sprintf("%d is out of range", n)
		}
		v.SetInt(n)
	case reflect.Uint64:
		n, ok := raw.(int64)
		if !ok {
			return "want a non-negative integer, got " + describe(raw)
		}
		if n < 0 {
			return fmt.Sprintf("must be ≥ 0, got %d", n)
		}
		v.SetUint(uint64(n))
	case reflect.Float64:
		var f float64
		switch x := raw.(type) {
		case float64:
			f = x
		case int64:
			f = float64(x)
		default:
			return "want a number, got " + describe(raw)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprintf("must be finite, got %v", f)
		}
		v.SetFloat(f)
	case reflect.Slice:
		return assignSlice(v, raw, inSweep, sub)
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return "want a table, got " + describe(raw)
		}
		for _, k := range sortedKeys(m) {
			f, ok := fieldByTag(v, k, inSweep)
			if !ok {
				known := tagNames(v.Type(), inSweep)
				sub([]string{k}, "unknown key"+didYouMean(k, known)+" (known: "+strings.Join(known, ", ")+")")
				continue
			}
			inner := func(s []string, reason string) { sub(append([]string{k}, s...), reason) }
			if r := assign(f, m[k], inSweep, inner); r != "" {
				sub([]string{k}, r)
			}
		}
	case reflect.Map:
		m, ok := raw.(map[string]any)
		if !ok {
			return "want a table, got " + describe(raw)
		}
		out := reflect.MakeMapWithSize(v.Type(), len(m))
		for _, k := range sortedKeys(m) {
			ev := reflect.New(v.Type().Elem()).Elem()
			if v.Type().Elem().Kind() == reflect.Interface {
				ev.Set(reflect.ValueOf(m[k]))
			} else if r := assign(ev, m[k], inSweep, func(s []string, reason string) { sub(append([]string{k}, s...), reason) }); r != "" {
				sub([]string{k}, r)
				continue
			}
			out.SetMapIndex(reflect.ValueOf(k), ev)
		}
		v.Set(out)
	default:
		return fmt.Sprintf("cannot decode into %s", v.Type()) // a spec.go field of an unsupported kind
	}
	return ""
}

func assignSlice(v reflect.Value, raw any, inSweep bool, sub func([]string, string)) string {
	var items []any
	switch x := raw.(type) {
	case []any:
		items = x
	case []map[string]any:
		for _, m := range x {
			items = append(items, m)
		}
	default:
		return "want an array, got " + describe(raw)
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, it := range items {
		seg := indexSeg(i)
		inner := func(s []string, reason string) { sub(append([]string{seg}, s...), reason) }
		if r := assign(out.Index(i), it, inSweep, inner); r != "" {
			sub([]string{seg}, r)
		}
	}
	v.Set(out)
	return ""
}

// describe names a decoded TOML value's type and shows it briefly.
func describe(raw any) string {
	switch x := raw.(type) {
	case string:
		s := x
		if len(s) > 40 {
			s = s[:37] + "..."
		}
		return "string " + strconv.Quote(s)
	case int64:
		return fmt.Sprintf("integer %d", x)
	case float64:
		return "float " + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date/time"
	case nil:
		return "nothing"
	}
	return fmt.Sprintf("%T", raw)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// fieldByTag finds the exported field of struct v whose toml tag is name
// (in a sweep file, not one that Expand computes).
func fieldByTag(v reflect.Value, name string, inSweep bool) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if inSweep && t.Field(i).Tag.Get("sweep") == "resolved" {
			continue
		}
		if tagName(t.Field(i)) == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func tagName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if tag == "-" {
		return ""
	}
	return tag
}

// tagNames lists the keys a struct accepts, in declaration order.
func tagNames(t reflect.Type, inSweep bool) []string {
	var out []string
	for i := range t.NumField() {
		if inSweep && t.Field(i).Tag.Get("sweep") == "resolved" {
			continue
		}
		if n := tagName(t.Field(i)); n != "" {
			out = append(out, n)
		}
	}
	return out
}
