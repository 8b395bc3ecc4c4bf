package main

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
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: bench study null DIR [flags]\n\nDIR is a finished sweep of one algorithm on many seeds (experiments/null.toml).")
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
