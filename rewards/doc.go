// Package rewards holds grao's built-in rewards, all implementing core.Reward:
//
//   - rubric scorers, one per built-in task (ArithRubric, HelpfulRubric,
//     HarmlessRubric) plus a generic reference-overlap scorer for users'
//     datasets (OverlapRubric). Each returns a score in [0, 1] built from
//     documented, weighted criteria (correctness, relevance, concision,
//     refusal appropriateness); see rubric.go for the weights.
//   - NewJudge: the paper's reference-relative judge R(o, y) ∈ {−1, 0, +1},
//     comparing the scorer's values for the completion o and the reference y
//     with a tie margin.
//   - Scalar (a scorer's value, optionally relative to the reference and
//     affinely rescaled), LengthPenalty, and Combine (a weighted sum).
//
// Contract shared by every reward here: Score returns exactly one core.Score
// per item or an error for the whole batch; a cancelled context gives an
// error; items (and their Meta maps) are never modified; an item a reward
// cannot judge (for example a rubric item without the meta fact it needs) is
// returned with Applicable = false and Value = 0 rather than a made-up value.
// All built-ins are deterministic. The conformance suite in
// rewards/rewardtest checks these promises.
//
// Meta keys read by the rubrics (written by experiments/tasks) are the Meta*
// constants. Values may be Go types (string, []string, bool, int) or what
// encoding/json produces for them (float64, []any), so an example survives
// a JSONL round trip unchanged in meaning.
package rewards
