// Package ops wraps grao's fused CPU kernels (package kernels) as gorgonia
// operations, so the training graph gets layer norm, GELU, causal attention,
// embeddings, log-softmax + gather and arbitrary scalar losses as single
// nodes with exact, finite-difference-tested gradients instead of long
// chains of gorgonia primitives (some of which have wrong gradients in
// v0.9.18; the finite-difference tests show which).
//
// Contract:
//   - Every op supports Float32 and Float64; the dtype follows the inputs.
//   - Every forward op implements gorgonia's SDOp, so both G.Grad and a
//     TapeMachine with BindDualValues work. Gradient nodes are custom ops
//     as well (one per differentiable input); they are not differentiable
//     themselves (no second derivatives), except the matrix products.
//   - Ops reuse their output buffers across runs (UsePreallocDo and an
//     op-owned buffer): a node's Value is overwritten by the next run, so
//     copy what must outlive it.
//   - Integer inputs (token ids, targets) are passed through an *Index that
//     the caller fills before each run; a length mismatch is a run-time error.
//   - Ops and graphs are not safe for concurrent use: one graph and machine
//     per goroutine (gorgonia's own rule).
package ops
