package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/grao-lab/grao/experiments/report"
	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
)

// studyOptions adds what a sweep directory holds beyond results.csv: the
// per-prompt outcomes of its trials (for the per-prompt tests), its
// pre-registered comparisons (sweep.toml's [[report.compare]]) and the
// hyper-parameters its selection chose (selection.json). A bare
// results.csv gets none of them, and the report says so.
func studyOptions(dir string, res *report.Results, sw *sweep.Sweep, opts *report.Options) ([]string, error) {
	notes, _, err := studyOptionsSweep(dir, res, sw, opts)
	return notes, err
}

// studyOptionsSweep is studyOptions that also returns the sweep it used
// (the one given, or DIR/sweep.toml when it validates; nil otherwise).
func studyOptionsSweep(dir string, res *report.Results, sw *sweep.Sweep, opts *report.Options) ([]string, *sweep.Sweep, error) {
	var notes []string
	if _, err := os.Stat(filepath.Join(dir, "runs")); err == nil {
		pd, missing, err := report.ReadPromptData(dir, res)
		if err != nil {
			return nil, nil, err
		}
		opts.Prompts = pd
		if opts.PassK, err = report.ReadPassK(dir, res); err != nil {
			return nil, nil, err
		}
		if opts.Compute, err = report.ReadCompute(dir, res); err != nil {
			return nil, nil, err
		}
		if missing > 0 {
			notes = append(notes, fmt.Sprintf("%d trials have no eval.json under %s/runs: left out of the per-prompt tests", missing, dir))
		}
	}
	if sw == nil {
		path := filepath.Join(dir, "sweep.toml")
		sets, err := runner.RunSets(dir)
		if err != nil {
			return nil, nil, err
		}
		s, err := sweep.ParseFileWith(path, sets)
		switch {
		case err == nil:
			sw = s
		case !errors.Is(err, fs.ErrNotExist) && fileExists(path):
			notes = append(notes, fmt.Sprintf("%s no longer validates (%v): its [[report.compare]] list is not used", path, firstLine(err.Error())))
		}
	}
	if sw != nil {
		for _, c := range sw.Report.Compare {
			opts.Compare = append(opts.Compare, report.CompareSpec{A: c.A, B: c.B, Metric: c.Metric, Kinds: c.Kinds, Predict: c.Predict, Why: c.Why})
		}
	}
	var sel runner.Selection
	raw, err := os.ReadFile(filepath.Join(dir, runner.SelectionFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, nil, err
	default:
		if err := jsonUnmarshal(raw, &sel); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, runner.SelectionFile), err)
		}
		for _, g := range sel.Groups {
			row := report.SelectedRow{Label: g.Label, Metric: sel.Metric, Chosen: kv(g.Chosen)}
			for _, p := range g.Tried {
				row.Tried = append(row.Tried, fmt.Sprintf("%s: %.4g", kv(p.Values), p.Score))
			}
			opts.Selected = append(opts.Selected, row)
		}
	}
	return notes, sw, nil
}

func kv(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// sweepBaselines are a sweep's report baselines that are columns of res:
// its default, "every other label", also names ablation variants, which
// have their own table rather than a column.
func sweepBaselines(res *report.Results, baselines []string) []string {
	var out []string
	for _, b := range baselines {
		if containsFold(res.Columns(), b) {
			out = append(out, b)
		}
	}
	return out
}
