package algotest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms/kit"
)

// Tolerance bounds |got − want| ≤ Abs + Rel·|want|.
type Tolerance struct {
	Abs float64 `json:"abs"`
	Rel float64 `json:"rel"`
}

// DefaultTolerance is used when a vector gives none: tight enough to catch a
// wrong formula, loose enough for an independent float64 implementation.
var DefaultTolerance = Tolerance{Abs: 1e-9, Rel: 1e-7}

// Vector is one test vector.
type Vector struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Source      string          `json:"source"`
	Algorithm   string          `json:"algorithm"`
	Params      json.RawMessage `json:"params"`
	Inputs      json.RawMessage `json:"inputs"`
	// Expected maps a result key ("loss", "grad", "components", …) to its
	// expected value; "error" instead asks for a failure whose message
	// contains the given text.
	Expected  map[string]json.RawMessage `json:"expected"`
	Tolerance *Tolerance                 `json:"tolerance"`

	// File is where the vector was loaded from ("" when built in code).
	File string `json:"-"`
}

// Func evaluates one algorithm: decode params (over the defaults) and inputs,
// run the loss, return the result as a JSON-marshalable value.
type Func func(params, inputs json.RawMessage) (any, error)

// lossAlgorithms must produce "loss" and "grad"; vectors for them must check both.
var (
	funcs          = map[string]Func{}
	lossAlgorithms = map[string]bool{}
)

// Register adds an algorithm to the dispatcher. isLoss marks algorithms whose
// vectors must give an expected loss and gradient.
func Register(name string, isLoss bool, f Func) {
	if _, dup := funcs[name]; dup {
		panic("algotest: duplicate algorithm " + name)
	}
	funcs[name] = f
	lossAlgorithms[name] = isLoss
}

// Algorithms lists the registered algorithm names.
func Algorithms() []string {
	names := make([]string, 0, len(funcs))
	for n := range funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// decodeStrict decodes raw into v, refusing unknown keys; an empty raw leaves v as is.
func decodeStrict(what string, raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if dec.More() {
		return fmt.Errorf("%s: trailing data after the object", what)
	}
	return nil
}

// Plain adapts a loss function of the usual shape — defaults, then
// Loss(Input, Params) (Result, error) — to a Func: params are decoded over
// the defaults, inputs strictly, and the result is compared field by field
// through its JSON names.
func Plain[P, I, R any](def func() P, loss func(I, P) (R, error)) Func {
	return func(params, inputs json.RawMessage) (any, error) {
		p := def()
		if err := decodeStrict("params", params, &p); err != nil {
			return nil, err
		}
		var in I
		if err := decodeStrict("inputs", inputs, &in); err != nil {
			return nil, err
		}
		return loss(in, p)
	}
}

// klInput and klResult are the "kl" pseudo-algorithm: per-token estimators.
type klInput struct {
	LogP    []float64 `json:"logp"`
	RefLogP []float64 `json:"ref_logp"`
}

type klResult struct {
	K1 []float64 `json:"k1"`
	K2 []float64 `json:"k2"`
	K3 []float64 `json:"k3"`
}

func klFunc(params, inputs json.RawMessage) (any, error) {
	var none struct{}
	if err := decodeStrict("params", params, &none); err != nil {
		return nil, err
	}
	var in klInput
	if err := decodeStrict("inputs", inputs, &in); err != nil {
		return nil, err
	}
	if len(in.LogP) != len(in.RefLogP) {
		return nil, fmt.Errorf("inputs: logp has %d entries but ref_logp has %d", len(in.LogP), len(in.RefLogP))
	}
	var r klResult
	for i := range in.LogP {
		r.K1 = append(r.K1, kit.K1(in.LogP[i], in.RefLogP[i]))
		r.K2 = append(r.K2, kit.K2(in.LogP[i], in.RefLogP[i]))
		r.K3 = append(r.K3, kit.K3(in.LogP[i], in.RefLogP[i]))
	}
	return r, nil
}

func init() {
	// The KL estimators are shared by every algorithm: their vectors run
	// wherever the suite does.
	Register("kl", false, klFunc)
}

// LoadVectors reads every *.json file of dir (sorted by name). A file holds
// one vector object or an array of them. Errors name the file and, for
// malformed JSON, the line.
func LoadVectors(dir string) ([]Vector, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Vector
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		vs, err := ParseVectors(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for i := range vs {
			vs[i].File = f
			if vs[i].Name == "" {
				vs[i].Name = strings.TrimSuffix(filepath.Base(f), ".json")
				if len(vs) > 1 {
					vs[i].Name += fmt.Sprintf("#%d", i)
				}
			}
		}
		out = append(out, vs...)
	}
	return out, nil
}

// ParseVectors decodes one file's content: a vector object or an array of
// them. Unknown keys are errors; errors name the vector and the line in data.
func ParseVectors(data []byte) ([]Vector, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("empty file")
	}
	// starts[i] is the byte offset of vector i in data, for line numbers.
	var raws []json.RawMessage
	var starts []int64
	if trimmed[0] == '[' {
		dec := json.NewDecoder(bytes.NewReader(data))
		if _, err := dec.Token(); err != nil {
			return nil, withLine(data, 0, err)
		}
		for dec.More() {
			off := skipSep(data, dec.InputOffset())
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, withLine(data, 0, err)
			}
			raws, starts = append(raws, raw), append(starts, off)
		}
		if _, err := dec.Token(); err != nil {
			return nil, withLine(data, 0, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("trailing data after the array")
		}
	} else {
		raws = []json.RawMessage{data}
		starts = []int64{0}
	}
	vs := make([]Vector, len(raws))
	for i, raw := range raws {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&vs[i]); err != nil {
			return nil, fmt.Errorf("vector %d: %w", i, withLine(data, starts[i], err))
		}
		if dec.More() {
			return nil, fmt.Errorf("vector %d: trailing data after the object", i)
		}
		if err := vs[i].validate(); err != nil {
			return nil, fmt.Errorf("vector %d (%q, line %d): %w", i, vs[i].Name, lineAt(data, starts[i]), err)
		}
	}
	return vs, nil
}

// skipSep moves off past white space and commas to the next value.
func skipSep(data []byte, off int64) int64 {
	for off < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n,"), data[off]) >= 0 {
		off++
	}
	return off
}

func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

func (v Vector) validate() error {
	if v.Algorithm == "" {
		return errors.New(`missing key "algorithm"`)
	}
	if _, ok := funcs[v.Algorithm]; !ok {
		return fmt.Errorf("algorithm %q is unknown (known: %s)", v.Algorithm, strings.Join(Algorithms(), ", "))
	}
	if len(v.Expected) == 0 {
		return errors.New(`missing key "expected"`)
	}
	if _, isErr := v.Expected["error"]; isErr {
		if len(v.Expected) > 1 {
			return errors.New(`"expected" with "error" must have no other keys`)
		}
		return nil
	}
	if lossAlgorithms[v.Algorithm] {
		for _, k := range []string{"loss", "grad"} {
			if _, ok := v.Expected[k]; !ok {
				return fmt.Errorf(`missing key "expected.%s"`, k)
			}
		}
	}
	if t := v.Tolerance; t != nil && (!(t.Abs >= 0) || !(t.Rel >= 0)) {
		return fmt.Errorf("tolerance must be ≥ 0 (abs %v, rel %v)", t.Abs, t.Rel)
	}
	return nil
}

// withLine adds the line number (in data, for a value starting at base) to
// JSON syntax and type errors.
func withLine(data []byte, base int64, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("line %d: %w", lineAt(data, base+se.Offset), err)
	case errors.As(err, &te):
		return fmt.Errorf("line %d: %w", lineAt(data, base+te.Offset), err)
	}
	return err
}

// Evaluate runs the vector's algorithm and returns its result as decoded
// JSON (maps, slices, float64).
func Evaluate(v Vector) (any, error) {
	f, ok := funcs[v.Algorithm]
	if !ok {
		return nil, fmt.Errorf("algorithm %q is unknown", v.Algorithm)
	}
	res, err := f(v.Params, v.Inputs)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("result cannot be encoded (NaN or Inf?): %w", err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Check evaluates the vector and returns one message per mismatch (nil when
// it passes). A message names the path of the value, e.g.
// "expected.grad.logp[1][0]: got … want …".
func Check(v Vector) []string {
	got, err := Evaluate(v)
	if raw, wantErr := v.Expected["error"]; wantErr {
		var sub string
		if e := json.Unmarshal(raw, &sub); e != nil {
			return []string{fmt.Sprintf(`expected.error: must be a string: %v`, e)}
		}
		if err == nil {
			return []string{fmt.Sprintf("expected an error containing %q, got none", sub)}
		}
		if !strings.Contains(err.Error(), sub) {
			return []string{fmt.Sprintf("expected an error containing %q, got %q", sub, err)}
		}
		return nil
	}
	if err != nil {
		return []string{err.Error()}
	}
	tol := DefaultTolerance
	if v.Tolerance != nil {
		tol = *v.Tolerance
	}
	gotMap, _ := got.(map[string]any)
	keys := make([]string, 0, len(v.Expected))
	for k := range v.Expected {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var msgs []string
	for _, k := range keys {
		var want any
		if err := json.Unmarshal(v.Expected[k], &want); err != nil {
			msgs = append(msgs, fmt.Sprintf("expected.%s: %v", k, err))
			continue
		}
		g, ok := gotMap[k]
		if !ok {
			msgs = append(msgs, fmt.Sprintf("expected.%s: the algorithm produces no %q", k, k))
			continue
		}
		msgs = compare("expected."+k, g, want, tol, msgs)
	}
	return msgs
}

// compare walks want (a subset of got) and appends mismatches.
func compare(path string, got, want any, tol Tolerance, msgs []string) []string {
	const maxMsgs = 20
	if len(msgs) >= maxMsgs {
		return msgs
	}
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		if !ok {
			return append(msgs, fmt.Sprintf("%s: got %T, want a number", path, got))
		}
		if d := math.Abs(g - w); !(d <= tol.Abs+tol.Rel*math.Abs(w)) {
			return append(msgs, fmt.Sprintf("%s: got %.12g, want %.12g (|diff| %.3g > abs %g + rel %g·|want|)", path, g, w, d, tol.Abs, tol.Rel))
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return append(msgs, fmt.Sprintf("%s: got %T, want an array", path, got))
		}
		if len(g) != len(w) {
			return append(msgs, fmt.Sprintf("%s: got %d elements, want %d", path, len(g), len(w)))
		}
		for i := range w {
			msgs = compare(fmt.Sprintf("%s[%d]", path, i), g[i], w[i], tol, msgs)
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return append(msgs, fmt.Sprintf("%s: got %T, want an object", path, got))
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				msgs = append(msgs, fmt.Sprintf("%s.%s: not produced by the algorithm", path, k))
				continue
			}
			msgs = compare(path+"."+k, gv, w[k], tol, msgs)
		}
	default:
		return append(msgs, fmt.Sprintf("%s: unsupported expected value %v (want numbers, arrays, objects)", path, want))
	}
	return msgs
}

// RunVectors loads every vector in dir and checks each in its own subtest
// (named after the vector). It fails when the folder holds no vector.
func RunVectors(t *testing.T, dir string) {
	t.Helper()
	vs, err := LoadVectors(dir)
	if err != nil {
		t.Fatalf("loading vectors: %v", err)
	}
	if len(vs) == 0 {
		t.Fatalf("no *.json vectors in %s", dir)
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			for _, m := range Check(v) {
				t.Errorf("%s: %s", filepath.Base(v.File), m)
			}
		})
	}
}
