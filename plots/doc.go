// Package plots draws the figures of a sweep directory (docs/reports.md) with
// gonum/plot: PNG at 300 dpi (with a pHYs chunk, so LaTeX sizes it right)
// and SVG (PDF on request) into DIR/figures, plus DIR/figures/index.json.
//
// Contract:
//
//   - Input is exactly the runner's layout: DIR/results.csv (read and
//     validated by experiments/report, so figures and `bench report` tables
//     agree), DIR/plan.json, DIR/runs/<id>/{metrics.jsonl,eval.json} and,
//     only to find task and model of unfinished trials, config.toml. Any
//     subset works; a directory with none of results.csv, plan.json, runs/
//     is a *NotSweepError. Malformed files are a *ParseError naming file,
//     line, key and reason; an unparseable last line without a newline is a
//     write in progress and only gives a Note.
//   - [All] makes, per task × model: eval reward and RAS against step (mean
//     with a 95% band across seeds), training diagnostics (reward, KL,
//     entropy, length, gradient norm, clip fraction per step, one panel
//     each), GRAO's loss anatomy, ablation curves, the β × λ heat map, the
//     final judge-outcome shares and score box plots; and across cells:
//     relative-improvement bars of the target over each baseline and
//     ablation bars. Figures without data are skipped with a [Note], never
//     an error.
//   - Intervals: Student's t across seeds by default (Fieller's interval for
//     the ratio behind relative improvements), percentile bootstrap with a
//     seeded PCG as an option. Each figure's title and caption name the
//     method and the number of seeds.
//   - When the sweep varies a label's hyper-parameters, curves, bars and box
//     plots show the grid centre (lower median of every varying key), chosen
//     without looking at results, and a Note says so.
//   - One colour (Okabe–Ito), marker and dash per algorithm in every figure;
//     legends sit outside the data area.
//   - [MarkdownLinks] turns the last index.json into Markdown for a report
//     saved in DIR.
package plots
