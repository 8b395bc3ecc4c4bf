// Package algotest is the conformance suite of grao's loss functions: it
// loads JSON test vectors (format: algorithms/testdata/vectors/README.md),
// dispatches each on its "algorithm" field to the plain loss function of
// that package, and compares the loss, the gradient and any other expected
// quantity within the vector's tolerance. Dropping a new *.json file into
// the vectors folder adds a test without code changes.
//
// It also has small helpers the algorithm packages' tests share: central
// finite differences over ragged [][]float64 inputs and a closeness check.
package algotest
