// Package algotest is the conformance suite of grao's algorithms, for any
// implementation of core.Algorithm — built in, out of tree, or a plugin
// seen through its host — and it imports no built-in algorithm.
//
// Run (or Conformance, which returns the failures) checks the contract on
// random batches shaped by the algorithm's Needs: finite losses, the
// gradient against central finite differences of Loss, shapes, no
// mutation of the batch, bit-identical repeats and edge cases.
//
// Test vectors: JSON files (format: algorithms/testdata/vectors/README.md)
// dispatched on their "algorithm" field to a plain loss function
// registered with Register (Plain adapts the usual
// Loss(Input, Params) shape), compared within each vector's tolerance;
// dropping a new *.json file into the vectors folder adds a test.
//
// Small helpers the algorithm tests share: NumGrad (central finite
// differences over ragged [][]float64 inputs), Close, RandSeqs, Jitter.
package algotest
