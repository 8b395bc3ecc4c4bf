// Package runner executes a sweep's trials and collects their results.
//
// Each trial runs in its own goroutine with private graphs and weights
// (gorgonia machines must not share tensors), on an Executor: Local is a
// worker pool; a cluster engine (e.g. Slurm job arrays running
// `bench run --trial ID`) fits the same interface. Files (the README's table of a run
// directory lists them) are written atomically (temp + rename): a killed run never leaves
// a half-written eval.json or checkpoint, and --resume runs exactly the
// trials whose manifest does not say "done", each from its last mid-trial
// checkpoint (resume.go) when it has one. Trials are deterministic and a
// checkpoint holds every state that carries between steps, so a resumed
// trial's eval.json is byte-identical to an uninterrupted one.
package runner
