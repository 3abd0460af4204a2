// segloss CUDA kernels: the stats, grad, confusion and stream_read passes of the design, plus
// `combine`, which adds the per-block partial sums of a pass in a fixed order in double.
//
// Compiled ahead of time to PTX (ci/build-ptx.sh: nvcc -ptx -arch=compute_75 -I kernels-cl, no
// --use_fast_math) and shipped in the jar, so the specialisation that the OpenCL kernels get from the -D
// defines of Problem.defines() (MULTICLASS, FROM_LOGITS, LAYOUT_NHWC, TARGET_TYPE, PIXEL_TERM, REGION,
// HAS_IGNORE, SQUARES, POS_WEIGHT, LABEL_SMOOTHING) arrives here as kernel parameters of the same names
// and meaning. They are uniform over the launch, so each branch on them is taken the same way by every
// thread and the passes stay memory-bound.
//
// The pixel terms, their derivatives and the sigmoid / softmax chains are NOT written here: they are the
// sl_* functions of kernels-cl/segloss_terms.h, shared with the OpenCL kernels. The stat slots, term and
// target codes and the probability clamp come from kernels-cl/segloss_gen.h, generated from Java.
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
#include "segloss_gen.h"
#include "segloss_terms.h"

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

// Pixel codes of the multiclass passes (a valid pixel's code is its class y >= 0).
#define CODE_SKIP (-1)       // ignored, or a pred value of the pixel is refused
#define CODE_BAD_TARGET (-2) // class index outside [0, C), not the ignore index
#define CODE_OUTSIDE (-3)    // past the end of the sample

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

// Binary/multilabel, per row (n, c), over the valid elements (not refused, target not the ignore value):
//   I = sum p t, P = sum p, T = sum t, P2 = sum p^2, T2 = sum t^2, COUNT = valid elements,
//   TERM = sum binary_term(x, tt) (bce, bce with pos_weight, focal; tt the label-smoothed target).
// Block b covers elements [chunk * THREADS * items, +THREADS * items) of row b / blocks_per_unit.
__device__ void stats_binary(const float* __restrict__ pred, const void* __restrict__ target,
                             double* __restrict__ partial, long long C, long long S, int from_logits,
                             int layout_nhwc, int target_type, int pixel_term, int has_ignore, int ignore_index,
                             float aw, float nw, float gamma, int has_pw, const float* __restrict__ pos_weight,
                             float ls_keep, float ls_add, int blocks_per_unit, int items) {
    __shared__ double slots[STATS][32];
    long long row = blockIdx.x / blocks_per_unit;
    long long n = row / C;
    long long c = row % C;
    long long begin = block_begin(blocks_per_unit, items);
    float pw = has_pw ? pos_weight[c] : 1.0f;
    double acc[STATS] = {0};
    for (int k0 = 0; k0 < items; k0 += FLUSH) {
        float f[STATS] = {0};
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
                if (has_ignore && t == (float) ignore_index) continue;
                if (bad_target(t)) { f[STAT_BAD_TARGET] += 1.0f; continue; }
                float p = x;
                float q = 1.0f - x;
                float l = 0.0f;
                if (from_logits) l = sl_log1p(sl_sigmoid_pair(x, &p, &q));
                f[STAT_I] += p * t;
                f[STAT_P] += p;
                f[STAT_T] += t;
                f[STAT_P2] += p * p;
                f[STAT_T2] += t * t;
                f[STAT_COUNT] += 1.0f;
                if (pixel_term != TERM_NONE) {
                    f[STAT_TERM] += sl_binary_term(pixel_term, from_logits, has_pw, x, sl_smooth_target(t, ls_keep, ls_add),
                                                p, q, l, sl_clamp(x), sl_clamp(1.0f - x), pw, aw, nw, gamma);
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

// Soft multiclass targets of pixel s of sample n (pred's layout): every value >= 0 and finite, sum within
// SOFT_TARGET_SUM_TOLERANCE of 1.
__device__ __forceinline__ bool soft_pixel_ok(const void* target, int layout_nhwc, long long n, long long s,
                                              long long C, long long S) {
    float sum = 0.0f;
    bool ok = true;
    for (long long k = 0; k < C; ++k) {
        float t = ((const float*) target)[pred_index(layout_nhwc, n, k, s, C, S)];
        ok = ok && t >= 0.0f && isfinite(t);
        sum += t;
    }
    return ok && fabsf(sum - 1.0f) <= SOFT_TARGET_SUM_TOLERANCE;
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
// General (soft targets, or label smoothing of a class map: general = 1): the pixel term of every class c,
// t'_c term(p_c) with t'_c = t_c ls_keep + ls_add, goes to row (n, c); I, T, T2 take t_c (soft: the stored value,
// pred's layout; a pixel whose values are below 0 or sum off 1 by more than SOFT_TARGET_SUM_TOLERANCE is refused).
__device__ void stats_multiclass(const float* __restrict__ pred, const void* __restrict__ target,
                                 double* __restrict__ partial, long long C, long long S, int from_logits,
                                 int layout_nhwc, int target_type, int pixel_term, int has_ignore,
                                 int ignore_index, float gamma, int soft, int general, float ls_keep, float ls_add,
                                 int blocks_per_unit, int items) {
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
        double acc[STATS] = {0};
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
                if (soft) {
                    code = soft_pixel_ok(target, layout_nhwc, n, s, C, S) ? (any_bad ? CODE_SKIP : 0) : CODE_BAD_TARGET;
                } else {
                    long long y = class_index(target, target_type, n * S + s);
                    code = pixel_code(y, any_bad, C, has_ignore, ignore_index);
                }
                if (code >= 0 && general) {
                    if (from_logits) lse = log_sum_exp(pred, layout_nhwc, n, s, C, S, max_x);
                } else if (code >= 0) {
                    float x_y = pred[pred_index(layout_nhwc, n, code, s, C, S)];
                    float log_py;
                    float py;
                    if (from_logits) {
                        lse = log_sum_exp(pred, layout_nhwc, n, s, C, S, max_x);
                        log_py = x_y - lse;
                        py = expf(log_py);
                    } else {
                        py = sl_clamp(x_y);
                        log_py = logf(py);
                    }
                    // 1 - p_y: from probabilities clamp(1 - x_y) (see bce_prob)
                    float qy = from_logits ? 1.0f - py : sl_clamp(1.0f - x_y);
                    term = sl_mc_term(pixel_term, qy, log_py, gamma);
                }
            }
            tile_code[warp][lane] = code;
            tile_lse[warp][lane] = lse;
            tile_term[warp][lane] = term;
            __syncwarp();
            // Phase B: lane L adds the 32 pixels of the tile for class c.
            float f[STATS] = {0};
            if (c < C) {
                for (int j = lane % share; j < 32; j += share) {
                    int code_j = tile_code[warp][j];
                    if (code_j == CODE_OUTSIDE) break;
                    float x = pred[pred_index(layout_nhwc, n, c, tile_begin + j, C, S)];
                    if (bad_pred(x, from_logits)) f[STAT_BAD_PRED] += 1.0f;
                    if (c == 0 && code_j == CODE_BAD_TARGET) f[STAT_BAD_TARGET] += 1.0f;
                    if (code_j >= 0 && general) {
                        float lse_j = tile_lse[warp][j];
                        float p = from_logits ? expf(x - lse_j) : x;
                        float log_p = from_logits ? x - lse_j : logf(sl_clamp(x));
                        float q = from_logits ? 1.0f - p : sl_clamp(1.0f - x);
                        float t = soft ? ((const float*) target)[pred_index(layout_nhwc, n, c, tile_begin + j, C, S)]
                                       : (code_j == c ? 1.0f : 0.0f);
                        float tt = sl_smooth_target(t, ls_keep, ls_add);
                        f[STAT_P] += p;
                        f[STAT_P2] += p * p;
                        f[STAT_I] += p * t;
                        f[STAT_T] += t;
                        f[STAT_T2] += t * t;
                        f[STAT_TERM] += tt * sl_mc_term(pixel_term, q, log_p, gamma);
                    } else if (code_j >= 0) {
                        float p = from_logits ? expf(x - tile_lse[warp][j]) : x;
                        f[STAT_P] += p;
                        f[STAT_P2] += p * p;
                        if (code_j == c) {
                            f[STAT_I] += p;
                            f[STAT_T] += 1.0f;
                            f[STAT_T2] += 1.0f;
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
      int pixel_term, int has_ignore, int ignore_index, float aw, float nw, float gamma, int has_pw,
      const float* __restrict__ pos_weight, float ls_keep, float ls_add, int soft, int general, int blocks_per_unit,
      int items) {
    if (multiclass) {
        stats_multiclass(pred, target, partial, C, S, from_logits, layout_nhwc, target_type, pixel_term, has_ignore,
                         ignore_index, gamma, soft, general, ls_keep, ls_add, blocks_per_unit, items);
    } else {
        stats_binary(pred, target, partial, C, S, from_logits, layout_nhwc, target_type, pixel_term, has_ignore,
                     ignore_index, aw, nw, gamma, has_pw, pos_weight, ls_keep, ls_add, blocks_per_unit, items);
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
    double v[STATS] = {0};
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
__device__ __forceinline__ float binary_grad(float x, float t, float ps, float a, float b, float pw, int from_logits,
                                             int pixel_term, int region, int squares, int has_pw, float ls_keep,
                                             float ls_add, float aw, float nw, float gamma) {
    float p = x;
    float q = 1.0f - x;
    float l = 0.0f;
    if (from_logits) l = sl_log1p(sl_sigmoid_pair(x, &p, &q));
    float d = 0.0f;
    if (pixel_term != TERM_NONE) {
        d += ps * sl_binary_term_d(pixel_term, from_logits, has_pw, x, sl_smooth_target(t, ls_keep, ls_add), p, q, l,
                                sl_clamp(x), sl_clamp(1.0f - x), pw, aw, nw, gamma);
    }
    if (region) {
        float dldp = t * a + b * (squares ? 2.0f * p : 1.0f);
        d += from_logits ? sl_sigmoid_chain(dldp, p, q) : dldp;
    }
    return d;
}

// Multiclass with per-class targets (soft targets, or label smoothing of a class map), pixel s of sample n,
// s_c = pixel_scale[c], t'_c = t_c ls_keep + ls_add, r_c = t_c A + B P'(p_c):
//   from logits:        h_c = s_c t'_c F_c (F = -1 for ce, sl_focal_mc_slope for focal),
//                       dL/dx_c = h_c - p_c sum_k h_k + p_c (r_c - sum_k p_k r_k);
//   from probabilities: dL/dp_c = s_c t'_c dterm/dp_c + r_c (sl_focal_mc_prob_dp, gamma 0 for ce).
// Pixels that do not count get 0.
__device__ void grad_multiclass_general(const float* __restrict__ pred, const void* __restrict__ target,
                                        const float* __restrict__ coef, float* __restrict__ out, long long N,
                                        long long C, long long S, long long n, long long begin, int from_logits,
                                        int layout_nhwc, int target_type, int pixel_term, int region, int has_ignore,
                                        int ignore_index, float gamma, int squares, int soft, float ls_keep,
                                        float ls_add, int items) {
    const float* pixel_scale = coef;
    const float* region_a = coef + C;
    const float* region_b = coef + C + N * C;
    for (int k = 0; k < items; ++k) {
        long long s = begin + (long long) k * THREADS + threadIdx.x;
        if (s >= S) break;
        long long y = -1;
        bool counts;
        if (soft) {
            counts = soft_pixel_ok(target, layout_nhwc, n, s, C, S);
        } else {
            y = class_index(target, target_type, n * S + s);
            counts = !(has_ignore && y == (long long) ignore_index) && y >= 0 && y < C;
        }
        if (!counts) {
            for (long long c = 0; c < C; ++c) out[pred_index(layout_nhwc, n, c, s, C, S)] = 0.0f;
            continue;
        }
        float lse = 0.0f;
        if (from_logits) {
            float max_x = -INFINITY;
            for (long long c = 0; c < C; ++c) max_x = fmaxf(max_x, pred[pred_index(layout_nhwc, n, c, s, C, S)]);
            lse = log_sum_exp(pred, layout_nhwc, n, s, C, S, max_x);
        }
        float sum_h = 0.0f;
        float sum_pr = 0.0f;
        for (long long c = 0; c < C; ++c) {
            long long i = pred_index(layout_nhwc, n, c, s, C, S);
            float x = pred[i];
            float t = soft ? ((const float*) target)[i] : (c == y ? 1.0f : 0.0f);
            float p = from_logits ? expf(x - lse) : x;
            float r = region ? t * region_a[n * C + c] + region_b[n * C + c] * (squares ? 2.0f * p : 1.0f) : 0.0f;
            if (from_logits) {
                float f = sl_mc_slope(pixel_term, p, 1.0f - p, x - lse, gamma);
                sum_h += pixel_scale[c] * sl_smooth_target(t, ls_keep, ls_add) * f;
                sum_pr += p * r;
            }
        }
        for (long long c = 0; c < C; ++c) {
            long long i = pred_index(layout_nhwc, n, c, s, C, S);
            float x = pred[i];
            float t = soft ? ((const float*) target)[i] : (c == y ? 1.0f : 0.0f);
            float tt = sl_smooth_target(t, ls_keep, ls_add) * pixel_scale[c];
            float d;
            if (from_logits) {
                float p = expf(x - lse);
                float f = sl_mc_slope(pixel_term, p, 1.0f - p, x - lse, gamma);
                float r = region ? t * region_a[n * C + c] + region_b[n * C + c] * (squares ? 2.0f * p : 1.0f) : 0.0f;
                d = tt * f - p * sum_h + p * (r - sum_pr);
            } else {
                float pc = sl_clamp(x);
                float qc = sl_clamp(1.0f - x);
                float dterm = sl_mc_prob_dp(pixel_term, pc, qc, gamma);
                d = (tt == 0.0f ? 0.0f : tt * dterm)
                    + (region ? t * region_a[n * C + c] + region_b[n * C + c] * (squares ? 2.0f * x : 1.0f) : 0.0f);
            }
            out[i] = d;
        }
    }
}

// Binary/multilabel, per element with ps = pixel_scale[c], A = region_a[row], B = region_b[row],
// P' = dP/dp = 1 (or 2p with squares); elements whose target is the ignore value get 0:
//   from probabilities: dL/dp = ps dterm/dp + (t A + B P')
//   from logits:        dL/dx = ps dterm/dx + (t A + B P') p (1 - p), dterm/dx = p - t (bce).
// Multiclass, per pixel, r_c = t_c A[n,c] + B[n,c], ps = pixel_scale[y]; ignored pixels get 0:
//   from logits:        dL/dx_c = ps dterm/dx_c + p_c (r_c - sum_k p_k r_k),
//                       dterm/dx_c = p_c - t_c (ce) or F (t_c - p_c) (focal, F the focal slope);
//   from probabilities: dL/dp_c = ps dterm/dp_y [c == y] + r_c,
//                       dterm/dp_y = -1 / pc (ce) or g qc^(g-1) log pc - qc^g / pc (focal).
// coef holds pixel_scale[C], then region_a[N C], then region_b[N C], then pos_weight[C].
extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS_PER_SM)
grad(const float* __restrict__ pred, const void* __restrict__ target, const float* __restrict__ coef,
     float* __restrict__ out, long long N, long long C, long long S, int multiclass, int from_logits,
     int layout_nhwc, int target_type, int pixel_term, int region, int has_ignore, int ignore_index,
     float aw, float nw, float gamma, int squares, int has_pw, float ls_keep, float ls_add, int soft, int general,
     int blocks_per_unit, int items) {
    const float* pixel_scale = coef;
    const float* region_a = coef + C;
    const float* region_b = coef + C + N * C;
    const float* pos_weight = coef + C + 2 * N * C;
    long long unit = blockIdx.x / blocks_per_unit;
    long long begin = block_begin(blocks_per_unit, items);
    if (!multiclass) {
        long long n = unit / C;
        long long c = unit % C;
        float ps = pixel_scale[c];
        float a = region_a[unit];
        float b = region_b[unit];
        float pw = pos_weight[c];
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
                    bool ignored = has_ignore && ts[u] == (float) ignore_index;
                    out[is[u]] = ignored ? 0.0f : binary_grad(xs[u], ts[u], ps, a, b, pw, from_logits, pixel_term,
                                                              region, squares, has_pw, ls_keep, ls_add, aw, nw, gamma);
                }
            }
        }
        return;
    }
    long long n = unit;
    if (general) {
        grad_multiclass_general(pred, target, coef, out, N, C, S, n, begin, from_logits, layout_nhwc, target_type,
                                pixel_term, region, has_ignore, ignore_index, gamma, squares, soft, ls_keep, ls_add,
                                items);
        return;
    }
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
            log_py = logf(sl_clamp(x_y));
        }
        float ps = pixel_scale[y];
        float sum_pr = 0.0f;
        if (from_logits && region) {
            for (long long c = 0; c < C; ++c) {
                float p = expf(pred[pred_index(layout_nhwc, n, c, s, C, S)] - lse);
                float r = (c == y ? region_a[n * C + c] : 0.0f) + region_b[n * C + c] * (squares ? 2.0f * p : 1.0f);
                sum_pr += p * r;
            }
        }
        float slope = from_logits ? ps * sl_mc_slope(pixel_term, py, 1.0f - py, log_py, gamma)
                                  : ps * sl_mc_prob_dp(pixel_term, sl_clamp(py), sl_clamp(1.0f - py), gamma);
        for (long long c = 0; c < C; ++c) {
            long long i = pred_index(layout_nhwc, n, c, s, C, S);
            float t = c == y ? 1.0f : 0.0f;
            float p = from_logits ? expf(pred[i] - lse) : pred[i];
            float r = region ? t * region_a[n * C + c] + region_b[n * C + c] * (squares ? 2.0f * p : 1.0f) : 0.0f;
            float d;
            if (from_logits) {
                float pix = slope * (t - p);
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
        double v[STATS] = {0}; // TP, FP, FN, TN, bad pred, bad target
        for (int k = 0; k < items; ++k) {
            long long s = begin + (long long) k * THREADS + threadIdx.x;
            if (s >= S) break;
            long long i = pred_index(layout_nhwc, n, c, s, C, S);
            float x = pred[i];
            float t = target_value(target, target_type, i);
            if (bad_pred(x, from_logits)) { v[4] += 1.0; continue; }
            if (has_ignore && t == (float) ignore_index) continue;
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
    double v[STATS] = {0}; // bad pred, bad target, counted
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
