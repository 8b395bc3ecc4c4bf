// Package report turns a results.csv (long format, one row per trial ×
// metric, columns at least trial,task,model,algorithm,seed,metric,value,
// extra columns = hyper-parameters that vary) into paper-style tables, and
// a sweep directory's per-prompt outcomes into comparisons that say when
// two algorithms are, and are not, separated.
//
// Contract:
//
//   - [Read] / [ReadFile] validate the file and fail with a [*ParseError]
//     naming file, line, column and reason (missing required column,
//     non-numeric or non-finite value, non-integer seed, duplicate
//     (trial, metric), a trial whose task/model/algorithm/seed changes
//     between rows, two trials claiming the same seed of the same
//     configuration). Any file in the format is accepted, including a
//     hand-written one.
//   - [Build] aggregates per task × model × algorithm × metric over seeds:
//     mean, n, sample SD and a 95% interval — percentile bootstrap over seeds
//     by default ([CIBootstrap]: fixed resample count, PCG RNG seeded from
//     Options.Seed and the cell's key, so output never depends on row order),
//     or Student's t ([CIStudentT]). A cell with one seed carries no interval.
//   - The headline is computed as the GRAO paper does: per (task, model) cell
//     of one metric, relative improvement A/B − 1 of the target's mean over
//     the baseline's mean, then the plain mean over cells; the absolute
//     difference A − B is averaged the same way. Cells missing either side,
//     or with a non-positive baseline mean, are excluded and named in a note.
//   - Per cell, target vs baseline is tested across seeds: paired by seed
//     value when at least two seeds are shared, otherwise unpaired (Welch);
//     t-tests by default, exact/Monte-Carlo permutation tests as an option.
//     Fewer than two seeds gives no p-value, stated as such.
//   - Ablations (paper Table 3): algorithms named "<target>-no-<part>"
//     (canonical parts: imitation, exploration, regularizer), or rows with an
//     "ablation" column naming the removed part, form a separate table with
//     Δ = mean over models of the relative drop (full − ablated)/full.
//   - Metrics named "m@group" (per kind or regime) form per-kind tables.
//   - With per-prompt outcomes ([ReadPromptData]), [ComparePrompts] tests each
//     comparison with seeds and prompts both random ([CrossedT]) and over
//     seeds (paired t), [Holm]-corrects each family over the list, states
//     minimum detectable effects ([MDEFromSEDF], [MDEPairedT]), shows
//     [McNemar] for rates without letting it gate, and gives a verdict only
//     when both tests agree and the winner beats its own random-reward
//     control arm, where it has one. [NullCalibration] measures the
//     false-positive rate of exactly these tests on one algorithm's seeds
//     split into two arms (the A/A calibration).
//   - [BuildAggregates], [BuildPassK] and [BuildCompute] add the rliable
//     aggregates over seeds × kinds, pass@k and the compute table.
//   - [Report.Render] writes Markdown, LaTeX (booktabs) or CSV.
package report
