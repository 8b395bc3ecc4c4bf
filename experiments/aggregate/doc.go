// Package aggregate summarises scores over runs (seeds) and tasks (kinds of
// prompts) the way Agarwal et al., "Deep Reinforcement Learning at the Edge
// of the Statistical Precipice" (NeurIPS 2021, arXiv:2108.13264) recommend
// and their rliable library computes, and estimates pass@k without bias as
// Chen et al. (2021, arXiv:2107.03374) do.
//
// Contract:
//
//   - A score matrix is [][]float64 indexed [run][task]; every run has the
//     same tasks. The point estimates ([IQM], [Mean], [Median],
//     [OptimalityGap], [ProbImprovement], [PerformanceProfile]) pool all
//     run × task entries, match numpy/scipy to rounding, give NaN for a
//     matrix without entries and panic on ragged rows or NaN scores.
//   - [Bootstrap] gives percentile intervals over stratified resamples
//     (runs drawn with replacement independently within each task), with a
//     PCG seeded only from Bootstrap.Seed, so a result is reproducible; its
//     methods return an error for empty, ragged or non-finite input. The
//     With functions ([AggregateWith], [ProbImprovementWith]) replay given
//     resample indices.
//   - [PassAtK] is the unbiased estimator in its numerically stable product
//     form; it panics on impossible counts.
//   - testdata/rliable_reference.py is an independent numpy/scipy
//     implementation; the tests require agreement to 1e-9 on its output.
package aggregate
