// Package evaluate measures a policy on a task's held-out prompts, as the
// paper's §4 defines its metrics (docs/reports.md lists them):
//
//   - RAS: strict win rate of the policy's answer against the reference,
//     (1/N) Σ 1[R(o_i, y_i) > 0]; win_tie: (1/N) Σ 1[R(o_i, y_i) ≥ 0].
//   - NAG (indicator form): (1/N) Σ 1[R(o_post,i, y_i) > R(o_pre,i, y_i)],
//     the share of prompts where the aligned model beats the starting
//     model; NAG_signed: (#improved − #worsened)/N.
//   - reward: mean judge reward; score: mean scalar rubric score.
//   - kl: KL(π‖π_start) estimated on one completion per prompt sampled
//     from π at temperature 1 (k1, summed over tokens, averaged over prompts).
//   - length: mean completion length in bytes; distinct2: distinct byte
//     bigrams / all bigrams over the completions.
//   - steps_to_90: first evaluated step at which the eval reward has made
//     90% of its final improvement over step 0 (absent when it did not
//     improve).
//
// All decoding uses fixed seeds, so the same policy gives the same metrics.
package evaluate
