// Package sweep reads sweep files (TOML) and turns them into trials.
//
// Contract:
//
//   - [Parse] / [ParseFile] decode strictly: a syntax error, an unknown key,
//     a wrong type or an out-of-range value is an [*Error] naming file, line,
//     key and reason. Parse reports every problem it finds (joined; list
//     them with [Errors]), and validates every grid point of every
//     algorithm — algorithm parameters through algorithms.New — so a sweep
//     that parses also expands. Relative paths (JSONL datasets, plugins,
//     checkpoints) are relative to the sweep file.
//   - A zero value means "default" unless the key is written in the file
//     (weight_decay = 0 is kept). [Sweep.Resolve] fills every default in
//     place; the defaults are the Default* constants and the README's
//     sweep reference.
//   - [Sweep.Expand] returns the trials in a fixed order: algorithms as in
//     the file × grid points (keys sorted, first key slowest) × seeds as
//     given. A grid key algorithm.<label>.<param> applies only to that
//     algorithm. Each [Trial] is fully resolved: Params holds the
//     algorithm's whole configuration, and Varying the grid keys with more
//     than one value.
//   - Trial IDs are "<label>-s<seed>-<8 hex>" from the SHA-256 of the
//     canonical TOML ([EncodeTrial]) without the ID, the sweep's name,
//     Varying and the dataset's absolute path: same configuration ⇒ same
//     ID, any change that can alter results ⇒ a new ID. [Trial.BaseKey]
//     hashes only what shapes the base model (model, task, pretrain).
//   - [EncodeTrial] / [DecodeTrial] write and read a trial's config.toml;
//     DecodeTrial is as strict as Parse and rejects a file whose id does not
//     match its contents. [WritePlan] writes plan.json atomically.
package sweep
