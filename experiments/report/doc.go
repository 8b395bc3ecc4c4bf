// Package report turns a results.csv (DESIGN.md §4: long format, one row per
// trial × metric, columns at least trial,task,model,algorithm,seed,metric,value,
// extra columns = hyper-parameters that vary) into paper-style tables.
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
//   - [Report.Render] writes Markdown, LaTeX (booktabs) or CSV.
package report
