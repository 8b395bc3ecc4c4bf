package report

import (
	"github.com/grao-lab/grao/core"

	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/grao-lab/grao/algorithms"
)

// Required columns of results.csv, in the order the runner writes them.
var requiredColumns = []string{"trial", "task", "model", "algorithm", "seed", "metric", "value"}

// AblationColumn is the optional column that names the removed GRAO component
// of an ablation trial ("no-imitation", "exploration", ...; empty, "none" or
// "full" for the full method). It is not treated as a hyper-parameter.
const AblationColumn = "ablation"

// ControlColumn and ControlOfColumn are the optional columns that mark a
// control arm ("base", "sft-ref", "random-reward") and, for a
// random-reward arm, the label of the algorithm it controls. Neither is a
// hyper-parameter.
const (
	ControlColumn   = "control"
	ControlOfColumn = "control_of"
)

// ParseError is a problem with one place of a results file; its Key is
// the column at fault, when one is.
type ParseError = core.InputError

// Row is one trial × metric measurement.
type Row struct {
	Line      int // line in the file, for messages
	Trial     string
	Task      string
	Model     string
	Algorithm string // as written in the algorithm column
	Ablation  string // canonical removed part ("imitation", ...) or "" for none
	Control   string // control arm kind, "" for none (ControlColumn)
	ControlOf string // the label a random-reward arm controls
	Seed      int64
	Metric    string
	Value     float64
	Params    []string // values of Results.Params, same order
}

// Results is a validated results.csv.
type Results struct {
	File   string
	Params []string // extra columns (hyper-parameters), in file order
	Rows   []Row
}

// ReadFile reads and validates a results.csv from disk.
func ReadFile(path string) (*Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads and validates results in the long format. name is used in
// error messages. Lines starting with '#' are comments (handy in
// hand-written files); fields are trimmed of surrounding spaces.
func Read(r io.Reader, name string) (*Results, error) {
	perr := func(line int, col, format string, args ...any) error {
		return &ParseError{File: name, Line: line, Key: col, Reason: fmt.Sprintf(format, args...)}
	}
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = 0 // every record must have as many fields as the header
	cr.ReuseRecord = false

	header, err := cr.Read()
	if err == io.EOF {
		return nil, perr(0, "", "empty file: expected a header with columns %s", strings.Join(requiredColumns, ","))
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	headerLine, _ := cr.FieldPos(0)
	idx := map[string]int{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // spreadsheet exports add a BOM
		}
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, perr(headerLine, "", "header column %d has an empty name", i+1)
		}
		if _, dup := idx[h]; dup {
			return nil, perr(headerLine, h, "duplicate column in header")
		}
		idx[h] = i
		header[i] = h
	}
	for _, c := range requiredColumns {
		if _, ok := idx[c]; !ok {
			return nil, perr(headerLine, c, "missing required column (need %s)", strings.Join(requiredColumns, ","))
		}
	}
	res := &Results{File: name}
	ablIdx, hasAbl := idx[AblationColumn]
	var paramIdx []int
	for i, h := range header {
		if !isRequired(h) && h != AblationColumn && h != ControlColumn && h != ControlOfColumn {
			res.Params = append(res.Params, h)
			paramIdx = append(paramIdx, i)
		}
	}

	type trialInfo struct {
		line int
		key  string // task, model, algorithm, ablation, seed, params joined
	}
	trials := map[string]trialInfo{}
	seen := map[[2]string]int{}         // (trial, metric) -> line
	seedOwner := map[string]trialInfo{} // configuration+seed key -> first trial
	seedTrial := map[string]string{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		get := func(c string) string { return strings.TrimSpace(rec[idx[c]]) }
		for _, c := range requiredColumns {
			if get(c) == "" {
				return nil, perr(line, c, "empty value in required column")
			}
		}
		row := Row{
			Line: line, Trial: get("trial"), Task: get("task"), Model: get("model"),
			Algorithm: get("algorithm"), Metric: get("metric"),
		}
		seed, err := strconv.ParseInt(get("seed"), 10, 64)
		if err != nil {
			return nil, perr(line, "seed", "seed %q is not an integer", get("seed"))
		}
		row.Seed = seed
		v, err := strconv.ParseFloat(get("value"), 64)
		if err != nil {
			return nil, perr(line, "value", "value %q is not a number", get("value"))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			// An undefined metric should be left out of the file, not written
			// as NaN: a NaN would silently poison every mean it enters.
			return nil, perr(line, "value", "value %q is not a finite number (omit the row for an undefined metric)", get("value"))
		}
		row.Value = v
		if hasAbl {
			a, err := canonicalAblation(strings.TrimSpace(rec[ablIdx]))
			if err != nil {
				return nil, perr(line, AblationColumn, "%v", err)
			}
			row.Ablation = a
		}
		if row.Ablation == "" {
			// "grao-no-imitation" in the algorithm column means the same as
			// algorithm "grao" with ablation "imitation".
			if base, part, ok := splitAblationName(row.Algorithm); ok {
				row.Algorithm, row.Ablation = base, part
			}
		}
		for _, i := range paramIdx {
			row.Params = append(row.Params, strings.TrimSpace(rec[i]))
		}
		if i, ok := idx[ControlColumn]; ok {
			row.Control = strings.TrimSpace(rec[i])
		}
		if i, ok := idx[ControlOfColumn]; ok {
			row.ControlOf = strings.TrimSpace(rec[i])
		}

		mk := [2]string{row.Trial, row.Metric}
		if prev, dup := seen[mk]; dup {
			return nil, perr(line, "metric", "duplicate (trial %q, metric %q): already on line %d", row.Trial, row.Metric, prev)
		}
		seen[mk] = line

		cfg := strings.Join(append([]string{row.Task, row.Model, row.Algorithm, row.Ablation}, row.Params...), "\x00")
		key := cfg + "\x00" + strconv.FormatInt(row.Seed, 10)
		if t, ok := trials[row.Trial]; ok {
			if t.key != key {
				return nil, perr(line, "trial", "trial %q has a different task/model/algorithm/seed/hyper-parameters than on line %d", row.Trial, t.line)
			}
		} else {
			trials[row.Trial] = trialInfo{line, key}
			if o, ok := seedOwner[key]; ok {
				// Two trials with the same configuration and seed cannot be
				// told apart by a paired test; usually a varying
				// hyper-parameter is missing from the columns.
				return nil, perr(line, "seed", "trial %q repeats seed %d of trial %q (line %d) with the same task/model/algorithm/hyper-parameters; add the column that differs", row.Trial, row.Seed, seedTrial[key], o.line)
			}
			seedOwner[key] = trialInfo{line, key}
			seedTrial[key] = row.Trial
		}
		res.Rows = append(res.Rows, row)
	}
	if len(res.Rows) == 0 {
		return nil, perr(0, "", "no data rows")
	}
	return res, nil
}

func isRequired(c string) bool {
	for _, r := range requiredColumns {
		if r == c {
			return true
		}
	}
	return false
}

// csvError turns encoding/csv's error (which already knows the line) into a
// ParseError.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		reason := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			reason = "wrong number of fields (must match the header)"
		}
		return &ParseError{File: name, Line: pe.Line, Reason: reason}
	}
	return &ParseError{File: name, Reason: err.Error()}
}

// Canonical ablation parts, in the paper's Table 3 order.
var ablationOrder = []string{"imitation", "exploration", "regularizer"}

// canonicalAblation normalises an ablation column value: "" / none / full ⇒
// "", and "no-imitation", "no_imitation", "without-imitation", "imitation" ⇒
// "imitation"; British "regulariser" ⇒ "regularizer".
func canonicalAblation(v string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	switch s {
	case "", "none", "full":
		return "", nil
	}
	for _, p := range []string{"no-", "no_", "without-", "without_", "w/o-", "w/o "} {
		s = strings.TrimPrefix(s, p)
	}
	s = strings.ReplaceAll(s, "regulariser", "regularizer")
	if s == "" || strings.ContainsAny(s, " \t,") {
		return "", fmt.Errorf("ablation %q: want empty, none, full or the removed part (e.g. no-imitation)", v)
	}
	return s, nil
}

// splitAblationName splits "grao-no-imitation" into ("grao", "imitation")
// (algorithms.SplitAblation) with the part in its canonical spelling.
func splitAblationName(alg string) (base, part string, ok bool) {
	base, raw, ok := algorithms.SplitAblation(alg)
	if !ok {
		return "", "", false
	}
	p, err := canonicalAblation(raw)
	if err != nil || p == "" {
		return "", "", false
	}
	return base, p, true
}
