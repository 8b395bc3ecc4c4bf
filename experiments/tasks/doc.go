// Package tasks provides grao's benchmarks as core.Task values: four
// embedded synthetic tasks generated deterministically from a seed
// ("skills", "arith", "hh-helpful", "hh-harmless"; see Names and Get) and
// users' datasets in JSONL (FromJSONL, Open).
//
// "skills" is built from kinds (Kinds), each with a difficulty level and a
// regime: explore kinds are answered from the prompt, imitate kinds ask for
// invented facts that only the references hold. Its corpus draws every
// level and avoids every level's eval and dev prompts, so a base model does
// not depend on the levels the splits use (calibration places them on it).
// Tasks may also carry a dev split (WithDevSize, Dever) and a partial-credit
// scorer (DenseScorer).
//
// Prompt format (all built-ins; users' files must end their prompts the
// same way):
//
//	Human: {request}\nAssistant:
//
// and every answer (chosen, rejected, corpus response) starts with one
// space, so prompt+answer is the document a model sees; the trainer ends
// it with EOS. The format is shorter than HH-RLHF's "\n\nHuman: …\n\n
// Assistant:" on purpose: the policies are byte-level with a 64–128 byte
// context. Built-in requests are at most 60 bytes, answers at most 40,
// and prompt+answer at most MaxDocBytes (tested for every example and
// corpus document).
//
// Splits: eval prompts are unique and never appear in train (nor in the
// pre-training corpus); train may repeat a prompt. The same seed and
// options always give the same examples, byte for byte (golden-tested).
//
// Each task's Scorer is its rubric from package rewards and its Judge is
// rewards.NewJudge over that rubric with a tie margin
// (rewards.DefaultTieMargin unless WithTieMargin). The Meta of each
// example carries the facts the rubric checks (rewards.Meta* keys).
package tasks
