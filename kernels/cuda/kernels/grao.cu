// Kernels of the CUDA engine (package kernels/cuda). Each one mirrors a Go
// kernel of package kernels or a loop of the CPU engine; the comments name
// the counterpart, whose numerics (float64 accumulation, where logits are
// rounded) these follow so that the engine meets the CPU reference within
// the conformance suite's tolerance.
//
// Launch conventions (gorgonia.org/cu copies every kernel argument as 8
// bytes): pointers, long long and double only. Row kernels run one block of
// BLOCK threads per row; element kernels use a grid-stride loop.
//
// Regenerate ptx/grao_sm80.ptx with `go generate ./kernels/cuda` after
// editing this file; a default-build test checks that the committed PTX is
// current.

#define BLOCK 256

typedef long long i64;

// blockSum returns the sum of v over the block to every thread. buf holds
// BLOCK doubles; the tree order is fixed, so results are deterministic.
__device__ double blockSum(double v, double* buf) {
    int t = threadIdx.x;
    buf[t] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) buf[t] += buf[t + s];
        __syncthreads();
    }
    double r = buf[0];
    __syncthreads();
    return r;
}

__device__ float blockMax(float v, float* buf) {
    int t = threadIdx.x;
    buf[t] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) buf[t] = fmaxf(buf[t], buf[t + s]);
        __syncthreads();
    }
    float r = buf[0];
    __syncthreads();
    return r;
}

#define GRID_STRIDE(i, n) for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)
// ROW_COLS walks the columns of a row kernel's row (one block per row):
// row-wise kernels take their row from blockIdx.x, so no element needs a
// 64-bit division (slow on a GPU) to find its row and column.
#define ROW_COLS(j, d) for (i64 j = threadIdx.x; j < (d); j += blockDim.x)

extern "C" {

// ---- embeddings (kernels.Embed / EmbedBackward) ----

// x[i,:] = wte[ids[i],:] + wpe[pos[i],:]
__global__ void grao_embed_fwd(float* x, const float* wte, const float* wpe, const int* ids, const int* pos, i64 n, i64 d) {
    i64 i = blockIdx.x;
    const float *te = wte + (i64)ids[i] * d, *pe = wpe + (i64)pos[i] * d;
    ROW_COLS(j, d) x[i * d + j] = te[j] + pe[j];
}

// dw[keys[k],:] += Σ dx[order[o],:] over o in [starts[k], starts[k+1]):
// one block per distinct id, its positions in order (the host sorts them),
// so no two blocks write one row and two runs give the same bits (State
// round-trips compare weights bit for bit).
__global__ void grao_embed_bwd(float* dw, const float* dx, const int* keys, const int* starts, const int* order, i64 d) {
    i64 k = blockIdx.x;
    float* row = dw + (i64)keys[k] * d;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
        double s = 0;
        for (i64 o = starts[k]; o < starts[k + 1]; o++) s += dx[(i64)order[o] * d + j];
        row[j] += (float)s;
    }
}

// ---- layer norm (kernels.LayerNorm / LayerNormBackward) ----

__device__ void rowStats(const float* xr, i64 d, double eps, double* buf, double* mean, double* rstd) {
    double s = 0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) s += xr[j];
    double m = blockSum(s, buf) / d;
    double q = 0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
        double c = xr[j] - m;
        q += c * c;
    }
    *mean = m;
    *rstd = 1 / sqrt(blockSum(q, buf) / d + eps);
}

__global__ void grao_layernorm_fwd(float* y, const float* x, const float* g, const float* b, i64 n, i64 d, double eps) {
    __shared__ double buf[BLOCK];
    i64 i = blockIdx.x;
    const float* xr = x + i * d;
    double m, rs;
    rowStats(xr, d, eps, buf, &m, &rs);
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) y[i * d + j] = (float)((xr[j] - m) * rs) * g[j] + b[j];
}

// dx = r·(dy·g − mean(dy·g) − x̂·mean(dy·g·x̂)), added to dx when accumulate
// (the residual stream's gradient). Row i of prod ([n, 2d]) becomes dy·x̂
// then dy, whose column sums (a GEMM with a ones vector, over all rows at
// once) are the gain's and the bias's gradients.
__global__ void grao_layernorm_bwd(float* dx, float* prod, const float* dy, const float* x, const float* g, i64 n, i64 d, double eps, i64 accumulate) {
    __shared__ double buf[BLOCK];
    i64 i = blockIdx.x;
    const float* xr = x + i * d;
    const float* dyr = dy + i * d;
    double m, rs;
    rowStats(xr, d, eps, buf, &m, &rs);
    double a = 0, c = 0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
        double h = (double)dyr[j] * g[j];
        a += h;
        c += h * ((xr[j] - m) * rs);
    }
    a = blockSum(a, buf) / d;
    c = blockSum(c, buf) / d;
    float* pr = prod + i * 2 * d;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
        double xh = (xr[j] - m) * rs;
        float v = (float)(rs * ((double)dyr[j] * g[j] - a - xh * c));
        dx[i * d + j] = accumulate ? dx[i * d + j] + v : v;
        pr[j] = (float)(dyr[j] * xh);
        pr[d + j] = dyr[j];
    }
}

// ---- linear layers: bias and its gradient ----

// y[i,:] += b
__global__ void grao_bias_add(float* y, const float* b, i64 n, i64 d) {
    i64 i = blockIdx.x;
    ROW_COLS(j, d) y[i * d + j] += b[j];
}

// y[i,:] = r[i,:] + b: a residual branch's start, to which a GEMM adds.
__global__ void grao_residual_bias(float* y, const float* r, const float* b, i64 n, i64 d) {
    i64 i = blockIdx.x;
    ROW_COLS(j, d) y[i * d + j] = r[i * d + j] + b[j];
}

// ---- GELU, tanh approximation (kernels.GELU / GELUBackward) ----

#define GELU_C 0.7978845608028654f

__global__ void grao_gelu_fwd(float* y, const float* x, i64 n) {
    GRID_STRIDE(i, n) {
        float v = x[i];
        float u = GELU_C * (v + 0.044715f * v * v * v);
        y[i] = v / (1 + expf(-2 * u));
    }
}

__global__ void grao_gelu_bwd(float* dx, const float* dy, const float* x, i64 n) {
    GRID_STRIDE(i, n) {
        float v = x[i], x2 = v * v;
        float u = GELU_C * (v + 0.044715f * x2 * v);
        float s = 1 / (1 + expf(-2 * u));
        float du = GELU_C * (1 + 3 * 0.044715f * x2);
        dx[i] = dy[i] * (s + 2 * v * s * (1 - s) * du);
    }
}

// ---- head layout ----

// The batched attention GEMMs need each (row, head) pair's t×hd block at
// one stride. split gathers a pass's row-major [B, T, parts, H, hd] (the
// QKV projection's q, k and v: parts 3; or one of them: parts 1) into
// head-major [parts, B, H, T, hd]; merge scatters back. One block per
// position (b, t) reads or writes its row in order.
__device__ i64 headMajor(i64 j, i64 bb, i64 tt, i64 b, i64 t, i64 h, int d, int hd) {
    int part = (int)j / d, r = (int)j - part * d, hh = r / hd, c = r - hh * hd;
    return (((part * b + bb) * h + hh) * t + tt) * hd + c;
}

__global__ void grao_split_heads(float* out, const float* in, i64 parts, i64 b, i64 t, i64 h, i64 hd) {
    i64 row = blockIdx.x, bb = row / t, tt = row % t, w = parts * h * hd;
    ROW_COLS(j, w) out[headMajor(j, bb, tt, b, t, h, (int)(h * hd), (int)hd)] = in[row * w + j];
}

__global__ void grao_merge_heads(float* out, const float* in, i64 parts, i64 b, i64 t, i64 h, i64 hd) {
    i64 row = blockIdx.x, bb = row / t, tt = row % t, w = parts * h * hd;
    ROW_COLS(j, w) out[row * w + j] = in[headMajor(j, bb, tt, b, t, h, (int)(h * hd), (int)hd)];
}

// ---- causal attention softmax (kernels.CausalAttention's causalSoftmax) ----

// s holds rows of t scores; row r is query position r % t, which sees keys
// 0..r%t. Each row becomes the softmax of that prefix, zeros after it.
__global__ void grao_softmax_causal(float* s, i64 rows, i64 t) {
    __shared__ double buf[BLOCK];
    __shared__ float fbuf[BLOCK];
    i64 r = blockIdx.x;
    i64 len = r % t + 1;
    float* row = s + r * t;
    float m = -INFINITY;
    for (i64 j = threadIdx.x; j < len; j += blockDim.x) m = fmaxf(m, row[j]);
    m = blockMax(m, fbuf);
    double sum = 0;
    for (i64 j = threadIdx.x; j < len; j += blockDim.x) {
        float e = expf(row[j] - m);
        row[j] = e;
        sum += e;
    }
    float inv = (float)(1 / blockSum(sum, buf));
    for (i64 j = threadIdx.x; j < t; j += blockDim.x) row[j] = j < len ? row[j] * inv : 0;
}

// dp becomes dS = P∘(dP − rowsum(P∘dP)) on the causal prefix, zero after.
__global__ void grao_softmax_causal_bwd(float* dp, const float* p, i64 rows, i64 t) {
    __shared__ double buf[BLOCK];
    i64 r = blockIdx.x;
    i64 len = r % t + 1;
    float* dr = dp + r * t;
    const float* pr = p + r * t;
    double acc = 0;
    for (i64 j = threadIdx.x; j < len; j += blockDim.x) acc += (double)pr[j] * dr[j];
    float a = (float)blockSum(acc, buf);
    for (i64 j = threadIdx.x; j < t; j += blockDim.x) dr[j] = j < len ? pr[j] * (dr[j] - a) : 0;
}

// ---- log-softmax at a temperature (kernels.LogSoftmaxGatherAt, EntropyAt) ----

// scaled is a logit divided by the temperature, rounded to float once
// (kernels' divT); temperature 1 leaves it untouched.
__device__ float scaled(float x, double temp) { return temp == 1 ? x : (float)((double)x / temp); }

// logp[i] = log_softmax(logits[i,:]/temp)[targets[i]] (0 where the target
// is negative); with ent non-null, ent[i] = H(softmax(logits[i,:]/temp))
// in float64, as kernels.EntropyAt.
__global__ void grao_logp_fwd(float* logp, double* ent, const float* logits, const int* targets, i64 n, i64 v, double temp) {
    __shared__ double buf[BLOCK];
    __shared__ float fbuf[BLOCK];
    i64 i = blockIdx.x;
    int tg = targets[i];
    if (tg < 0) {
        if (threadIdx.x == 0) {
            logp[i] = 0;
            if (ent) ent[i] = 0;
        }
        return;
    }
    const float* row = logits + i * v;
    float m = -INFINITY;
    for (i64 j = threadIdx.x; j < v; j += blockDim.x) m = fmaxf(m, row[j]);
    m = blockMax(m, fbuf);
    float sm = scaled(m, temp);
    double s = 0;
    for (i64 j = threadIdx.x; j < v; j += blockDim.x) s += expf(scaled(row[j], temp) - sm);
    s = blockSum(s, buf);
    if (threadIdx.x == 0) logp[i] = (float)((double)scaled(row[tg], temp) - sm - log(s));
    if (!ent) return;
    double md = (double)m / temp, es = 0, ez = 0;
    for (i64 j = threadIdx.x; j < v; j += blockDim.x) {
        double z = (double)row[j] / temp - md;
        double e = exp(z);
        es += e;
        ez += e * z;
    }
    es = blockSum(es, buf);
    ez = blockSum(ez, buf);
    if (threadIdx.x == 0) ent[i] = log(es) - ez / es;
}

// dlogits[i,:] = (dy[i]/temp)·(onehot(targets[i]) − softmax(logits[i,:]/temp)),
// zeros for negative targets (kernels.LogSoftmaxGatherAtBackward).
__global__ void grao_logp_bwd(float* dlogits, const float* logits, const int* targets, const float* dy, i64 n, i64 v, double temp) {
    __shared__ double buf[BLOCK];
    __shared__ float fbuf[BLOCK];
    i64 i = blockIdx.x;
    int tg = targets[i];
    float* dr = dlogits + i * v;
    if (tg < 0) {
        for (i64 j = threadIdx.x; j < v; j += blockDim.x) dr[j] = 0;
        return;
    }
    const float* row = logits + i * v;
    float m = -INFINITY;
    for (i64 j = threadIdx.x; j < v; j += blockDim.x) m = fmaxf(m, row[j]);
    m = blockMax(m, fbuf);
    float sm = scaled(m, temp);
    double s = 0;
    for (i64 j = threadIdx.x; j < v; j += blockDim.x) s += expf(scaled(row[j], temp) - sm);
    s = blockSum(s, buf);
    float g = scaled(dy[i], temp);
    float scale = -g * (float)exp(-log(s));
    for (i64 j = threadIdx.x; j < v; j += blockDim.x) {
        float val = expf(scaled(row[j], temp) - sm) * scale;
        dr[j] = j == tg ? val + g : val;
    }
}

// ---- sampling: KV cache and one-query attention ----

// cache rows are a [rows, ctx, w] buffer (the prefill's qkv): row i of qkv
// goes to cache[rows[i], pos[i], :].
__global__ void grao_kv_append(float* cache, const float* qkv, const int* rows, const int* pos, i64 n, i64 ctx, i64 w) {
    i64 i = blockIdx.x;
    float* dst = cache + ((i64)rows[i] * ctx + pos[i]) * w;
    ROW_COLS(j, w) dst[j] = qkv[i * w + j];
}

// out[i, h·hd:(h+1)·hd] = softmax(q·Kᵀ·scale)·V over cache positions
// 0..pos[i] of row rows[i] (kernels.AttendOne). One block per (i, h);
// dynamic shared memory holds ctx scores. q rows have stride 3d; the
// cache's keys and values sit at columns d and 2d of its [.., 3d] rows.
__global__ void grao_attn_decode(float* out, const float* qkv, const float* cache, const int* rows, const int* pos, i64 ctx, i64 nhead, i64 hd, double scale) {
    extern __shared__ float sc[];
    __shared__ double buf[BLOCK];
    __shared__ float fbuf[BLOCK];
    i64 i = blockIdx.x, h = blockIdx.y;
    i64 d = nhead * hd, w = 3 * d;
    i64 len = (i64)pos[i] + 1;
    const float* q = qkv + i * w + h * hd;
    const float* base = cache + (i64)rows[i] * ctx * w;
    float fs = (float)scale;
    float m = -INFINITY;
    for (i64 j = threadIdx.x; j < len; j += blockDim.x) {
        const float* k = base + j * w + d + h * hd;
        float dot = 0;
        for (i64 c = 0; c < hd; c++) dot += q[c] * k[c];
        sc[j] = dot * fs;
        m = fmaxf(m, sc[j]);
    }
    m = blockMax(m, fbuf);
    double sum = 0;
    for (i64 j = threadIdx.x; j < len; j += blockDim.x) {
        float e = expf(sc[j] - m);
        sc[j] = e;
        sum += e;
    }
    float inv = (float)(1 / blockSum(sum, buf));
    for (i64 c = threadIdx.x; c < hd; c += blockDim.x) {
        float acc = 0;
        for (i64 j = 0; j < len; j++) acc += (sc[j] * inv) * base[j * w + 2 * d + h * hd + c];
        out[i * d + h * hd + c] = acc;
    }
}

// ---- optimiser (optim.AdamW.Step) ----

// partial[b] = Σ g² over the elements block b visits (float64); the host
// adds the partials in order, so the norm is deterministic.
__global__ void grao_sumsq(double* partial, const float* g, i64 n) {
    __shared__ double buf[BLOCK];
    double s = 0;
    GRID_STRIDE(i, n) s += (double)g[i] * g[i];
    s = blockSum(s, buf);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// plainElem says whether element j lies in one of the nplain sorted,
// disjoint ranges [plain[2k], plain[2k+1]): the tensors AdamW does not
// decay (biases, layer-norm parameters).
__device__ bool plainElem(const i64* plain, i64 nplain, i64 j) {
    i64 lo = 0, hi = nplain;  // the first range ending after j
    while (lo < hi) {
        i64 mid = (lo + hi) / 2;
        if (plain[2 * mid + 1] <= j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < nplain && plain[2 * lo] <= j;
}

// One AdamW update of all n parameters in one launch, the float32
// operations of optim.AdamW in its order (the PTX is built without FMA
// contraction to keep them); decay multiplies every weight outside plain.
__global__ void grao_adamw(float* w, float* m, float* v, const float* g, i64 n, double scale, double beta1, double beta2,
                           double decay, double stepSize, double rc2, double eps, const i64* plain, i64 nplain) {
    float fs = (float)scale, b1 = (float)beta1, b2 = (float)beta2, dc = (float)decay;
    float ss = (float)stepSize, r2 = (float)rc2, e = (float)eps;
    GRID_STRIDE(j, n) {
        float gj = g[j] * fs;
        float mj = b1 * m[j] + (1 - b1) * gj;
        float vj = b2 * v[j] + (1 - b2) * gj * gj;
        m[j] = mj;
        v[j] = vj;
        float denom = sqrtf(vj) * r2 + e;
        w[j] = w[j] * (plainElem(plain, nplain, j) ? 1.0f : dc) - ss * mj / denom;
    }
}

}  // extern "C"

extern "C" {

// out[i,:] = x[idx[i],:]: the rows whose logits a prefill needs (each
// prompt's last position).
__global__ void grao_gather_rows(float* out, const float* x, const int* idx, i64 n, i64 d) {
    i64 i = blockIdx.x;
    const float* src = x + (i64)idx[i] * d;
    ROW_COLS(j, d) out[i * d + j] = src[j];
}

}  // extern "C"
