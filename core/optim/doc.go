// Package optim is grao's optimiser: AdamW with decoupled weight decay,
// global-norm gradient clipping and a learning-rate schedule (linear warm-up
// then constant or cosine decay). It works on flat float32 slices, so it is
// independent of gorgonia; state is plain data and the update order is
// fixed, so the same gradients always give bit-identical weights.
package optim
