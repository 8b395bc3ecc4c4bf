package plots

import (
	"github.com/grao-lab/grao/core"

	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/experiments/report"
)

// ParseError is bad input in a sweep directory: it names the file, the line
// (0 when not tied to one), the key at fault (when one is) and the reason.
type ParseError = core.InputError

// NotSweepError means the directory holds none of results.csv, plan.json
// and runs/, so it cannot be a sweep output directory.
type NotSweepError struct{ Dir string }

func (e *NotSweepError) Error() string {
	return fmt.Sprintf("%s is not a sweep directory: it has none of results.csv, plan.json, runs/", e.Dir)
}

// trainPoint is one training line of metrics.jsonl.
type trainPoint struct {
	Step       int
	Loss       float64
	Components map[string]float64
	Values     map[string]float64 // reward_mean, kl, entropy, length_mean, grad_norm, zero_variance, ...
}

// evalPoint is one evaluation line of metrics.jsonl.
type evalPoint struct {
	Step    int
	Metrics map[string]float64
}

// trial is everything known about one trial, merged from plan.json,
// results.csv, eval.json, metrics.jsonl and (as a last resort for task and
// model) config.toml.
type trial struct {
	ID, Label, Task, Model string
	Seed                   int64
	HasSeed                bool
	Params                 map[string]string // hyper-parameters that vary in the sweep
	Final                  map[string]float64
	Train                  []trainPoint
	Evals                  []evalPoint
	Rewards, Scores        []float64
}

// sweepData is a loaded sweep directory.
type sweepData struct {
	Dir    string
	Name   string
	Trials []*trial // in plan order, then directory order, then results.csv order
	Params []string // hyper-parameter keys seen anywhere, sorted
	notes  []Note
}

type planFile struct {
	Sweep  string      `json:"sweep"`
	Trials []planTrial `json:"trials"`
}

type planTrial struct {
	ID        string         `json:"id"`
	Label     string         `json:"label"`
	Algorithm string         `json:"algorithm"`
	Seed      *json.Number   `json:"seed"`
	Varying   map[string]any `json:"varying"`
	BaseKey   string         `json:"base_key"`
	Task      string         `json:"task"`  // optional
	Model     string         `json:"model"` // optional
}

type evalFile struct {
	Trial     string             `json:"trial"`
	Task      string             `json:"task"`
	Model     string             `json:"model"`
	Algorithm string             `json:"algorithm"`
	Seed      *json.Number       `json:"seed"`
	Metrics   map[string]float64 `json:"metrics"`
	Rewards   []float64          `json:"rewards"`
	Scores    []float64          `json:"scores"`
	// Split is "dev" for the trials of a [select] phase, which the
	// figures leave out (they chose hyper-parameters; they are not
	// results).
	Split string `json:"split"`
}

// metricsLine is the union of training and evaluation lines.
type metricsLine struct {
	Step       *int               `json:"step"`
	Loss       *float64           `json:"loss"`
	Components map[string]float64 `json:"components"`
	Eval       map[string]float64 `json:"eval"`
	RewardMean *float64           `json:"reward_mean"`
	RewardStd  *float64           `json:"reward_std"`
	KL         *float64           `json:"kl"`
	Entropy    *float64           `json:"entropy"`
	LengthMean *float64           `json:"length_mean"`
	GradNorm   *float64           `json:"grad_norm"`
	LR         *float64           `json:"lr"`
	// Group diagnostics of online algorithms (core/trainer.StepLog);
	// groups_kept and rollout_rounds only with dynamic sampling.
	ZeroVar *float64 `json:"zero_variance"`
	AllLose *float64 `json:"all_lose"`
	AllWin  *float64 `json:"all_win"`
	Kept    *float64 `json:"groups_kept"`
	Rounds  *float64 `json:"rollout_rounds"`
	// Model holds the engine's own losses and metrics (a mixture of
	// experts' balance loss and expert shares).
	Model map[string]float64 `json:"model"`
}

// parseMetricsLine parses one non-blank line of metrics.jsonl. It returns
// isEval and the parsed point, or an error whose text names the key.
func parseMetricsLine(b []byte) (tp trainPoint, ep evalPoint, isEval bool, key string, err error) {
	var m metricsLine
	if err := json.Unmarshal(b, &m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return tp, ep, false, te.Field, fmt.Errorf("want a %s, got JSON %s", te.Type, te.Value)
		}
		return tp, ep, false, "", fmt.Errorf("not a JSON object: %v", err)
	}
	if m.Step == nil {
		return tp, ep, false, "step", errors.New("missing step")
	}
	if *m.Step < 0 {
		return tp, ep, false, "step", fmt.Errorf("negative step %d", *m.Step)
	}
	if m.Eval != nil {
		return tp, evalPoint{Step: *m.Step, Metrics: m.Eval}, true, "", nil
	}
	if m.Loss == nil {
		return tp, ep, false, "loss", errors.New("a training line needs loss (an evaluation line needs eval)")
	}
	tp = trainPoint{Step: *m.Step, Loss: *m.Loss, Components: m.Components, Values: map[string]float64{}}
	for k, v := range map[string]*float64{"reward_mean": m.RewardMean, "reward_std": m.RewardStd, "kl": m.KL,
		"entropy": m.Entropy, "length_mean": m.LengthMean, "grad_norm": m.GradNorm, "lr": m.LR,
		"zero_variance": m.ZeroVar, "all_lose": m.AllLose, "all_win": m.AllWin, "groups_kept": m.Kept,
		"rollout_rounds": m.Rounds} {
		if v != nil {
			tp.Values[k] = *v
		}
	}
	for k, v := range m.Model {
		tp.Values["model/"+k] = v
	}
	return tp, ep, false, "", nil
}

// readMetrics reads a metrics.jsonl. A last line without a trailing newline
// that does not parse is a write in progress (the trial may still be
// running): it is skipped with a note rather than failing the whole plot.
func readMetrics(path string, t *trial) (note string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		tp, ep, isEval, key, perr := parseMetricsLine(b)
		if perr != nil {
			if key == "" && isLastLine(data, line) {
				return fmt.Sprintf("%s:%d: skipped an unfinished last line (trial still running?)", path, line), nil
			}
			return "", &ParseError{File: path, Line: line, Key: key, Reason: perr.Error()}
		}
		if isEval {
			t.Evals = append(t.Evals, ep)
		} else {
			t.Train = append(t.Train, tp)
		}
	}
	if err := sc.Err(); err != nil {
		return "", &ParseError{File: path, Line: line + 1, Reason: err.Error()}
	}
	// Keep step order even if a resumed run appended out of order; a step
	// logged twice (resume after a crash) keeps its last value.
	t.Train = dedupTrain(t.Train)
	t.Evals = dedupEval(t.Evals)
	return "", nil
}

// isLastLine reports whether line (1-based) is the file's last line and
// the file does not end in a newline.
func isLastLine(data []byte, line int) bool {
	if len(data) == 0 || data[len(data)-1] == '\n' {
		return false
	}
	return bytes.Count(data, []byte{'\n'})+1 == line
}

func dedupTrain(ps []trainPoint) []trainPoint {
	idx := map[int]int{}
	var out []trainPoint
	for _, p := range ps {
		if i, ok := idx[p.Step]; ok {
			out[i] = p
			continue
		}
		idx[p.Step] = len(out)
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Step < out[j].Step })
	return out
}

func dedupEval(ps []evalPoint) []evalPoint {
	idx := map[int]int{}
	var out []evalPoint
	for _, p := range ps {
		if i, ok := idx[p.Step]; ok {
			out[i] = p
			continue
		}
		idx[p.Step] = len(out)
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Step < out[j].Step })
	return out
}

// jsonError turns a decoding error into a ParseError with a line number.
func jsonError(path string, data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &ParseError{File: path, Line: lineAt(data, se.Offset), Reason: "invalid JSON: " + se.Error()}
	case errors.As(err, &te):
		return &ParseError{File: path, Line: lineAt(data, te.Offset), Key: te.Field, Reason: fmt.Sprintf("want a %s, got JSON %s", te.Type, te.Value)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &ParseError{File: path, Line: bytes.Count(data, []byte{'\n'}) + 1, Reason: "truncated JSON"}
	}
	return &ParseError{File: path, Reason: err.Error()}
}

func lineAt(data []byte, off int64) int {
	off = max(0, min(off, int64(len(data))))
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return jsonError(path, data, err)
	}
	return nil
}

func parseSeed(path, key string, n *json.Number) (int64, error) {
	s, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return 0, &ParseError{File: path, Key: key, Reason: fmt.Sprintf("seed %s is not an integer", n)}
	}
	return s, nil
}

// paramString renders a plan "varying" value the way results.csv does.
func paramString(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// isSeedKey reports whether a varying key is the seed, which separates
// replicates rather than configurations.
func isSeedKey(k string) bool { return k == "seed" || k == "seeds" || strings.HasSuffix(k, ".seed") }

// load reads a sweep directory. Missing optional files are not errors;
// malformed ones are, as *ParseError.
func load(dir string) (*sweepData, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &NotSweepError{Dir: dir}
		}
		return nil, err
	}
	if !st.IsDir() {
		return nil, &NotSweepError{Dir: dir}
	}
	resPath := filepath.Join(dir, "results.csv")
	planPath := filepath.Join(dir, "plan.json")
	runsDir := filepath.Join(dir, "runs")
	hasRes, hasPlan, hasRuns := exists(resPath), exists(planPath), exists(runsDir)
	if !hasRes && !hasPlan && !hasRuns {
		return nil, &NotSweepError{Dir: dir}
	}
	sd := &sweepData{Dir: dir, Name: filepath.Base(filepath.Clean(dir))}
	byID := map[string]*trial{}
	get := func(id string) *trial {
		if t, ok := byID[id]; ok {
			return t
		}
		t := &trial{ID: id, Params: map[string]string{}, Final: map[string]float64{}}
		byID[id] = t
		sd.Trials = append(sd.Trials, t)
		return t
	}

	if hasPlan {
		var pf planFile
		if err := readJSON(planPath, &pf); err != nil {
			return nil, err
		}
		if pf.Sweep != "" {
			sd.Name = pf.Sweep
		}
		for i, pt := range pf.Trials {
			key := fmt.Sprintf("trials[%d]", i)
			if pt.ID == "" {
				return nil, &ParseError{File: planPath, Key: key + ".id", Reason: "missing trial id"}
			}
			if _, dup := byID[pt.ID]; dup {
				return nil, &ParseError{File: planPath, Key: key + ".id", Reason: fmt.Sprintf("duplicate trial id %q", pt.ID)}
			}
			t := get(pt.ID)
			t.Label = firstNonEmpty(pt.Label, pt.Algorithm)
			t.Task, t.Model = pt.Task, pt.Model
			if pt.Seed != nil {
				s, err := parseSeed(planPath, key+".seed", pt.Seed)
				if err != nil {
					return nil, err
				}
				t.Seed, t.HasSeed = s, true
			}
			for k, v := range pt.Varying {
				if !isSeedKey(k) {
					t.Params[k] = paramString(v)
				}
			}
		}
	}

	selection := map[string]bool{}
	if hasRuns {
		ents, err := os.ReadDir(runsDir)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			t := get(e.Name())
			rd := filepath.Join(runsDir, e.Name())
			if p := filepath.Join(rd, "metrics.jsonl"); exists(p) {
				note, err := readMetrics(p, t)
				if err != nil {
					return nil, err
				}
				if note != "" {
					sd.notes = append(sd.notes, Note{Figure: "data", Reason: note})
				}
			}
			if p := filepath.Join(rd, "eval.json"); exists(p) {
				var ef evalFile
				if err := readJSON(p, &ef); err != nil {
					return nil, err
				}
				if ef.Trial != "" && ef.Trial != t.ID {
					return nil, &ParseError{File: p, Key: "trial", Reason: fmt.Sprintf("trial %q does not match its directory %q", ef.Trial, t.ID)}
				}
				t.Task, t.Model = firstNonEmpty(t.Task, ef.Task), firstNonEmpty(t.Model, ef.Model)
				t.Label = firstNonEmpty(t.Label, ef.Algorithm)
				if ef.Seed != nil && !t.HasSeed {
					s, err := parseSeed(p, "seed", ef.Seed)
					if err != nil {
						return nil, err
					}
					t.Seed, t.HasSeed = s, true
				}
				for k, v := range ef.Metrics {
					t.Final[k] = v
				}
				t.Rewards, t.Scores = ef.Rewards, ef.Scores
				if ef.Split == "dev" {
					selection[t.ID] = true
				}
			}
		}
	}

	if hasRes {
		res, err := report.ReadFile(resPath)
		if err != nil {
			return nil, err // a *ParseError already when the file is bad
		}
		for _, r := range res.Rows {
			t := get(r.Trial)
			label := r.Algorithm
			if r.Ablation != "" {
				label += "-no-" + r.Ablation
			}
			// results.csv is what the report tables use: it wins for the
			// final metrics so figures and tables agree.
			t.Label = firstNonEmpty(canonicalLabel(label), t.Label)
			t.Task, t.Model = r.Task, r.Model
			t.Seed, t.HasSeed = r.Seed, true
			t.Final[r.Metric] = r.Value
			for i, p := range res.Params {
				if v := r.Params[i]; v != "" {
					t.Params[p] = v
				}
			}
		}
	}

	// Task and model of unfinished trials: the resolved config.toml.
	for _, t := range sd.Trials {
		t.Label = canonicalLabel(t.Label)
		if t.Task != "" && t.Model != "" {
			continue
		}
		p := filepath.Join(runsDir, t.ID, "config.toml")
		if !exists(p) {
			continue
		}
		var cfg map[string]any
		if _, err := toml.DecodeFile(p, &cfg); err != nil {
			var pe toml.ParseError
			if errors.As(err, &pe) {
				return nil, &ParseError{File: p, Line: pe.Position.Line, Reason: pe.Message}
			}
			return nil, &ParseError{File: p, Reason: err.Error()}
		}
		t.Task = firstNonEmpty(t.Task, tomlString(cfg, "task", "name"))
		t.Model = firstNonEmpty(t.Model, tomlString(cfg, "model", "label"), tomlString(cfg, "model", "preset"))
	}
	if len(selection) > 0 {
		kept := sd.Trials[:0]
		for _, t := range sd.Trials {
			if !selection[t.ID] {
				kept = append(kept, t)
			}
		}
		sd.Trials = kept
		sd.notes = append(sd.notes, Note{Figure: "data", Reason: fmt.Sprintf("%d selection trials (dev split) left out", len(selection))})
	}
	keys := map[string]bool{}
	for _, t := range sd.Trials {
		if t.Task == "" {
			t.Task = "?"
		}
		if t.Model == "" {
			t.Model = "?"
		}
		for k := range t.Params {
			keys[k] = true
		}
	}
	for k := range keys {
		sd.Params = append(sd.Params, k)
	}
	sort.Strings(sd.Params)
	return sd, nil
}

func tomlString(m map[string]any, table, key string) string {
	t, ok := m[table].(map[string]any)
	if !ok {
		return ""
	}
	s, _ := t[key].(string)
	return s
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// canonicalLabel lower-cases an algorithm label and spells ablations as
// "<base>-no-<part>" with the American "regularizer" (the algorithm
// registry's spelling), so "GRAO_no_regulariser" and "grao-no-regularizer"
// share a colour and a row.
func canonicalLabel(l string) string {
	l = strings.ToLower(strings.TrimSpace(l))
	l = strings.ReplaceAll(l, "_no_", "-no-")
	l = strings.ReplaceAll(l, "regulariser", "regularizer")
	return l
}

// splitAblation splits "grao-no-imitation" into ("grao", "imitation");
// a label that is no ablation comes back whole as base.
func splitAblation(label string) (base, part string, ok bool) {
	if base, part, ok = algorithms.SplitAblation(label); ok {
		return base, part, true
	}
	return label, "", false
}

// finite reports whether x is a usable number.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
