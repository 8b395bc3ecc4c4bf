// Package pretrain trains a base language model from text: next-token
// cross-entropy on documents (or windows of a long text), AdamW, a seeded
// data order. Same config, data and seed ⇒ bit-identical weights.
//
// Base models for the alignment tasks are pre-trained on each task's corpus
// of prompts with responses of mixed quality, so they learn the format but
// not the preference.
package pretrain
