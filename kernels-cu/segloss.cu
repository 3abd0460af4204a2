// segloss CUDA kernels: the stats, grad, confusion and stream_read passes of the design, plus
// `combine`, which adds the per-block partial sums of a pass in a fixed order in double.
//
// Compiled ahead of time to PTX (ci/build-ptx.sh: nvcc -ptx -arch=compute_75, no --use_fast_math)
// and shipped in the jar, so the specialisation that the OpenCL kernels get from the -D defines of
// Problem.defines() (MULTICLASS, FROM_LOGITS, LAYOUT_NHWC, TARGET_TYPE, PIXEL_TERM, REGION,
// HAS_IGNORE, SEGLOSS_PROB_CLAMP_EPS) arrives here as kernel parameters of the same names and
// meaning. They are uniform over the launch, so each branch on them is taken the same way by every
// thread and the passes stay memory-bound.
//
// Semantics follow backend/cpu/ScalarKernels.java and CpuMath.java (computed here in float):
//   p = sigmoid(x) (binary, from logits), softmax_C(x) (multiclass, from logits) or x;
//   probabilities are clamped to [eps, 1 - eps] inside log; from logits log p = -softplus(-x);
//   a pred value that is NaN/inf (or outside [0, 1] without logits) counts in BAD_PRED of its row;
//   a binary target outside [0, 1] (or NaN) and a class index outside [0, C) that is not the
//   ignore index count in BAD_TARGET (multiclass: row (n, 0)); such elements add nothing else.
//
// Determinism: every block covers a fixed range of elements that depends only on the problem size;
// each thread adds in float over at most FLUSH elements, then into a double; blocks reduce in a
// fixed tree (warp shuffles, then a 32-slot shared array); `combine` adds the block partials of a
// row in a fixed order. No float atomics anywhere (confusion uses integer atomics, which are exact).
// All element indices are 64-bit.

#include <stdint.h>

#define THREADS 256
#define WARPS (THREADS / 32)
// Resident blocks per SM the passes are compiled for (caps registers at 64 per thread).
#define MIN_BLOCKS_PER_SM 4
#define FLUSH 32
// Elements whose loads a thread issues together before it uses any of them: memory-level
// parallelism, so a memory-bound pass keeps LOADS requests per thread in flight instead of one.
// FLUSH is a multiple of both. stream_read holds only one float per element, so it takes more.
#define LOADS 4
#define LOADS_STREAM 8
#define STATS 6
#define STAT_I 0
#define STAT_P 1
#define STAT_T 2
#define STAT_TERM 3
#define STAT_BAD_PRED 4
#define STAT_BAD_TARGET 5

#define TARGET_FLOAT 0
#define TARGET_UINT8 1
#define TARGET_INT32 2
#define TARGET_INT64 3

#define TERM_NONE 0
#define TERM_BCE 1
#define TERM_FOCAL 2
#define TERM_CE 3

// Pixel codes of the multiclass passes (a valid pixel's code is its class y >= 0).
#define CODE_SKIP (-1)       // ignored, or a pred value of the pixel is refused
#define CODE_BAD_TARGET (-2) // class index outside [0, C), not the ignore index
#define CODE_OUTSIDE (-3)    // past the end of the sample

// ---- per-element math (float versions of CpuMath) -------------------------------------------

// sigmoid(x) = 1 / (1 + e^-x), computed on the side where exp does not overflow.
__device__ __forceinline__ float sigmoid_of(float x) {
    if (x >= 0.0f) {
        return 1.0f / (1.0f + expf(-x));
    }
    float e = expf(x);
    return e / (1.0f + e);
}

// softplus(z) = log(1 + e^z) = max(z, 0) + log1p(exp(-|z|)).
__device__ __forceinline__ float softplus_of(float z) {
    return fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z)));
}

// clamp(p) = min(max(p, eps), 1 - eps).
__device__ __forceinline__ float clamp_prob(float p, float eps) {
    return fminf(fmaxf(p, eps), 1.0f - eps);
}

// x^g with g = 0, 1, 2 exact.
__device__ __forceinline__ float pow_g(float x, float g) {
    if (g == 2.0f) return x * x;
    if (g == 1.0f) return x;
    if (g == 0.0f) return 1.0f;
    return powf(x, g);
}

// bce from logits: max(x, 0) - x t + log1p(exp(-|x|)).
__device__ __forceinline__ float bce_logits(float x, float t) {
    return fmaxf(x, 0.0f) - x * t + log1pf(expf(-fabsf(x)));
}

// bce from probabilities: -(t log pc + (1 - t) log qc), pc = clamp(p), qc = clamp(1 - p).
// qc is clamped itself rather than computed as 1 - pc: in float, 1 - clamp(p) near p = 1 is
// 1 - 0.99999988f = 1.19e-7, not eps = 1e-7 (the double reference's 1 - pc), and log would be off by 0.17.
__device__ __forceinline__ float bce_prob(float p, float t, float eps) {
    float pc = clamp_prob(p, eps);
    float qc = clamp_prob(1.0f - p, eps);
    return -(t * logf(pc) + (1.0f - t) * logf(qc));
}

// d bce / dp = -t / pc + (1 - t) / qc.
__device__ __forceinline__ float bce_prob_grad(float p, float t, float eps) {
    float pc = clamp_prob(p, eps);
    float qc = clamp_prob(1.0f - p, eps);
    return -t / pc + (1.0f - t) / qc;
}

// focal from logits: aw t q^g softplus(-x) + nw (1 - t) p^g softplus(x), p = sigmoid(x), q = sigmoid(-x).
__device__ __forceinline__ float focal_logits(float x, float t, float aw, float nw, float g) {
    float p = sigmoid_of(x);
    float q = sigmoid_of(-x);
    return aw * t * pow_g(q, g) * softplus_of(-x) + nw * (1.0f - t) * pow_g(p, g) * softplus_of(x);
}

// d focal / dx = -aw t (g p q^g softplus(-x) + q^(g+1)) + nw (1 - t) (g p^g q softplus(x) + p^(g+1)).
__device__ __forceinline__ float focal_logits_grad(float x, float t, float aw, float nw, float g) {
    float p = sigmoid_of(x);
    float q = sigmoid_of(-x);
    float qg = pow_g(q, g);
    float pg = pow_g(p, g);
    return -aw * t * (g * p * qg * softplus_of(-x) + qg * q) + nw * (1.0f - t) * (g * pg * q * softplus_of(x) + pg * p);
}

// focal from probabilities, pc = clamp(p), qc = clamp(1 - p) (see bce_prob):
//   -aw t qc^g log pc - nw (1-t) pc^g log qc.
__device__ __forceinline__ float focal_prob(float p, float t, float aw, float nw, float g, float eps) {
    float pc = clamp_prob(p, eps);
    float qc = clamp_prob(1.0f - p, eps);
    return -aw * t * pow_g(qc, g) * logf(pc) - nw * (1.0f - t) * pow_g(pc, g) * logf(qc);
}

// d focal / dp at pc, qc: -aw t (-g qc^(g-1) log pc + qc^g / pc) - nw (1-t) (g pc^(g-1) log qc - pc^g / qc).
__device__ __forceinline__ float focal_prob_grad(float p, float t, float aw, float nw, float g, float eps) {
    float pc = clamp_prob(p, eps);
    float qc = clamp_prob(1.0f - p, eps);
    float pos = (g == 0.0f ? 0.0f : -g * powf(qc, g - 1.0f) * logf(pc)) + pow_g(qc, g) / pc;
    float neg = (g == 0.0f ? 0.0f : g * powf(pc, g - 1.0f) * logf(qc)) - pow_g(pc, g) / qc;
    return -aw * t * pos - nw * (1.0f - t) * neg;
}

// Multiclass focal slope F = g (1-p)^(g-1) p log p - (1-p)^g, so that d term / dx_c = F (t_c - p_c).
__device__ __forceinline__ float focal_multiclass_slope(float log_py, float py, float g) {
    float q = 1.0f - py;
    float first = (g == 0.0f || q <= 0.0f) ? 0.0f : g * powf(q, g - 1.0f) * py * log_py;
    return first - pow_g(q, g);
}

__device__ __forceinline__ bool bad_pred(float x, int from_logits) {
    return !isfinite(x) || (!from_logits && (x < 0.0f || x > 1.0f));
}

// Binary target value at i (uint8 read unsigned).
__device__ __forceinline__ float target_value(const void* target, int target_type, long long i) {
    if (target_type == TARGET_UINT8) return (float) ((const unsigned char*) target)[i];
    if (target_type == TARGET_INT32) return (float) ((const int*) target)[i];
    if (target_type == TARGET_INT64) return (float) ((const long long*) target)[i];
    return ((const float*) target)[i];
}

// Class index at i; a float target must be integral and |v| < 1e9, else INT64_MIN (refused).
__device__ __forceinline__ long long class_index(const void* target, int target_type, long long i) {
    if (target_type == TARGET_UINT8) return (long long) ((const unsigned char*) target)[i];
    if (target_type == TARGET_INT32) return (long long) ((const int*) target)[i];
    if (target_type == TARGET_INT64) return ((const long long*) target)[i];
    float v = ((const float*) target)[i];
    return (v == rintf(v) && fabsf(v) < 1e9f) ? (long long) v : INT64_MIN;
}

// Index of pred element (n, c, s): NCHW (n C + c) S + s, NHWC (n S + s) C + c.
__device__ __forceinline__ long long pred_index(int layout_nhwc, long long n, long long c, long long s,
                                                long long C, long long S) {
    return layout_nhwc ? (n * S + s) * C + c : (n * C + c) * S + s;
}

// A binary target is refused when NaN/inf or outside [0, 1].
__device__ __forceinline__ bool bad_target(float t) {
    return !(t >= 0.0f && t <= 1.0f);
}

// Block b covers THREADS * items elements (pixels) of unit b / blocks_per_unit (a row, or a sample);
// returns the first one of this block, chunk = b % blocks_per_unit.
__device__ __forceinline__ long long block_begin(int blocks_per_unit, int items) {
    long long chunk = blockIdx.x % blocks_per_unit;
    return chunk * (long long) THREADS * items;
}

// logsumexp_c x_c = max_x + log(sum_c exp(x_c - max_x)) over the C logits of pixel s of sample n.
__device__ __forceinline__ float log_sum_exp(const float* __restrict__ pred, int layout_nhwc, long long n,
                                             long long s, long long C, long long S, float max_x) {
    float sum = 0.0f;
    for (long long c = 0; c < C; ++c) sum += expf(pred[pred_index(layout_nhwc, n, c, s, C, S)] - max_x);
    return max_x + logf(sum);
}

// Multiclass pixel code: CODE_SKIP for ignored pixels and pixels with a refused pred value,
// CODE_BAD_TARGET, else y.
__device__ __forceinline__ int pixel_code(long long y, int any_bad, long long C, int has_ignore, int ignore_index) {
    if (has_ignore && y == (long long) ignore_index) return CODE_SKIP;
    if (y < 0 || y >= C) return CODE_BAD_TARGET;
    if (any_bad) return CODE_SKIP;
    return (int) y;
}

// ---- reductions ----------------------------------------------------------------------------

__device__ __forceinline__ double warp_sum(double v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_down_sync(0xffffffffu, v, offset);
    }
    return v;
}

// Sums v[0..K) over the block (THREADS threads): warp shuffles, then one slot per warp in
// `slots`, then warp 0. The result is valid in thread 0 only. Deterministic: a fixed tree.
// Every thread of the block must call it.
template <int K>
__device__ __forceinline__ void block_sum(double (&v)[K], double (*slots)[32]) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
#pragma unroll
    for (int k = 0; k < K; ++k) {
        v[k] = warp_sum(v[k]);
        if (lane == 0) slots[k][warp] = v[k];
    }
    __syncthreads();
    if (warp == 0) {
#pragma unroll
        for (int k = 0; k < K; ++k) {
            v[k] = warp_sum(lane < WARPS ? slots[k][lane] : 0.0);
        }
    }
    __syncthreads();
}

// Loads elements k1 .. k1 + LOADS - 1 of this thread in row (n, c) (element k at
// begin + k THREADS + threadIdx.x) before any is used, predicated on the bounds with no branch
// between the loads, so LOADS loads of pred and target are in flight together (see LOADS).
// in[u] says whether element k1 + u exists; is[u] is its pred index (0 when it does not).
__device__ __forceinline__ void load_binary_group(const float* __restrict__ pred, const void* __restrict__ target,
                                                  int target_type, int layout_nhwc, long long n, long long c,
                                                  long long C, long long S, long long begin, int k1, int items,
                                                  float (&xs)[LOADS], float (&ts)[LOADS], long long (&is)[LOADS],
                                                  bool (&in)[LOADS]) {
#pragma unroll
    for (int u = 0; u < LOADS; ++u) {
        long long s = begin + (long long) (k1 + u) * THREADS + threadIdx.x;
        in[u] = k1 + u < items && s < S;
        is[u] = pred_index(layout_nhwc, n, c, in[u] ? s : 0, C, S);
        xs[u] = in[u] ? pred[is[u]] : 0.0f;
        ts[u] = in[u] ? target_value(target, target_type, is[u]) : 0.0f;
    }
}

// ---- stats ---------------------------------------------------------------------------------

// Binary/multilabel, per row (n, c), over the valid elements:
//   I = sum p t, P = sum p, T = sum t, TERM = sum term(x, t),
//   term = bce:   -(t log p + (1-t) log(1-p))   (logits: max(x,0) - x t + log1p(exp(-|x|)))
//          focal: -aw t (1-p)^g log p - nw (1-t) p^g log(1-p)  (logits: log p = -softplus(-x)).
// Block b covers elements [chunk * THREADS * items, +THREADS * items) of row b / blocks_per_unit.
__device__ void stats_binary(const float* __restrict__ pred, const void* __restrict__ target,
                             double* __restrict__ partial, long long C, long long S, int from_logits,
                             int layout_nhwc, int target_type, int pixel_term, float pos_weight, float neg_weight,
                             float gamma, float eps, int blocks_per_unit, int items) {
    __shared__ double slots[STATS][32];
    long long row = blockIdx.x / blocks_per_unit;
    long long n = row / C;
    long long c = row % C;
    long long begin = block_begin(blocks_per_unit, items);
    double acc[STATS] = {0, 0, 0, 0, 0, 0};
    for (int k0 = 0; k0 < items; k0 += FLUSH) {
        float f[STATS] = {0, 0, 0, 0, 0, 0};
        for (int k1 = k0; k1 < k0 + FLUSH && k1 < items; k1 += LOADS) {
            // the loads of LOADS elements first, then their use in the same element order as one at a time
            float xs[LOADS];
            float ts[LOADS];
            long long is[LOADS];
            bool in[LOADS];
            load_binary_group(pred, target, target_type, layout_nhwc, n, c, C, S, begin, k1, items, xs, ts, is, in);
#pragma unroll
            for (int u = 0; u < LOADS; ++u) {
                if (!in[u]) continue;
                float x = xs[u];
                float t = ts[u];
                if (bad_pred(x, from_logits)) { f[STAT_BAD_PRED] += 1.0f; continue; }
                if (bad_target(t)) { f[STAT_BAD_TARGET] += 1.0f; continue; }
                float p = from_logits ? sigmoid_of(x) : x;
                f[STAT_I] += p * t;
                f[STAT_P] += p;
                f[STAT_T] += t;
                if (pixel_term == TERM_BCE) {
                    f[STAT_TERM] += from_logits ? bce_logits(x, t) : bce_prob(x, t, eps);
                } else if (pixel_term == TERM_FOCAL) {
                    f[STAT_TERM] += from_logits ? focal_logits(x, t, pos_weight, neg_weight, gamma)
                                                : focal_prob(x, t, pos_weight, neg_weight, gamma, eps);
                }
            }
        }
#pragma unroll
        for (int j = 0; j < STATS; ++j) acc[j] += (double) f[j];
    }
    block_sum<STATS>(acc, slots);
    if (threadIdx.x == 0) {
#pragma unroll
        for (int j = 0; j < STATS; ++j) partial[(long long) blockIdx.x * STATS + j] = acc[j];
    }
}

// Multiclass, per valid pixel (not ignored, y in [0, C), every pred value accepted):
//   P[c] += p_c, I[y] += p_y, T[y] += 1, TERM[y] += -log p_y (ce) or -(1 - p_y)^g log p_y (focal),
//   with log p_y = x_y - logsumexp(x) from logits, log(clamp(p_y)) from probabilities.
// Work: block b covers THREADS * items pixels of sample b / blocks_per_unit; warp w takes `items`
// tiles of 32 consecutive pixels. For a tile, lane j first finds the code, log-normaliser and term
// of pixel j (into warp-private shared memory); then the lanes add the tile per class in float
// (registers, no reduction per tile): G = the largest power of two with G C <= 32 (at least 1)
// lanes share a class, lane L takes class c = m (32 / G) + L / G and pixels j = L % G, + G, ...
// Classes beyond 32 / G take more rounds m. At the end, per class, the lanes are added in
// (warp, lane) order.
__device__ void stats_multiclass(const float* __restrict__ pred, const void* __restrict__ target,
                                 double* __restrict__ partial, long long C, long long S, int from_logits,
                                 int layout_nhwc, int target_type, int pixel_term, int has_ignore,
                                 int ignore_index, float gamma, float eps, int blocks_per_unit, int items) {
    __shared__ float tile_lse[WARPS][32];
    __shared__ float tile_term[WARPS][32];
    __shared__ int tile_code[WARPS][32];
    __shared__ double lanes[WARPS][32][STATS];
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    long long n = blockIdx.x / blocks_per_unit;
    long long warp_begin = block_begin(blocks_per_unit, items) + (long long) warp * 32 * items;
    int share = 1;
    while (share * 2 * C <= 32) share *= 2;
    int per_round = 32 / share;
    long long rounds = (C + per_round - 1) / per_round;
    for (long long m = 0; m < rounds; ++m) {
        long long c = m * per_round + lane / share;
        double acc[STATS] = {0, 0, 0, 0, 0, 0};
        for (int tile = 0; tile < items; ++tile) {
            long long tile_begin = warp_begin + (long long) tile * 32;
            // Phase A: lane j describes pixel tile_begin + j.
            long long s = tile_begin + lane;
            int code = CODE_OUTSIDE;
            float lse = 0.0f;
            float term = 0.0f;
            if (s < S) {
                int any_bad = 0;
                float max_x = -INFINITY;
                for (long long k = 0; k < C; ++k) {
                    float x = pred[pred_index(layout_nhwc, n, k, s, C, S)];
                    any_bad |= bad_pred(x, from_logits);
                    max_x = fmaxf(max_x, x);
                }
                long long y = class_index(target, target_type, n * S + s);
                code = pixel_code(y, any_bad, C, has_ignore, ignore_index);
                if (code >= 0) {
                    float x_y = pred[pred_index(layout_nhwc, n, code, s, C, S)];
                    float log_py;
                    float py;
                    if (from_logits) {
                        lse = log_sum_exp(pred, layout_nhwc, n, s, C, S, max_x);
                        log_py = x_y - lse;
                        py = expf(log_py);
                    } else {
                        py = clamp_prob(x_y, eps);
                        log_py = logf(py);
                    }
                    if (pixel_term == TERM_CE) {
                        term = -log_py;
                    } else if (pixel_term == TERM_FOCAL) {
                        // 1 - p_y: from probabilities clamp(1 - x_y) (see bce_prob)
                        float qy = from_logits ? 1.0f - py : clamp_prob(1.0f - x_y, eps);
                        term = -pow_g(qy, gamma) * log_py;
                    }
                }
            }
            tile_code[warp][lane] = code;
            tile_lse[warp][lane] = lse;
            tile_term[warp][lane] = term;
            __syncwarp();
            // Phase B: lane L adds the 32 pixels of the tile for class c.
            float f[STATS] = {0, 0, 0, 0, 0, 0};
            if (c < C) {
                for (int j = lane % share; j < 32; j += share) {
                    int code_j = tile_code[warp][j];
                    if (code_j == CODE_OUTSIDE) break;
                    float x = pred[pred_index(layout_nhwc, n, c, tile_begin + j, C, S)];
                    if (bad_pred(x, from_logits)) f[STAT_BAD_PRED] += 1.0f;
                    if (c == 0 && code_j == CODE_BAD_TARGET) f[STAT_BAD_TARGET] += 1.0f;
                    if (code_j >= 0) {
                        float p = from_logits ? expf(x - tile_lse[warp][j]) : x;
                        f[STAT_P] += p;
                        if (code_j == c) {
                            f[STAT_I] += p;
                            f[STAT_T] += 1.0f;
                            f[STAT_TERM] += tile_term[warp][j];
                        }
                    }
                }
            }
#pragma unroll
            for (int k = 0; k < STATS; ++k) acc[k] += (double) f[k];
            __syncwarp();
        }
#pragma unroll
        for (int k = 0; k < STATS; ++k) lanes[warp][lane][k] = acc[k];
        __syncthreads();
        if (threadIdx.x < per_round && m * per_round + threadIdx.x < C) {
            long long cc = m * per_round + threadIdx.x;
            for (int k = 0; k < STATS; ++k) {
                double sum = 0.0;
                for (int w = 0; w < WARPS; ++w) {
                    for (int g = 0; g < share; ++g) sum += lanes[w][threadIdx.x * share + g][k];
                }
                partial[((long long) blockIdx.x * C + cc) * STATS + k] = sum;
            }
        }
        __syncthreads();
    }
}

// The stats pass. partial receives STATS doubles per (row, block): binary at
// (row * blocks_per_unit + chunk), multiclass at ((n * blocks_per_unit + chunk) * C + c); `combine`
// adds them per row.
extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS_PER_SM)
stats(const float* __restrict__ pred, const void* __restrict__ target, double* __restrict__ partial,
      long long C, long long S, int multiclass, int from_logits, int layout_nhwc, int target_type,
      int pixel_term, int has_ignore, int ignore_index, float pos_weight, float neg_weight, float gamma,
      float prob_clamp_eps, int blocks_per_unit, int items) {
    if (multiclass) {
        stats_multiclass(pred, target, partial, C, S, from_logits, layout_nhwc, target_type, pixel_term, has_ignore,
                         ignore_index, gamma, prob_clamp_eps, blocks_per_unit, items);
    } else {
        stats_binary(pred, target, partial, C, S, from_logits, layout_nhwc, target_type, pixel_term, pos_weight,
                     neg_weight, gamma, prob_clamp_eps, blocks_per_unit, items);
    }
}

// out[row * k + j] = sum over b = 0 .. blocks_per_unit-1 of partial at
// (((row / inner) * blocks_per_unit + b) * inner + row % inner) * k + j, in double; thread t adds
// b = t, t + THREADS, ... in order, then the block adds the threads in a fixed tree. One block per row.
extern "C" __global__ void __launch_bounds__(THREADS)
combine(const double* __restrict__ partial, double* __restrict__ out, int inner, int blocks_per_unit, int k) {
    __shared__ double slots[STATS][32];
    long long row = blockIdx.x;
    long long outer = row / inner;
    long long in = row % inner;
    double v[STATS] = {0, 0, 0, 0, 0, 0};
    for (long long b = threadIdx.x; b < blocks_per_unit; b += THREADS) {
        const double* p = partial + (((outer * blocks_per_unit + b) * inner + in) * k);
        for (int j = 0; j < k; ++j) v[j] += p[j];
    }
    block_sum<STATS>(v, slots);
    if (threadIdx.x == 0) {
        for (int j = 0; j < k; ++j) out[row * k + j] = v[j];
    }
}

// ---- grad ----------------------------------------------------------------------------------

// One binary/multilabel element of the grad pass (see grad): dL/dx from logits, dL/dp from probabilities.
__device__ __forceinline__ float binary_grad(float x, float t, float ps, float a, float b, int from_logits,
                                             int pixel_term, int region, float pos_weight, float neg_weight,
                                             float gamma, float eps) {
    float d = 0.0f;
    if (from_logits) {
        float p = sigmoid_of(x);
        if (pixel_term == TERM_BCE) {
            d += ps * (p - t);
        } else if (pixel_term == TERM_FOCAL) {
            d += ps * focal_logits_grad(x, t, pos_weight, neg_weight, gamma);
        }
        if (region) d += (t * a + b) * p * sigmoid_of(-x);
    } else {
        if (pixel_term == TERM_BCE) {
            d += ps * bce_prob_grad(x, t, eps);
        } else if (pixel_term == TERM_FOCAL) {
            d += ps * focal_prob_grad(x, t, pos_weight, neg_weight, gamma, eps);
        }
        if (region) d += t * a + b;
    }
    return d;
}

// Binary/multilabel, per element with ps = pixel_scale[c], A = region_a[row], B = region_b[row]:
//   from probabilities: dL/dp = ps dterm/dp + (t A + B)
//   from logits:        dL/dx = ps dterm/dx + (t A + B) p (1 - p), dterm/dx = p - t (bce).
// Multiclass, per pixel, r_c = t_c A[n,c] + B[n,c], ps = pixel_scale[y]; ignored pixels get 0:
//   from logits:        dL/dx_c = ps dterm/dx_c + p_c (r_c - sum_k p_k r_k),
//                       dterm/dx_c = p_c - t_c (ce) or F (t_c - p_c) (focal, F the focal slope);
//   from probabilities: dL/dp_c = ps dterm/dp_y [c == y] + r_c,
//                       dterm/dp_y = -1 / pc (ce) or g qc^(g-1) log pc - qc^g / pc (focal).
// coef holds pixel_scale[C], then region_a[N C], then region_b[N C].
extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS_PER_SM)
grad(const float* __restrict__ pred, const void* __restrict__ target, const float* __restrict__ coef,
     float* __restrict__ out, long long N, long long C, long long S, int multiclass, int from_logits,
     int layout_nhwc, int target_type, int pixel_term, int region, int has_ignore, int ignore_index,
     float pos_weight, float neg_weight, float gamma, float eps, int blocks_per_unit, int items) {
    const float* pixel_scale = coef;
    const float* region_a = coef + C;
    const float* region_b = coef + C + N * C;
    long long unit = blockIdx.x / blocks_per_unit;
    long long begin = block_begin(blocks_per_unit, items);
    if (!multiclass) {
        long long n = unit / C;
        long long c = unit % C;
        float ps = pixel_scale[c];
        float a = region_a[unit];
        float b = region_b[unit];
        for (int k1 = 0; k1 < items; k1 += LOADS) {
            // the loads of LOADS elements first, then their gradients
            float xs[LOADS];
            float ts[LOADS];
            long long is[LOADS];
            bool in[LOADS];
            load_binary_group(pred, target, target_type, layout_nhwc, n, c, C, S, begin, k1, items, xs, ts, is, in);
#pragma unroll
            for (int u = 0; u < LOADS; ++u) {
                if (in[u]) {
                    out[is[u]] = binary_grad(xs[u], ts[u], ps, a, b, from_logits, pixel_term, region, pos_weight,
                                             neg_weight, gamma, eps);
                }
            }
        }
        return;
    }
    long long n = unit;
    for (int k = 0; k < items; ++k) {
        long long s = begin + (long long) k * THREADS + threadIdx.x;
        if (s >= S) break;
        long long y = class_index(target, target_type, n * S + s);
        if ((has_ignore && y == (long long) ignore_index) || y < 0 || y >= C) {
            for (long long c = 0; c < C; ++c) out[pred_index(layout_nhwc, n, c, s, C, S)] = 0.0f;
            continue;
        }
        float x_y = pred[pred_index(layout_nhwc, n, y, s, C, S)];
        float lse = 0.0f;
        float log_py;
        float py;
        if (from_logits) {
            float max_x = -INFINITY;
            for (long long c = 0; c < C; ++c) max_x = fmaxf(max_x, pred[pred_index(layout_nhwc, n, c, s, C, S)]);
            lse = log_sum_exp(pred, layout_nhwc, n, s, C, S, max_x);
            log_py = x_y - lse;
            py = expf(log_py);
        } else {
            py = x_y;
            log_py = logf(clamp_prob(x_y, eps));
        }
        float ps = pixel_scale[y];
        float sum_pr = 0.0f;
        if (from_logits && region) {
            for (long long c = 0; c < C; ++c) {
                float p = expf(pred[pred_index(layout_nhwc, n, c, s, C, S)] - lse);
                float r = (c == y ? region_a[n * C + c] : 0.0f) + region_b[n * C + c];
                sum_pr += p * r;
            }
        }
        float slope = 0.0f;
        if (pixel_term == TERM_FOCAL) {
            if (from_logits) {
                slope = ps * focal_multiclass_slope(log_py, py, gamma);
            } else {
                float pc = clamp_prob(py, eps);
                float qc = clamp_prob(1.0f - py, eps);
                float first = gamma == 0.0f ? 0.0f : gamma * powf(qc, gamma - 1.0f) * logf(pc);
                slope = ps * (first - pow_g(qc, gamma) / pc);
            }
        } else if (pixel_term == TERM_CE && !from_logits) {
            slope = ps * (-1.0f / clamp_prob(py, eps));
        }
        for (long long c = 0; c < C; ++c) {
            long long i = pred_index(layout_nhwc, n, c, s, C, S);
            float t = c == y ? 1.0f : 0.0f;
            float r = region ? t * region_a[n * C + c] + region_b[n * C + c] : 0.0f;
            float d;
            if (from_logits) {
                float p = expf(pred[i] - lse);
                float pix = 0.0f;
                if (pixel_term == TERM_CE) {
                    pix = ps * (p - t);
                } else if (pixel_term == TERM_FOCAL) {
                    pix = slope * (t - p);
                }
                d = pix + (region ? p * (r - sum_pr) : 0.0f);
            } else {
                d = (c == y ? slope : 0.0f) + r;
            }
            out[i] = d;
        }
    }
}

// ---- confusion -----------------------------------------------------------------------------

// Hard counts, out[c * 4 + k] with k = 0 TP, 1 FP, 2 FN, 3 TN, then BAD_PRED, BAD_TARGET and
// (multiclass) the number of counted pixels (TN is derived on the host: counted - TP - FP - FN).
// Binary: positive where x >= cut (cut = threshold, or logit(threshold) from logits), target
// positive where t >= 0.5. Multiclass: argmax over C, ties to the lowest index. Integer atomics
// only (exact). counts_in_shared: per-class counters in dynamic shared memory (3 C ints).
extern "C" __global__ void __launch_bounds__(THREADS)
confusion(const float* __restrict__ pred, const void* __restrict__ target, unsigned long long* __restrict__ out,
          long long C, long long S, int multiclass, int from_logits, int layout_nhwc, int target_type,
          int has_ignore, int ignore_index, double cut, int blocks_per_unit, int items, int counts_in_shared) {
    extern __shared__ unsigned int class_counts[];
    __shared__ double slots[STATS][32];
    long long unit = blockIdx.x / blocks_per_unit;
    long long begin = block_begin(blocks_per_unit, items);
    if (!multiclass) {
        long long n = unit / C;
        long long c = unit % C;
        double v[STATS] = {0, 0, 0, 0, 0, 0}; // TP, FP, FN, TN, bad pred, bad target
        for (int k = 0; k < items; ++k) {
            long long s = begin + (long long) k * THREADS + threadIdx.x;
            if (s >= S) break;
            long long i = pred_index(layout_nhwc, n, c, s, C, S);
            float x = pred[i];
            float t = target_value(target, target_type, i);
            if (bad_pred(x, from_logits)) { v[4] += 1.0; continue; }
            if (bad_target(t)) { v[5] += 1.0; continue; }
            bool predicted = (double) x >= cut;
            bool actual = t >= 0.5f;
            v[predicted ? (actual ? 0 : 1) : (actual ? 2 : 3)] += 1.0;
        }
        block_sum<STATS>(v, slots);
        if (threadIdx.x == 0) {
            for (int k = 0; k < 4; ++k) atomicAdd(&out[c * 4 + k], (unsigned long long) v[k]);
            atomicAdd(&out[C * 4], (unsigned long long) v[4]);
            atomicAdd(&out[C * 4 + 1], (unsigned long long) v[5]);
        }
        return;
    }
    if (counts_in_shared) {
        for (long long i = threadIdx.x; i < 3 * C; i += THREADS) class_counts[i] = 0u;
        __syncthreads();
    }
    long long n = unit;
    double v[STATS] = {0, 0, 0, 0, 0, 0}; // bad pred, bad target, counted
    for (int k = 0; k < items; ++k) {
        long long s = begin + (long long) k * THREADS + threadIdx.x;
        if (s >= S) break;
        long long best = 0;
        float best_value = -INFINITY;
        int any_bad = 0;
        for (long long c = 0; c < C; ++c) {
            float x = pred[pred_index(layout_nhwc, n, c, s, C, S)];
            if (bad_pred(x, from_logits)) {
                v[0] += 1.0;
                any_bad = 1;
            } else if (x > best_value) {
                best_value = x;
                best = c;
            }
        }
        long long y = class_index(target, target_type, n * S + s);
        int code = pixel_code(y, any_bad, C, has_ignore, ignore_index);
        if (code == CODE_BAD_TARGET) v[1] += 1.0;
        if (code < 0) continue;
        v[2] += 1.0;
        // TP[y] when best == y, else FP[best] and FN[y]; every other class is a TN.
        if (best == y) {
            if (counts_in_shared) atomicAdd(&class_counts[y * 3 + 0], 1u);
            else atomicAdd(&out[y * 4 + 0], 1ull);
        } else {
            if (counts_in_shared) {
                atomicAdd(&class_counts[best * 3 + 1], 1u);
                atomicAdd(&class_counts[y * 3 + 2], 1u);
            } else {
                atomicAdd(&out[best * 4 + 1], 1ull);
                atomicAdd(&out[y * 4 + 2], 1ull);
            }
        }
    }
    block_sum<STATS>(v, slots);
    if (threadIdx.x == 0) {
        atomicAdd(&out[C * 4], (unsigned long long) v[0]);
        atomicAdd(&out[C * 4 + 1], (unsigned long long) v[1]);
        atomicAdd(&out[C * 4 + 2], (unsigned long long) v[2]);
    }
    if (counts_in_shared) {
        // block_sum ended with a barrier, so every shared counter is final here
        for (long long i = threadIdx.x; i < 3 * C; i += THREADS) {
            unsigned int count = class_counts[i];
            if (count != 0u) atomicAdd(&out[(i / 3) * 4 + i % 3], (unsigned long long) count);
        }
    }
}

// ---- stream_read ---------------------------------------------------------------------------

// The benchmark floor: partial[b] = sum of the floats of block b's range (THREADS * items
// elements), float over FLUSH elements per thread, then double; `combine` adds the partials.
extern "C" __global__ void __launch_bounds__(THREADS)
stream_read(const float* __restrict__ data, double* __restrict__ partial, long long length, int items) {
    __shared__ double slots[1][32];
    long long begin = (long long) blockIdx.x * THREADS * items;
    double acc[1] = {0.0};
    for (int k0 = 0; k0 < items; k0 += FLUSH) {
        float f = 0.0f;
        for (int k1 = k0; k1 < k0 + FLUSH && k1 < items; k1 += LOADS_STREAM) {
            float v[LOADS_STREAM];
#pragma unroll
            for (int u = 0; u < LOADS_STREAM; ++u) {
                long long i = begin + (long long) (k1 + u) * THREADS + threadIdx.x;
                v[u] = k1 + u < items && i < length ? data[i] : 0.0f;
            }
#pragma unroll
            for (int u = 0; u < LOADS_STREAM; ++u) f += v[u];
        }
        acc[0] += (double) f;
    }
    block_sum<1>(acc, slots);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc[0];
}
