// Package core defines the contracts every part of grao is written against:
// the Reward interface and its batch items, the Task (dataset) interface and
// the example type, and (with the algorithms) the batch an Algorithm consumes.
//
// Implementations live elsewhere: built-in rewards in rewards/, reward plugins
// in plugins/, tasks in experiments/tasks, the policy in core/model.
package core
