// Package core defines the contracts every part of grao is written against:
// the Engine that runs the policy model, the Reward interface and its batch
// items, the Task (dataset) interface and the example type, and (with the
// algorithms) the batch an Algorithm consumes.
//
// Implementations live elsewhere: built-in rewards in rewards/, reward plugins
// in plugins/, tasks in experiments/tasks, the CPU engine in core/model (its
// conformance suite, which every engine runs, in core/enginetest).
package core
