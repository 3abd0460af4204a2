// The Lovasz pass of segloss (spec "Lovasz losses"; host: CudaBackend.lovasz; contract: LovaszProblem),
// the same algorithm as kernels-cl/lovasz.cl. Built into its own PTX (ci/build-ptx.sh) and loaded as a
// second module. The problem's flags (MULTICLASS, FROM_LOGITS, LAYOUT_NHWC, TARGET_TYPE, HAS_IGNORE,
// BATCH) arrive as kernel parameters, uniform over a launch. Grids are one-dimensional: block b works on
// segment b / blocks_per_segment, block b % blocks_per_segment of it.
//
// Segment seg = (nb, c) = (seg / C, seg % C) holds L elements k: pixel (n, s) = (nb, k), or with batch
// (k / S, k % S). Each element is one 64-bit item, (key << 32) | k, in items[seg * L + k]: key is the
// descending key of its error (ascending key = decreasing error; equal errors then order by k, the lower
// first), 0xFFFFFFFF for an element that does not count (ignored or refused). Every item is distinct, so
// the sorted result is unique and deterministic. The items are the pass's only pred-sized memory
// (8 bytes per element: key and permutation).
//
// Sort: a bitonic network in place over each segment, virtually padded to P = 2^ceil(log2 L) with
// +infinity items: every comparator puts the smaller item at the lower position, so a comparator whose
// upper position is >= L never swaps and is skipped. Stages of block size `size` start with a flip
// (i against the mirror position in its block), then half-cleaners of distance size/4 ... 1.
// LZ_LOCAL = 2 LZ_THREADS consecutive positions are sorted, and the half-cleaners of distance < LZ_LOCAL
// are run, in shared memory. No atomics; term partials are float per block, added on the host in order.

#include <limits.h>
#include <stdint.h>
#include "segloss_gen.h"
#include "segloss_terms.h"
// lz_descending_key, lz_error_of_key and the gradient over the ranks (lz_apply_rank), shared with lovasz.cl
#include "segloss_lovasz.h"

#define LZ_THREADS 256
#define LZ_LOCAL (2 * LZ_THREADS)
#define LZ_ITEMS 16
#define LZ_PAD 0xFFFFFFFFFFFFFFFFull

typedef unsigned long long lz_u64;

// The flags of one problem (kernel parameters), gathered.
struct LzProblem {
    long long c;
    long long s;
    long long len;
    int multiclass;
    int from_logits;
    int nhwc;
    int target_type;
    int has_ignore;
    int ignore;
    int batch;
};

__device__ __forceinline__ long long lz_pred_index(const LzProblem& q, long long seg, long long k) {
    long long c = seg % q.c;
    long long n = q.batch ? k / q.s : seg / q.c;
    long long s = q.batch ? k % q.s : k;
    return q.nhwc ? (n * q.s + s) * q.c + c : (n * q.c + c) * q.s + s;
}

__device__ __forceinline__ long long lz_target_index(const LzProblem& q, long long seg, long long k) {
    if (!q.multiclass) {
        return lz_pred_index(q, seg, k);
    }
    return q.batch ? k : (seg / q.c) * q.s + k;
}

__device__ __forceinline__ float lz_target_value(const void* target, long long i, int type) {
    if (type == TARGET_FLOAT32) {
        return ((const float*) target)[i];
    }
    if (type == TARGET_UINT8) {
        return (float) ((const unsigned char*) target)[i];
    }
    if (type == TARGET_INT64) {
        return (float) ((const long long*) target)[i];
    }
    return (float) ((const int*) target)[i];
}

// Ground truth of element k: 1, 0, -1 (ignored) or -2 (refused: not 0/1/ignore, or a class out of range).
__device__ int lz_label(const LzProblem& q, const void* target, long long seg, long long k) {
    long long ti = lz_target_index(q, seg, k);
    if (q.multiclass) {
        long long y;
        if (q.target_type == TARGET_FLOAT32) {
            float v = ((const float*) target)[ti];
            y = (v == rintf(v) && fabsf(v) < 1e9f) ? (long long) v : LLONG_MIN;
        } else if (q.target_type == TARGET_UINT8) {
            y = ((const unsigned char*) target)[ti];
        } else if (q.target_type == TARGET_INT64) {
            y = ((const long long*) target)[ti];
        } else {
            y = ((const int*) target)[ti];
        }
        if (q.has_ignore && y == (long long) q.ignore) {
            return -1;
        }
        if (y < 0 || y >= q.c) {
            return -2;
        }
        return y == seg % q.c ? 1 : 0;
    }
    float v = lz_target_value(target, ti, q.target_type);
    if (q.has_ignore && v == (float) q.ignore) {
        return -1;
    }
    return v == 1.0f ? 1 : v == 0.0f ? 0 : -2;
}

// A pred value is refused when it is NaN/inf, or outside [0, 1] when not from logits.
__device__ __forceinline__ int lz_bad_pred(const LzProblem& q, float x) {
    return q.from_logits ? !isfinite(x) : !(x >= 0.0f && x <= 1.0f);
}

// Hinge e = 1 - x (2g - 1) (binary), or e = |g - p_c| with p the softmax over C (max subtracted) or pred.
__device__ float lz_error(const LzProblem& q, const float* pred, long long seg, long long k, int g) {
    if (!q.multiclass) {
        float x = pred[lz_pred_index(q, seg, k)];
        return 1.0f - (g ? x : -x);
    }
    long long c = seg % q.c;
    long long step = q.nhwc ? 1 : q.s;
    long long first = lz_pred_index(q, seg, k) - c * step;
    float p;
    if (q.from_logits) {
        float m = pred[first];
        for (long long j = 1; j < q.c; j++) {
            m = fmaxf(m, pred[first + j * step]);
        }
        float sum = 0.0f;
        for (long long j = 0; j < q.c; j++) {
            sum += expf(pred[first + j * step] - m);
        }
        p = expf(pred[first + c * step] - m) / sum;
    } else {
        p = pred[first + c * step];
    }
    return fabsf((float) g - p);
}

#define LZ_PROBLEM_PARAMS long long c, long long s, long long len, int multiclass, int from_logits, int nhwc, \
    int target_type, int has_ignore, int ignore, int batch
#define LZ_PROBLEM {c, s, len, multiclass, from_logits, nhwc, target_type, has_ignore, ignore, batch}

// Fixed-tree sum of one unsigned per thread over the block (shared array of LZ_THREADS); thread 0 gets it.
__device__ unsigned lz_block_sum(unsigned* l, unsigned v) {
    l[threadIdx.x] = v;
    for (int h = LZ_THREADS / 2; h > 0; h >>= 1) {
        __syncthreads();
        if ((int) threadIdx.x < h) {
            l[threadIdx.x] += l[threadIdx.x + h];
        }
    }
    __syncthreads();
    unsigned out = l[0];
    __syncthreads();
    return out;
}

// Items and counts: block (seg, g) does elements g * THREADS * ITEMS + j * THREADS + t; writes
// counts[(seg * blocks + g) * 4 + (counted, positives, refused pred, refused target)]. Multiclass counts a
// refused class index once per pixel, in class 0's segment.
extern "C" __global__ void __launch_bounds__(LZ_THREADS)
lovasz_keys(const float* pred, const void* target, lz_u64* items, unsigned* counts, int blocks_per_segment,
            LZ_PROBLEM_PARAMS) {
    __shared__ unsigned l[LZ_THREADS];
    LzProblem q = LZ_PROBLEM;
    long long seg = blockIdx.x / blocks_per_segment;
    long long g = blockIdx.x % blocks_per_segment;
    unsigned acc[4] = {0u, 0u, 0u, 0u};
    for (int j = 0; j < LZ_ITEMS; j++) {
        long long k = g * LZ_THREADS * LZ_ITEMS + (long long) j * LZ_THREADS + threadIdx.x;
        if (k < q.len) {
            float x = pred[lz_pred_index(q, seg, k)];
            int bad = lz_bad_pred(q, x);
            int t = lz_label(q, target, seg, k);
            unsigned key = LZ_NOT_COUNTED;
            if (t >= 0 && !bad) {
                key = lz_descending_key(lz_error(q, pred, seg, k, t));
            }
            acc[0] += t >= 0 ? 1u : 0u;
            acc[1] += t == 1 ? 1u : 0u;
            acc[2] += bad ? 1u : 0u;
            acc[3] += (t == -2 && (!q.multiclass || seg % q.c == 0)) ? 1u : 0u;
            items[seg * q.len + k] = ((lz_u64) key << 32) | (lz_u64) k;
        }
    }
    for (int i = 0; i < 4; i++) {
        unsigned total = lz_block_sum(l, acc[i]);
        if (threadIdx.x == 0) {
            counts[blockIdx.x * 4 + i] = total;
        }
    }
}

__device__ __forceinline__ void lz_compare(lz_u64* v, long long i, long long j) {
    lz_u64 a = v[i];
    lz_u64 b = v[j];
    if (a > b) {
        v[i] = b;
        v[j] = a;
    }
}

__device__ void lz_load_chunk(const lz_u64* items, lz_u64* l, long long seg, long long chunk, long long len) {
    for (int j = threadIdx.x; j < LZ_LOCAL; j += LZ_THREADS) {
        long long pos = chunk * LZ_LOCAL + j;
        l[j] = pos < len ? items[seg * len + pos] : LZ_PAD;
    }
    __syncthreads();
}

__device__ void lz_store_chunk(lz_u64* items, const lz_u64* l, long long seg, long long chunk, long long len) {
    __syncthreads();
    for (int j = threadIdx.x; j < LZ_LOCAL; j += LZ_THREADS) {
        long long pos = chunk * LZ_LOCAL + j;
        if (pos < len) {
            items[seg * len + pos] = l[j];
        }
    }
}

// Sorts each chunk of LZ_LOCAL positions ascending: every stage of the network up to that size.
extern "C" __global__ void __launch_bounds__(LZ_THREADS)
lovasz_sort_local(lz_u64* items, long long len, int chunks_per_segment) {
    __shared__ lz_u64 l[LZ_LOCAL];
    long long seg = blockIdx.x / chunks_per_segment;
    long long chunk = blockIdx.x % chunks_per_segment;
    int t = threadIdx.x;
    lz_load_chunk(items, l, seg, chunk, len);
    for (int size = 2; size <= LZ_LOCAL; size <<= 1) {
        int hs = size >> 1;
        lz_compare(l, (t / hs) * size + t % hs, (t / hs) * size + size - 1 - t % hs);
        __syncthreads();
        for (int d = hs >> 1; d > 0; d >>= 1) {
            int a = (t / d) * 2 * d + t % d;
            lz_compare(l, a, a + d);
            __syncthreads();
        }
    }
    lz_store_chunk(items, l, seg, chunk, len);
}

// The half-cleaners of distance LZ_LOCAL / 2 ... 1 on each chunk, in shared memory.
extern "C" __global__ void __launch_bounds__(LZ_THREADS)
lovasz_merge_local(lz_u64* items, long long len, int chunks_per_segment) {
    __shared__ lz_u64 l[LZ_LOCAL];
    long long seg = blockIdx.x / chunks_per_segment;
    long long chunk = blockIdx.x % chunks_per_segment;
    int t = threadIdx.x;
    lz_load_chunk(items, l, seg, chunk, len);
    for (int d = LZ_LOCAL / 2; d > 0; d >>= 1) {
        int a = (t / d) * 2 * d + t % d;
        lz_compare(l, a, a + d);
        __syncthreads();
    }
    lz_store_chunk(items, l, seg, chunk, len);
}

// One global step over pair q < pairs of each segment: flip (mirror in blocks of 2 d) when `flip`, else
// the half-cleaner of distance d. Pairs whose upper position is >= len are skipped.
extern "C" __global__ void __launch_bounds__(LZ_THREADS)
lovasz_sort_step(lz_u64* items, long long len, long long pairs, long long d, int flip, int blocks_per_segment) {
    long long seg = blockIdx.x / blocks_per_segment;
    long long q = (long long) (blockIdx.x % blocks_per_segment) * LZ_THREADS + threadIdx.x;
    if (q >= pairs) {
        return;
    }
    long long base = (q / d) * 2 * d;
    long long i = base + q % d;
    long long j = flip ? base + 2 * d - 1 - q % d : i + d;
    if (j < len) {
        lz_compare(items + seg * len, i, j);
    }
}

// Positives per block of ranks: thread t of block (seg, b) takes ranks b * THREADS * ITEMS + t * ITEMS + j.
extern "C" __global__ void __launch_bounds__(LZ_THREADS)
lovasz_count(const lz_u64* items, const void* target, unsigned* block_positives, int blocks_per_segment,
             LZ_PROBLEM_PARAMS) {
    __shared__ unsigned l[LZ_THREADS];
    LzProblem q = LZ_PROBLEM;
    long long seg = blockIdx.x / blocks_per_segment;
    long long b = blockIdx.x % blocks_per_segment;
    unsigned n = 0;
    for (int j = 0; j < LZ_ITEMS; j++) {
        long long r = b * LZ_THREADS * LZ_ITEMS + (long long) threadIdx.x * LZ_ITEMS + j;
        if (r < q.len) {
            lz_u64 item = items[seg * q.len + r];
            if ((unsigned) (item >> 32) != LZ_NOT_COUNTED) {
                n += lz_label(q, target, seg, (long long) (item & 0xFFFFFFFFull)) == 1 ? 1u : 0u;
            }
        }
    }
    unsigned total = lz_block_sum(l, n);
    if (threadIdx.x == 0) {
        block_positives[blockIdx.x] = total;
    }
}

// The Lovasz gradient over the sorted ranks, the term, and (write_grad) the scatter; see lovasz.cl's
// lovasz_apply. block_before[seg * blocks + b] = positives ranked before block b (host prefix).
extern "C" __global__ void __launch_bounds__(LZ_THREADS)
lovasz_apply(const lz_u64* items, const void* target, const unsigned* block_before, const unsigned* positives,
             const float* weights, float* grad, float* term_part, int write_grad, int blocks_per_segment,
             LZ_PROBLEM_PARAMS) {
    __shared__ unsigned scan[LZ_THREADS];
    __shared__ float sums[LZ_THREADS];
    LzProblem q = LZ_PROBLEM;
    long long seg = blockIdx.x / blocks_per_segment;
    long long b = blockIdx.x % blocks_per_segment;
    int t = threadIdx.x;
    long long first = b * LZ_THREADS * LZ_ITEMS + (long long) t * LZ_ITEMS;
    unsigned mine = 0;
    for (int j = 0; j < LZ_ITEMS; j++) {
        long long r = first + j;
        if (r < q.len) {
            lz_u64 item = items[seg * q.len + r];
            if ((unsigned) (item >> 32) != LZ_NOT_COUNTED) {
                mine += lz_label(q, target, seg, (long long) (item & 0xFFFFFFFFull)) == 1 ? 1u : 0u;
            }
        }
    }
    scan[t] = mine;
    __syncthreads();
    for (int off = 1; off < LZ_THREADS; off <<= 1) { // inclusive Hillis-Steele scan
        unsigned add = t >= off ? scan[t - off] : 0u;
        __syncthreads();
        scan[t] += add;
        __syncthreads();
    }
    long long before = (long long) block_before[blockIdx.x] + scan[t] - mine;
    unsigned gsum = positives[seg];
    float w = weights[seg];
    float term = 0.0f;
    for (int j = 0; j < LZ_ITEMS; j++) {
        long long r = first + j;
        if (r < q.len) {
            lz_u64 item = items[seg * q.len + r];
            long long k = (long long) (item & 0xFFFFFFFFull);
            unsigned key = (unsigned) (item >> 32);
            int g = key != LZ_NOT_COUNTED && lz_label(q, target, seg, k) == 1;
            float out = lz_apply_rank(key, g, gsum, r, &before, w, &term);
            if (write_grad) {
                grad[lz_pred_index(q, seg, k)] = out;
            }
        }
    }
    sums[t] = term;
    for (int h = LZ_THREADS / 2; h > 0; h >>= 1) {
        __syncthreads();
        if (t < h) {
            sums[t] += sums[t + h];
        }
    }
    if (t == 0) {
        term_part[blockIdx.x] = sums[0];
    }
}

// dL/dx_c = p_c (g_c - sum_k p_k g_k) per pixel (n, s), g = dL/dp in grad; block b: sample b / blocks,
// pixels (b % blocks) * THREADS + t.
extern "C" __global__ void __launch_bounds__(LZ_THREADS)
lovasz_softmax_chain(const float* pred, float* grad, long long c, long long s_count, int nhwc, int blocks_per_sample) {
    long long n = blockIdx.x / blocks_per_sample;
    long long s = (long long) (blockIdx.x % blocks_per_sample) * LZ_THREADS + threadIdx.x;
    if (s >= s_count) {
        return;
    }
    long long first = nhwc ? (n * s_count + s) * c : n * c * s_count + s;
    long long step = nhwc ? 1 : s_count;
    float m = pred[first];
    for (long long j = 1; j < c; j++) {
        m = fmaxf(m, pred[first + j * step]);
    }
    float sum = 0.0f;
    for (long long j = 0; j < c; j++) {
        sum += expf(pred[first + j * step] - m);
    }
    float dot = 0.0f;
    for (long long j = 0; j < c; j++) {
        dot += expf(pred[first + j * step] - m) / sum * grad[first + j * step];
    }
    for (long long j = 0; j < c; j++) {
        long long i = first + j * step;
        grad[i] = expf(pred[i] - m) / sum * (grad[i] - dot);
    }
}
