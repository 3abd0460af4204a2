// segloss CUDA kernels: the stats, grad, confusion and stream_read passes of the design, plus
// `combine`, which adds the per-block partial sums of a pass in a fixed order in double.
//
// Compiled ahead of time to PTX (ci/build-ptx.sh: nvcc -ptx -arch=compute_75 -I kernels-cl, no
// --use_fast_math) and shipped in the jar. The specialisation that the OpenCL kernels get from the -D
// defines of Problem.defines() is done here at compile time too: each pass body is a template over the
// problem's flags, instantiated once per variant as an extern "C" entry point with a generated name
// (stats_binary_logits_bce_uint8, grad_multiclass_probs_focal_soft_region, ...). The variant list is
// generated from Java (CudaEntryPoints -> SEGLOSS_*_ENTRIES in segloss_gen.h), CudaBackend picks the entry
// by name from the problem, KernelSignatureTest checks every entry's parameters against Java.
//
// Template parameters (compile time): from logits; the pixel term (binary: none, bce, bce with pos_weight,
// focal; multiclass: none, ce, focal); the binary target's element type; the multiclass target mode (hard
// class map, hard with label smoothing, soft targets); the multiclass region term of grad; confusion's
// shared-memory counters. What stays a kernel parameter, and why it needs no test per element:
//   - layout: a stride pair (class_stride, pixel_stride), not a flag: element (n, c, s) is at
//     n C S + c class_stride + s pixel_stride (NCHW: S, 1; NHWC: 1, C);
//   - binary ignore_index: the ignore VALUE as a float, NaN when there is none (t == NaN is never true);
//   - label smoothing: the pixel term's target is t keep + add, keep = 1 and add = 0 when off (exact);
//   - squared_pred in grad: dP/dp = dp_mul p + dp_add, (2, 0) with squared_pred, (0, 1) without (exact for the
//     finite p that grad sees: the engine refuses bad pred values before grad);
//   - the binary region term in grad: rows without one get A = B = 0 (four flops per element, no branch);
//   - multiclass target type and ignore_index: tested once per pixel (not per element) against the C pred
//     values, C exps and C stores of that pixel; specialising them would multiply the multiclass entries by 8;
//   - focal gamma: sl_pow / sl_focal_first of segloss_terms.h select the exact small powers (g = 0, 1, 2) on a
//     uniform float, in the focal entries only (OpenCL gets GAMMA_KIND as a define; the header's functions are
//     plain C shared with OpenCL, so a template over it would need a second copy of them).
//
// The pixel terms, their derivatives and the sigmoid / softmax chains are NOT written here: they are the
// sl_* functions of kernels-cl/segloss_terms.h, shared with the OpenCL kernels. The stat slots, term and
// target codes, the probability clamp and the entry list come from kernels-cl/segloss_gen.h, generated from Java.
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

// The binary pixel term of an entry: TERM_NONE, TERM_BCE, TERM_FOCAL, or bce with pos_weight.
#define BINARY_BCE_PW 100
// Multiclass target modes: a class map; a class map with label smoothing of the pixel term (every class
// gets t'_c term(p_c)); soft targets (class probabilities of pred's shape).
#define MC_HARD 0
#define MC_SMOOTH 1
#define MC_SOFT 2

// Where the elements are: element (n, c, s) at n C S + c cs + s ps.
struct Geometry {
    long long C;
    long long S;
    long long cs;
    long long ps;
};

__device__ __forceinline__ long long pred_index(const Geometry& g, long long n, long long c, long long s) {
    return n * g.C * g.S + c * g.cs + s * g.ps;
}

template <bool LOGITS>
__device__ __forceinline__ bool bad_pred(float x) {
    return LOGITS ? !isfinite(x) : !(x >= 0.0f && x <= 1.0f);
}

// Binary target value at i (uint8 read unsigned).
template <int TARGET>
__device__ __forceinline__ float target_value(const void* target, long long i) {
    if constexpr (TARGET == TARGET_UINT8) return (float) ((const unsigned char*) target)[i];
    else if constexpr (TARGET == TARGET_INT32) return (float) ((const int*) target)[i];
    else if constexpr (TARGET == TARGET_INT64) return (float) ((const long long*) target)[i];
    else return ((const float*) target)[i];
}

// Class index at i; a float target must be integral and |v| < 1e9, else INT64_MIN (refused). The type is a
// parameter: read once per pixel (see the header comment).
__device__ __forceinline__ long long class_index(const void* target, int target_type, long long i) {
    if (target_type == TARGET_UINT8) return (long long) ((const unsigned char*) target)[i];
    if (target_type == TARGET_INT32) return (long long) ((const int*) target)[i];
    if (target_type == TARGET_INT64) return ((const long long*) target)[i];
    float v = ((const float*) target)[i];
    return (v == rintf(v) && fabsf(v) < 1e9f) ? (long long) v : INT64_MIN;
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
__device__ __forceinline__ float log_sum_exp(const float* __restrict__ pred, const Geometry& g, long long n,
                                             long long s, float max_x) {
    float sum = 0.0f;
    for (long long c = 0; c < g.C; ++c) sum += expf(pred[pred_index(g, n, c, s)] - max_x);
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

// Loads elements k1 .. k1 + LOADS - 1 of this thread in the row that starts at row_base (element k at
// begin + k THREADS + threadIdx.x) before any is used, predicated on the bounds with no branch
// between the loads, so LOADS loads of pred and target are in flight together (see LOADS).
// in[u] says whether element k1 + u exists; is[u] is its pred index (row_base when it does not).
template <int TARGET>
__device__ __forceinline__ void load_binary_group(const float* __restrict__ pred, const void* __restrict__ target,
                                                  long long row_base, long long ps, long long S, long long begin,
                                                  int k1, int items, float (&xs)[LOADS], float (&ts)[LOADS],
                                                  long long (&is)[LOADS], bool (&in)[LOADS]) {
#pragma unroll
    for (int u = 0; u < LOADS; ++u) {
        long long s = begin + (long long) (k1 + u) * THREADS + threadIdx.x;
        in[u] = k1 + u < items && s < S;
        is[u] = row_base + (in[u] ? s : 0) * ps;
        xs[u] = in[u] ? pred[is[u]] : 0.0f;
        ts[u] = in[u] ? target_value<TARGET>(target, is[u]) : 0.0f;
    }
}

// The binary pixel term code of segloss_terms.h and whether it is bce with pos_weight.
#define BINARY_TERM_CODE(TERM) ((TERM) == BINARY_BCE_PW ? TERM_BCE : (TERM))
#define BINARY_HAS_PW(TERM) ((TERM) == BINARY_BCE_PW)

// The parameters of every stats entry (binary and multiclass take the same list; each uses its part).
#define STATS_PARAMS                                                                                            \
    const float* __restrict__ pred, const void* __restrict__ target, double* __restrict__ partial, long long C,  \
        long long S, long long class_stride, long long pixel_stride, int target_type, float ignore_value,         \
        int has_ignore, int ignore_index, float aw, float nw, float gamma, const float* __restrict__ pos_weight,  \
        float ls_keep, float ls_add, int blocks_per_unit, int items
#define STATS_ARGS                                                                                              \
    pred, target, partial, C, S, class_stride, pixel_stride, target_type, ignore_value, has_ignore, ignore_index, \
        aw, nw, gamma, pos_weight, ls_keep, ls_add, blocks_per_unit, items

// ---- stats ---------------------------------------------------------------------------------

// Binary/multilabel, per row (n, c), over the valid elements (not refused, target not the ignore value):
//   I = sum p t, P = sum p, T = sum t, P2 = sum p^2, T2 = sum t^2, COUNT = valid elements,
//   TERM = sum binary_term(x, tt) (bce, bce with pos_weight, focal; tt the label-smoothed target).
// Block b covers elements [chunk * THREADS * items, +THREADS * items) of row b / blocks_per_unit.
template <bool LOGITS, int TERM, int TARGET>
__device__ __forceinline__ void stats_binary(STATS_PARAMS) {
    __shared__ double slots[STATS][32];
    long long row = blockIdx.x / blocks_per_unit;
    long long n = row / C;
    long long c = row % C;
    long long row_base = n * C * S + c * class_stride;
    long long begin = block_begin(blocks_per_unit, items);
    float pw = BINARY_HAS_PW(TERM) ? pos_weight[c] : 1.0f;
    double acc[STATS] = {0};
    for (int k0 = 0; k0 < items; k0 += FLUSH) {
        float f[STATS] = {0};
        for (int k1 = k0; k1 < k0 + FLUSH && k1 < items; k1 += LOADS) {
            // the loads of LOADS elements first, then their use in the same element order as one at a time
            float xs[LOADS];
            float ts[LOADS];
            long long is[LOADS];
            bool in[LOADS];
            load_binary_group<TARGET>(pred, target, row_base, pixel_stride, S, begin, k1, items, xs, ts, is, in);
#pragma unroll
            for (int u = 0; u < LOADS; ++u) {
                if (!in[u]) continue;
                float x = xs[u];
                float t = ts[u];
                if (bad_pred<LOGITS>(x)) { f[STAT_BAD_PRED] += 1.0f; continue; }
                if (t == ignore_value) continue;
                if (bad_target(t)) { f[STAT_BAD_TARGET] += 1.0f; continue; }
                float p = x;
                float q = 1.0f - x;
                float l = 0.0f;
                if (LOGITS) {
                    float e = sl_sigmoid_pair(x, &p, &q);
                    if (TERM != TERM_NONE) l = sl_log1p(e);
                }
                f[STAT_I] += p * t;
                f[STAT_P] += p;
                f[STAT_T] += t;
                f[STAT_P2] += p * p;
                f[STAT_T2] += t * t;
                f[STAT_COUNT] += 1.0f;
                if (TERM != TERM_NONE) {
                    f[STAT_TERM] += sl_binary_term(BINARY_TERM_CODE(TERM), LOGITS, BINARY_HAS_PW(TERM), x,
                                                   sl_smooth_target(t, ls_keep, ls_add), p, q, l,
                                                   LOGITS ? 0.0f : sl_clamp(x), LOGITS ? 0.0f : sl_clamp(1.0f - x),
                                                   pw, aw, nw, gamma);
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
__device__ __forceinline__ bool soft_pixel_ok(const void* target, const Geometry& g, long long n, long long s) {
    float sum = 0.0f;
    bool ok = true;
    for (long long k = 0; k < g.C; ++k) {
        float t = ((const float*) target)[pred_index(g, n, k, s)];
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
// Classes beyond 32 / G take more rounds m. Each lane adds a tile's float sums into its own double slots
// of `lanes` (shared memory, which keeps the registers for the tile's arithmetic); at the end, per class, the
// lanes are added in (warp, lane) order.
// MC_SMOOTH and MC_SOFT (per-class targets): the pixel term of every class c, t'_c term(p_c) with
// t'_c = t_c ls_keep + ls_add, goes to row (n, c); I, T, T2 take t_c (soft: the stored value, pred's layout;
// a pixel whose values are below 0 or sum off 1 by more than SOFT_TARGET_SUM_TOLERANCE is refused).
template <bool LOGITS, int TERM, int MODE>
__device__ __forceinline__ void stats_multiclass(STATS_PARAMS) {
    constexpr bool general = MODE != MC_HARD;
    __shared__ float tile_lse[WARPS][32];
    __shared__ float tile_term[WARPS][32];
    __shared__ int tile_code[WARPS][32];
    __shared__ double lanes[WARPS][32][STATS];
    Geometry geo{C, S, class_stride, pixel_stride};
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
#pragma unroll
        for (int k = 0; k < STATS; ++k) lanes[warp][lane][k] = 0.0;
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
                    float x = pred[pred_index(geo, n, k, s)];
                    any_bad |= bad_pred<LOGITS>(x);
                    max_x = fmaxf(max_x, x);
                }
                if (MODE == MC_SOFT) {
                    code = soft_pixel_ok(target, geo, n, s) ? (any_bad ? CODE_SKIP : 0) : CODE_BAD_TARGET;
                } else {
                    long long y = class_index(target, target_type, n * S + s);
                    code = pixel_code(y, any_bad, C, has_ignore, ignore_index);
                }
                if (code >= 0 && general) {
                    if (LOGITS) lse = log_sum_exp(pred, geo, n, s, max_x);
                } else if (code >= 0) {
                    float x_y = pred[pred_index(geo, n, code, s)];
                    float log_py;
                    float py;
                    if (LOGITS) {
                        lse = log_sum_exp(pred, geo, n, s, max_x);
                        log_py = x_y - lse;
                        py = expf(log_py);
                    } else {
                        py = sl_clamp(x_y);
                        log_py = logf(py);
                    }
                    // 1 - p_y: from probabilities clamp(1 - x_y) (see bce_prob)
                    float qy = LOGITS ? 1.0f - py : sl_clamp(1.0f - x_y);
                    if (TERM != TERM_NONE) term = sl_mc_term(TERM, qy, log_py, gamma);
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
                    long long i = pred_index(geo, n, c, tile_begin + j);
                    float x = pred[i];
                    if (bad_pred<LOGITS>(x)) f[STAT_BAD_PRED] += 1.0f;
                    if (c == 0 && code_j == CODE_BAD_TARGET) f[STAT_BAD_TARGET] += 1.0f;
                    if (code_j >= 0 && general) {
                        float lse_j = tile_lse[warp][j];
                        float p = LOGITS ? expf(x - lse_j) : x;
                        float t = MODE == MC_SOFT ? ((const float*) target)[i] : (code_j == c ? 1.0f : 0.0f);
                        f[STAT_P] += p;
                        f[STAT_P2] += p * p;
                        f[STAT_I] += p * t;
                        f[STAT_T] += t;
                        f[STAT_T2] += t * t;
                        if (TERM != TERM_NONE) {
                            float log_p = LOGITS ? x - lse_j : logf(sl_clamp(x));
                            float q = LOGITS ? 1.0f - p : sl_clamp(1.0f - x);
                            f[STAT_TERM] += sl_smooth_target(t, ls_keep, ls_add) * sl_mc_term(TERM, q, log_p, gamma);
                        }
                    } else if (code_j >= 0) {
                        float p = LOGITS ? expf(x - tile_lse[warp][j]) : x;
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
            // the lane's double sums live in its own slots of `lanes` (shared memory), not in 18 registers
#pragma unroll
            for (int k = 0; k < STATS; ++k) lanes[warp][lane][k] += (double) f[k];
            __syncwarp();
        }
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

// The stats entries. partial receives STATS doubles per (row, block): binary at
// (row * blocks_per_unit + chunk), multiclass at ((n * blocks_per_unit + chunk) * C + c); `combine`
// adds them per row.
#define STATS_BINARY_ENTRY(name, LOGITS, TERM, TARGET)                                      \
    extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS_PER_SM) name(STATS_PARAMS) { \
        stats_binary<LOGITS, TERM, TARGET>(STATS_ARGS);                                      \
    }
#define STATS_MULTICLASS_ENTRY(name, LOGITS, TERM, MODE)                                    \
    extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS_PER_SM) name(STATS_PARAMS) { \
        stats_multiclass<LOGITS, TERM, MODE>(STATS_ARGS);                                    \
    }
SEGLOSS_STATS_BINARY_ENTRIES(STATS_BINARY_ENTRY)
SEGLOSS_STATS_MULTICLASS_ENTRIES(STATS_MULTICLASS_ENTRY)

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

// The parameters of every grad entry. coef holds pixel_scale[C], then region_a[N C], then region_b[N C], then
// pos_weight[C]; dP/dp = dp_mul p + dp_add (see the header comment).
#define GRAD_PARAMS                                                                                              \
    const float* __restrict__ pred, const void* __restrict__ target, const float* __restrict__ coef,             \
        float* __restrict__ out, long long N, long long C, long long S, long long class_stride,                   \
        long long pixel_stride, int target_type, float ignore_value, int has_ignore, int ignore_index, float aw,  \
        float nw, float gamma, float dp_mul, float dp_add, float ls_keep, float ls_add, int blocks_per_unit,      \
        int items
#define GRAD_ARGS                                                                                                \
    pred, target, coef, out, N, C, S, class_stride, pixel_stride, target_type, ignore_value, has_ignore,         \
        ignore_index, aw, nw, gamma, dp_mul, dp_add, ls_keep, ls_add, blocks_per_unit, items

// One binary/multilabel element of the grad pass: dL/dx from logits, dL/dp from probabilities.
template <bool LOGITS, int TERM>
__device__ __forceinline__ float binary_grad(float x, float t, float ps, float a, float b, float pw, float dp_mul,
                                             float dp_add, float ls_keep, float ls_add, float aw, float nw,
                                             float gamma) {
    float p = x;
    float q = 1.0f - x;
    float l = 0.0f;
    if (LOGITS) {
        float e = sl_sigmoid_pair(x, &p, &q);
        if (TERM == TERM_FOCAL) l = sl_log1p(e);
    }
    float d = 0.0f;
    if (TERM != TERM_NONE) {
        d += ps * sl_binary_term_d(BINARY_TERM_CODE(TERM), LOGITS, BINARY_HAS_PW(TERM), x,
                                   sl_smooth_target(t, ls_keep, ls_add), p, q, l,
                                   LOGITS ? 0.0f : sl_clamp(x), LOGITS ? 0.0f : sl_clamp(1.0f - x), pw, aw, nw, gamma);
    }
    float dldp = t * a + b * (dp_mul * p + dp_add);
    return d + (LOGITS ? sl_sigmoid_chain(dldp, p, q) : dldp);
}

// Binary/multilabel, per element with ps = pixel_scale[c], A = region_a[row], B = region_b[row],
// P' = dP/dp = 1 (or 2p with squares); elements whose target is the ignore value get 0:
//   from probabilities: dL/dp = ps dterm/dp + (t A + B P')
//   from logits:        dL/dx = ps dterm/dx + (t A + B P') p (1 - p), dterm/dx = p - t (bce).
template <bool LOGITS, int TERM, int TARGET>
__device__ __forceinline__ void grad_binary(GRAD_PARAMS) {
    const float* pixel_scale = coef;
    const float* region_a = coef + C;
    const float* region_b = coef + C + N * C;
    const float* pos_weight = coef + C + 2 * N * C;
    long long unit = blockIdx.x / blocks_per_unit;
    long long begin = block_begin(blocks_per_unit, items);
    long long n = unit / C;
    long long c = unit % C;
    long long row_base = n * C * S + c * class_stride;
    float ps = pixel_scale[c];
    float a = region_a[unit];
    float b = region_b[unit];
    float pw = BINARY_HAS_PW(TERM) ? pos_weight[c] : 1.0f;
    for (int k1 = 0; k1 < items; k1 += LOADS) {
        // the loads of LOADS elements first, then their gradients
        float xs[LOADS];
        float ts[LOADS];
        long long is[LOADS];
        bool in[LOADS];
        load_binary_group<TARGET>(pred, target, row_base, pixel_stride, S, begin, k1, items, xs, ts, is, in);
#pragma unroll
        for (int u = 0; u < LOADS; ++u) {
            if (in[u]) {
                out[is[u]] = ts[u] == ignore_value
                                 ? 0.0f
                                 : binary_grad<LOGITS, TERM>(xs[u], ts[u], ps, a, b, pw, dp_mul, dp_add, ls_keep,
                                                             ls_add, aw, nw, gamma);
            }
        }
    }
}

// Multiclass with a class map (MC_HARD), per pixel, r_c = t_c A[n,c] + B[n,c] P'(p_c), ps = pixel_scale[y];
// ignored pixels get 0:
//   from logits:        dL/dx_c = ps dterm/dx_c + p_c (r_c - sum_k p_k r_k),
//                       dterm/dx_c = p_c - t_c (ce) or F (t_c - p_c) (focal, F the focal slope);
//   from probabilities: dL/dp_c = ps dterm/dp_y [c == y] + r_c,
//                       dterm/dp_y = -1 / pc (ce) or g qc^(g-1) log pc - qc^g / pc (focal).
// Per-class targets (MC_SMOOTH: label smoothing of a class map, MC_SOFT: soft targets), s_c = pixel_scale[c],
// t'_c = t_c ls_keep + ls_add:
//   from logits:        h_c = s_c t'_c F_c (F = -1 for ce, sl_focal_mc_slope for focal),
//                       dL/dx_c = h_c - p_c sum_k h_k + p_c (r_c - sum_k p_k r_k);
//   from probabilities: dL/dp_c = s_c t'_c dterm/dp_c + r_c (sl_focal_mc_prob_dp, gamma 0 for ce).
// Without REGION, r = 0.
template <bool LOGITS, int TERM, int MODE, bool REGION>
__device__ __forceinline__ void grad_multiclass(GRAD_PARAMS) {
    const float* pixel_scale = coef;
    const float* region_a = coef + C;
    const float* region_b = coef + C + N * C;
    Geometry geo{C, S, class_stride, pixel_stride};
    long long n = blockIdx.x / blocks_per_unit;
    long long begin = block_begin(blocks_per_unit, items);
    for (int k = 0; k < items; ++k) {
        long long s = begin + (long long) k * THREADS + threadIdx.x;
        if (s >= S) break;
        long long y = -1;
        bool counts;
        if (MODE == MC_SOFT) {
            counts = soft_pixel_ok(target, geo, n, s);
        } else {
            y = class_index(target, target_type, n * S + s);
            counts = !(has_ignore && y == (long long) ignore_index) && y >= 0 && y < C;
        }
        if (!counts) {
            for (long long c = 0; c < C; ++c) out[pred_index(geo, n, c, s)] = 0.0f;
            continue;
        }
        float lse = 0.0f;
        if (LOGITS) {
            float max_x = -INFINITY;
            for (long long c = 0; c < C; ++c) max_x = fmaxf(max_x, pred[pred_index(geo, n, c, s)]);
            lse = log_sum_exp(pred, geo, n, s, max_x);
        }
        if (MODE != MC_HARD) {
            float sum_h = 0.0f;
            float sum_pr = 0.0f;
            if (LOGITS) {
                for (long long c = 0; c < C; ++c) {
                    long long i = pred_index(geo, n, c, s);
                    float x = pred[i];
                    float t = MODE == MC_SOFT ? ((const float*) target)[i] : (c == y ? 1.0f : 0.0f);
                    float p = expf(x - lse);
                    if (TERM != TERM_NONE) {
                        float f = sl_mc_slope(TERM, p, 1.0f - p, x - lse, gamma);
                        sum_h += pixel_scale[c] * sl_smooth_target(t, ls_keep, ls_add) * f;
                    }
                    if (REGION) {
                        sum_pr += p * (t * region_a[n * C + c] + region_b[n * C + c] * (dp_mul * p + dp_add));
                    }
                }
            }
            for (long long c = 0; c < C; ++c) {
                long long i = pred_index(geo, n, c, s);
                float x = pred[i];
                float t = MODE == MC_SOFT ? ((const float*) target)[i] : (c == y ? 1.0f : 0.0f);
                float tt = sl_smooth_target(t, ls_keep, ls_add) * pixel_scale[c];
                float p = LOGITS ? expf(x - lse) : x;
                float r = REGION ? t * region_a[n * C + c] + region_b[n * C + c] * (dp_mul * p + dp_add) : 0.0f;
                float d;
                if (LOGITS) {
                    float f = TERM != TERM_NONE ? sl_mc_slope(TERM, p, 1.0f - p, x - lse, gamma) : 0.0f;
                    d = tt * f - p * sum_h + p * (r - sum_pr);
                } else {
                    float dterm = TERM != TERM_NONE ? sl_mc_prob_dp(TERM, sl_clamp(x), sl_clamp(1.0f - x), gamma) : 0.0f;
                    d = (tt == 0.0f ? 0.0f : tt * dterm) + r;
                }
                out[i] = d;
            }
            continue;
        }
        float x_y = pred[pred_index(geo, n, y, s)];
        float log_py;
        float py;
        if (LOGITS) {
            log_py = x_y - lse;
            py = expf(log_py);
        } else {
            py = x_y;
            log_py = logf(sl_clamp(x_y));
        }
        float ps = pixel_scale[y];
        float sum_pr = 0.0f;
        if (LOGITS && REGION) {
            for (long long c = 0; c < C; ++c) {
                float p = expf(pred[pred_index(geo, n, c, s)] - lse);
                float r = (c == y ? region_a[n * C + c] : 0.0f) + region_b[n * C + c] * (dp_mul * p + dp_add);
                sum_pr += p * r;
            }
        }
        float slope = TERM == TERM_NONE ? 0.0f
                      : LOGITS ? ps * sl_mc_slope(TERM, py, 1.0f - py, log_py, gamma)
                               : ps * sl_mc_prob_dp(TERM, sl_clamp(py), sl_clamp(1.0f - py), gamma);
        for (long long c = 0; c < C; ++c) {
            long long i = pred_index(geo, n, c, s);
            float t = c == y ? 1.0f : 0.0f;
            float p = LOGITS ? expf(pred[i] - lse) : pred[i];
            float r = REGION ? t * region_a[n * C + c] + region_b[n * C + c] * (dp_mul * p + dp_add) : 0.0f;
            float d;
            if (LOGITS) {
                float pix = slope * (t - p);
                d = pix + (REGION ? p * (r - sum_pr) : 0.0f);
            } else {
                d = (c == y ? slope : 0.0f) + r;
            }
            out[i] = d;
        }
    }
}

#define GRAD_BINARY_ENTRY(name, LOGITS, TERM, TARGET)                                      \
    extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS_PER_SM) name(GRAD_PARAMS) { \
        grad_binary<LOGITS, TERM, TARGET>(GRAD_ARGS);                                       \
    }
#define GRAD_MULTICLASS_ENTRY(name, LOGITS, TERM, MODE, REGION)                            \
    extern "C" __global__ void __launch_bounds__(THREADS, MIN_BLOCKS_PER_SM) name(GRAD_PARAMS) { \
        grad_multiclass<LOGITS, TERM, MODE, REGION>(GRAD_ARGS);                             \
    }
SEGLOSS_GRAD_BINARY_ENTRIES(GRAD_BINARY_ENTRY)
SEGLOSS_GRAD_MULTICLASS_ENTRIES(GRAD_MULTICLASS_ENTRY)

// ---- confusion -----------------------------------------------------------------------------

#define CONFUSION_PARAMS                                                                                        \
    const float* __restrict__ pred, const void* __restrict__ target, unsigned long long* __restrict__ out,      \
        long long C, long long S, long long class_stride, long long pixel_stride, int target_type,               \
        float ignore_value, int has_ignore, int ignore_index, double cut, int blocks_per_unit, int items
#define CONFUSION_ARGS                                                                                          \
    pred, target, out, C, S, class_stride, pixel_stride, target_type, ignore_value, has_ignore, ignore_index,    \
        cut, blocks_per_unit, items

// Hard counts, out[c * 4 + k] with k = 0 TP, 1 FP, 2 FN, 3 TN, then BAD_PRED, BAD_TARGET and
// (multiclass) the number of counted pixels (TN is derived on the host: counted - TP - FP - FN).
// Binary: positive where x >= cut (cut = threshold, or logit(threshold) from logits), target
// positive where t >= 0.5. Multiclass: argmax over C, ties to the lowest index. Integer atomics
// only (exact).
template <bool LOGITS, int TARGET>
__device__ __forceinline__ void confusion_binary(CONFUSION_PARAMS) {
    __shared__ double slots[STATS][32];
    long long unit = blockIdx.x / blocks_per_unit;
    long long begin = block_begin(blocks_per_unit, items);
    long long n = unit / C;
    long long c = unit % C;
    long long row_base = n * C * S + c * class_stride;
    double v[STATS] = {0}; // TP, FP, FN, TN, bad pred, bad target
    for (int k = 0; k < items; ++k) {
        long long s = begin + (long long) k * THREADS + threadIdx.x;
        if (s >= S) break;
        long long i = row_base + s * pixel_stride;
        float x = pred[i];
        float t = target_value<TARGET>(target, i);
        if (bad_pred<LOGITS>(x)) { v[4] += 1.0; continue; }
        if (t == ignore_value) continue;
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
}

// SHARED: per-class counters in dynamic shared memory (3 C ints), the host's choice by C.
template <bool LOGITS, bool SHARED>
__device__ __forceinline__ void confusion_multiclass(CONFUSION_PARAMS) {
    extern __shared__ unsigned int class_counts[];
    __shared__ double slots[STATS][32];
    Geometry geo{C, S, class_stride, pixel_stride};
    long long n = blockIdx.x / blocks_per_unit;
    long long begin = block_begin(blocks_per_unit, items);
    if (SHARED) {
        for (long long i = threadIdx.x; i < 3 * C; i += THREADS) class_counts[i] = 0u;
        __syncthreads();
    }
    double v[STATS] = {0}; // bad pred, bad target, counted
    for (int k = 0; k < items; ++k) {
        long long s = begin + (long long) k * THREADS + threadIdx.x;
        if (s >= S) break;
        long long best = 0;
        float best_value = -INFINITY;
        int any_bad = 0;
        for (long long c = 0; c < C; ++c) {
            float x = pred[pred_index(geo, n, c, s)];
            if (bad_pred<LOGITS>(x)) {
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
            if (SHARED) atomicAdd(&class_counts[y * 3 + 0], 1u);
            else atomicAdd(&out[y * 4 + 0], 1ull);
        } else {
            if (SHARED) {
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
    if (SHARED) {
        // block_sum ended with a barrier, so every shared counter is final here
        for (long long i = threadIdx.x; i < 3 * C; i += THREADS) {
            unsigned int count = class_counts[i];
            if (count != 0u) atomicAdd(&out[(i / 3) * 4 + i % 3], (unsigned long long) count);
        }
    }
}

#define CONFUSION_BINARY_ENTRY(name, LOGITS, TARGET)                                   \
    extern "C" __global__ void __launch_bounds__(THREADS) name(CONFUSION_PARAMS) {     \
        confusion_binary<LOGITS, TARGET>(CONFUSION_ARGS);                              \
    }
#define CONFUSION_MULTICLASS_ENTRY(name, LOGITS, SHARED)                               \
    extern "C" __global__ void __launch_bounds__(THREADS) name(CONFUSION_PARAMS) {     \
        confusion_multiclass<LOGITS, SHARED>(CONFUSION_ARGS);                          \
    }
SEGLOSS_CONFUSION_BINARY_ENTRIES(CONFUSION_BINARY_ENTRY)
SEGLOSS_CONFUSION_MULTICLASS_ENTRIES(CONFUSION_MULTICLASS_ENTRY)

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
