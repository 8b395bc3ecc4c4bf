package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/grao-lab/grao/plots"
)

func init() {
	register(command{
		name:    "plot",
		summary: "figures (PNG 300 dpi, SVG) from a sweep directory into DIR/figures",
		run:     runPlot,
	})
}

func runPlot(args []string, stdout, stderr io.Writer) error {
	def := plots.DefaultOptions()
	flags := flag.NewFlagSet("plot", flag.ContinueOnError)
	target := flags.String("target", def.Target, "algorithm whose improvement, loss anatomy, ablations and sensitivity are drawn")
	format := flags.String("format", strings.Join(def.Formats, ","), "comma list of output formats: png, svg, pdf")
	dpi := flags.Int("dpi", def.DPI, "PNG resolution in dots per inch")
	ci := flags.String("ci", def.CI.String(), "95% intervals across seeds: t (Student t; Fieller for ratios) or bootstrap")
	metric := flags.String("metric", def.Metric, "metric of the relative-improvement bars and the sensitivity heat map")
	ablMetric := flags.String("ablation-metric", def.AblationMetric, "metric of the ablation bars (paper Table 3 uses NAG)")
	seed := flags.Uint64("seed", def.Seed, "seed of the bootstrap RNGs")
	out := flags.String("out", "", "output directory (default DIR/figures)")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: bench plot DIR [flags]\n\nDIR is a sweep output directory (results.csv, plan.json, runs/). Flags may come before or after DIR.")
		flags.PrintDefaults()
	}
	pos, err := parseInterleaved(flags, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		flags.Usage()
		return badInput("plot: want exactly one sweep directory, got %d", len(pos))
	}
	opts := def
	opts.Target, opts.DPI, opts.Metric, opts.AblationMetric, opts.Seed, opts.OutDir = *target, *dpi, *metric, *ablMetric, *seed, *out
	opts.Formats = nil
	for _, f := range strings.Split(*format, ",") {
		if f = strings.TrimSpace(f); f != "" {
			opts.Formats = append(opts.Formats, f)
		}
	}
	switch *ci {
	case "t":
		opts.CI = plots.CIStudentT
	case "bootstrap":
		opts.CI = plots.CIBootstrap
	default:
		return badInput("plot: --ci %q: want t or bootstrap", *ci)
	}
	figs, notes, err := plots.All(pos[0], opts)
	for _, n := range notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	if err != nil {
		var ns *plots.NotSweepError
		var oe *plots.OptionError
		if errors.As(err, &ns) || errors.As(err, &oe) {
			return usageError{fmt.Errorf("plot: %w", err)}
		}
		return fmt.Errorf("plot: %w", err)
	}
	for _, f := range figs {
		fmt.Fprintf(stdout, "%-12s %s\n", f.Kind, strings.Join(f.Files, "  "))
	}
	fmt.Fprintf(stdout, "%d figures written; %d notes\n", len(figs), len(notes))
	return nil
}
