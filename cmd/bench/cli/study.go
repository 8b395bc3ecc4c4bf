package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/grao-lab/grao/experiments/report"
	"github.com/grao-lab/grao/experiments/sweep"
)

func init() {
	register(command{
		name:    "study",
		summary: "study tools: `study null DIR` is the A/A calibration of the report's tests",
		run:     runStudy,
	})
}

func runStudy(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "null" {
		fmt.Fprintln(stderr, "usage: bench study null DIR [flags]   (A/A calibration of the report's tests)")
		return badInput("study: want the subcommand null")
	}
	return runNull(args[1:], stdout, stderr)
}

// runNull is `bench study null`: the false-positive rate of the report's
// tests on one algorithm's seeds split into two arms many ways.
func runNull(args []string, stdout, stderr io.Writer) error {
	def := report.DefaultOptions()
	flags := flag.NewFlagSet("study null", flag.ContinueOnError)
	label := flags.String("label", "", "column to split (default: the only one)")
	perArm := flags.Int("per-arm", 0, "seeds per arm (default: half the seeds)")
	splits := flags.Int("splits", 200, "random splits, each one replicate")
	metric := flags.String("metric", "RAS", "per-prompt metric compared ("+strings.Join(report.PerPromptMetrics, ", ")+")")
	var kinds listFlag
	flags.Var(&kinds, "kinds", "restrict to these kinds or regimes (comma list)")
	resamples := flags.Int("resamples", def.Resamples, "bootstrap resamples per test, as the report")
	seed := flags.Uint64("seed", def.Seed, "seed of the splits and the tests")
	against := flags.String("against", "", "replay the same splits on the same seeds of another run (e.g. another BLAS) and compare the verdicts")
	out := flags.String("out", "", "with a SWEEP.toml: where to run it (default runs/<sweep name>; an existing run there is resumed)")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: bench study null DIR|SWEEP.toml [flags]\n\n"+
			"DIR is a finished sweep of one algorithm on many seeds; a SWEEP.toml (experiments/null.toml) is run first\n"+
			"(or resumed) into --out, then analysed.")
		flags.PrintDefaults()
	}
	pos, err := parseInterleaved(flags, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		flags.Usage()
		return badInput("study null: want one run directory, got %d", len(pos))
	}
	if !slices.Contains(report.PerPromptMetrics, *metric) {
		return badInput("study null: --metric %q: want one of %s", *metric, strings.Join(report.PerPromptMetrics, ", "))
	}
	dir := pos[0]
	if strings.HasSuffix(dir, ".toml") {
		// One command from the sweep file to the rates: run (or resume) it
		// first, its report going to stderr with the progress.
		if dir, err = runNullSweep(dir, *out, stderr); err != nil {
			return err
		}
	} else if *out != "" {
		return badInput("study null: --out goes with a SWEEP.toml")
	}
	pos[0] = dir
	pd, cell, err := nullData(pos[0], *label)
	if err != nil {
		return err
	}
	opts := report.NullOptions{PerArm: *perArm, Splits: *splits, Metric: *metric, Kinds: kinds, Resamples: *resamples, Seed: *seed}
	var other *report.PromptData
	if *against != "" {
		if other, _, err = nullData(*against, cell[2]); err != nil {
			return err
		}
		// Split only the seeds both runs have.
		pd = pd.Restrict(other.Seeds(cell[0], cell[1], cell[2]))
	}
	res, err := report.NullCalibration(pd, cell[0], cell[1], cell[2], opts)
	if err != nil {
		return badInput("%v", err)
	}
	fmt.Fprint(stdout, report.RenderNull(res, pos[0]))
	if other == nil {
		return nil
	}
	res2, err := report.NullSplitsFrom(other, cell[0], cell[1], cell[2], res.SplitSeeds, opts)
	if err != nil {
		return badInput("%v", err)
	}
	fmt.Fprint(stdout, "\n"+report.RenderNull(res2, *against))
	fmt.Fprint(stdout, "\n"+report.RenderNullAgreement(res, res2, pos[0], *against))
	return nil
}

// nullData reads a sweep directory's per-prompt outcomes and picks the
// column to split: (task, model, label).
func nullData(dir, label string) (*report.PromptData, [3]string, error) {
	var cell [3]string
	res, err := report.ReadFile(filepath.Join(dir, "results.csv"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, cell, badInput("study null: %s has no results.csv (is the sweep finished?)", dir)
	}
	if err != nil {
		return nil, cell, badInput("%v", err)
	}
	pd, _, err := report.ReadPromptData(dir, res)
	if err != nil {
		return nil, cell, err
	}
	var cells [][3]string
	for _, t := range pd.Cells() {
		if label == "" || strings.EqualFold(t[2], label) {
			cells = append(cells, t)
		}
	}
	switch {
	case len(cells) == 0 && label != "":
		return nil, cell, badInput("study null: %s has no column %q", dir, label)
	case len(cells) == 0:
		return nil, cell, badInput("study null: %s has no per-prompt results", dir)
	case len(cells) > 1:
		var names []string
		for _, c := range cells {
			names = append(names, strings.Join(c[:], " / "))
		}
		return nil, cell, badInput("study null: %s has several columns (%s): choose one with --label", dir, strings.Join(names, ", "))
	}
	return pd, cells[0], nil
}

// runNullSweep runs an A/A sweep (bench run, resuming a run already in
// out) and returns its directory.
func runNullSweep(path, out string, stderr io.Writer) (string, error) {
	sw, err := sweep.ParseFile(path)
	if err != nil {
		return "", usageError{err}
	}
	if out == "" {
		sw.Resolve()
		out = filepath.Join("runs", sw.Name)
	}
	args := []string{path, "--out", out}
	if fileExists(filepath.Join(out, "plan.json")) {
		args = append(args, "--resume")
	}
	if err := runRun(args, stderr, stderr); err != nil {
		return "", err
	}
	return out, nil
}
