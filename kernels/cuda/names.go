package cuda

// The kernels the engine launches, by their PTX entry names. They live in
// the default build so that a test can check the committed PTX against
// them on machines without a GPU or the CUDA headers.
const (
	kEmbedFwd         = "grao_embed_fwd"
	kEmbedBwd         = "grao_embed_bwd"
	kLayerNormFwd     = "grao_layernorm_fwd"
	kLayerNormBwd     = "grao_layernorm_bwd"
	kBiasAdd          = "grao_bias_add"
	kResidualBias     = "grao_residual_bias"
	kGELUFwd          = "grao_gelu_fwd"
	kGELUBwd          = "grao_gelu_bwd"
	kSoftmaxCausal    = "grao_softmax_causal"
	kSoftmaxCausalBwd = "grao_softmax_causal_bwd"
	kLogPFwd          = "grao_logp_fwd"
	kLogPBwd          = "grao_logp_bwd"
	kKVAppend         = "grao_kv_append"
	kAttnDecode       = "grao_attn_decode"
	kSumSq            = "grao_sumsq"
	kAdamW            = "grao_adamw"
	kGatherRows       = "grao_gather_rows"
	kSplitHeads       = "grao_split_heads"
	kMergeHeads       = "grao_merge_heads"
)

// kernelNames lists every constant above; the engine loads exactly these
// from the module and refuses to launch any other.
var kernelNames = []string{
	kEmbedFwd, kEmbedBwd, kLayerNormFwd, kLayerNormBwd,
	kBiasAdd, kResidualBias, kGELUFwd, kGELUBwd, kSoftmaxCausal, kSoftmaxCausalBwd,
	kLogPFwd, kLogPBwd, kKVAppend, kAttnDecode, kSumSq, kAdamW, kGatherRows,
	kSplitHeads, kMergeHeads,
}

// blockSize is the threads per block of every launch: the row kernels'
// reductions assume this power of two (BLOCK in grao.cu).
const blockSize = 256
