/*
 * The Lovasz pass (spec "Lovasz losses"; host: OpenClBackend.lovasz, contract: LovaszProblem).
 * common.cl is prepended (target_t, bad_pred). Defines: Problem.defines() (MULTICLASS, FROM_LOGITS,
 * LAYOUT_NHWC, TARGET_TYPE, HAS_IGNORE), WG_SIZE, ITEMS, NUM_CLASSES (multiclass), BATCH, WRITE_GRAD (lovasz_apply
 * scatters the gradient; 0 for the value alone).
 *
 * Segment seg = (nb, c) = (seg / C, seg % C) holds L elements k: pixel (n, s) = (nb, k), or with BATCH
 * (k / S, k % S). Each element is one 64-bit item, (key << 32) | k, in items[seg * L + k]: key is the
 * descending key of its error (ascending key = decreasing error; equal errors then order by k, the lower
 * first), 0xFFFFFFFF for an element that does not count (ignored or refused). Every item is distinct, so
 * the sort's result is unique: deterministic whatever the network. The items are the pass's only
 * pred-sized memory (8 bytes per element: key and permutation).
 *
 * Sort: a bitonic network in place over each segment, virtually padded to P = 2^ceil(log2 L) with
 * +infinity items: every comparator puts the smaller item at the lower position, so a comparator whose
 * upper position is >= L never swaps and is skipped, and no padding is stored. Stages of block size
 * `size` start with a flip (i against the mirror position in its block), then half-cleaners of
 * distance size/4 ... 1. LOCAL_ITEMS = 2 WG_SIZE consecutive positions are sorted, and the half-cleaners
 * of distance < LOCAL_ITEMS are run, in local memory.
 */
#define LOCAL_ITEMS (2 * WG_SIZE)
#define PAD ((ulong) 0xFFFFFFFFFFFFFFFFUL)

/* Keys (lz_descending_key, lz_error_of_key) and the gradient over the ranks (lz_apply_rank): shared with lovasz.cu. */
#include "segloss_lovasz.h"

/* pred index of element k of segment seg. */
inline ulong pred_index(ulong seg, ulong k, ulong c_count, ulong s_count) {
    ulong c = seg % c_count;
#if BATCH
    ulong n = k / s_count;
    ulong s = k % s_count;
#else
    ulong n = seg / c_count;
    ulong s = k;
#endif
#if LAYOUT_NHWC
    return (n * s_count + s) * c_count + c;
#else
    return (n * c_count + c) * s_count + s;
#endif
}

/* target index of element k of segment seg. */
inline ulong target_index(ulong seg, ulong k, ulong c_count, ulong s_count) {
#if MULTICLASS
#if BATCH
    return k;
#else
    return (seg / c_count) * s_count + k;
#endif
#else
    return pred_index(seg, k, c_count, s_count);
#endif
}

/* Ground truth of element k: 1, 0, -1 (ignored) or -2 (refused: not 0/1/ignore, or a class out of range). */
inline int label(__global const target_t *target, ulong seg, ulong k, ulong c_count, ulong s_count, int ignore) {
    target_t v = target[target_index(seg, k, c_count, s_count)];
#if MULTICLASS
    long y = class_index(v);
#if HAS_IGNORE
    if (y == (long) ignore) {
        return -1;
    }
#endif
    if (y < 0 || y >= (long) c_count) {
        return -2;
    }
    return y == (long) (seg % c_count) ? 1 : 0;
#else
#if HAS_IGNORE
    if ((float) v == (float) ignore) {
        return -1;
    }
#endif
    return (float) v == 1.0f ? 1 : (float) v == 0.0f ? 0 : -2;
#endif
}

/*
 * The error of element k (which counts, ground truth g): hinge e = 1 - x (2g - 1) (binary), or
 * e = |g - p_c| with p the softmax over the C logits of the pixel (max subtracted) or pred itself.
 */
inline float element_error(__global const float *pred, ulong seg, ulong k, ulong c_count, ulong s_count, int g) {
#if MULTICLASS
    ulong c = seg % c_count;
    ulong first = pred_index(seg, k, c_count, s_count) - c * (LAYOUT_NHWC ? 1 : s_count);
    ulong step = LAYOUT_NHWC ? 1 : s_count;
#if FROM_LOGITS
    float m = pred[first];
    for (ulong j = 1; j < c_count; j++) {
        m = fmax(m, pred[first + j * step]);
    }
    float sum = 0.0f;
    for (ulong j = 0; j < c_count; j++) {
        sum += exp(pred[first + j * step] - m);
    }
    float p = exp(pred[first + c * step] - m) / sum;
#else
    float p = pred[first + c * step];
#endif
    return fabs((float) g - p);
#else
    float x = pred[pred_index(seg, k, c_count, s_count)];
    return 1.0f - (g ? x : -x);
#endif
}

/* Adds the uint4 of every work-item; the sum lands in l[0] (fixed tree, a barrier per step). */
inline void reduce_uint4(__local uint4 *l, uint lid) {
    for (uint h = WG_SIZE / 2; h > 0; h >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < h) {
            l[lid] += l[lid + h];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

/*
 * Items and counts. Work-group (g, seg) does elements g * WG_SIZE * ITEMS + j * WG_SIZE + lid; writes
 * counts[seg * groups + g] = (counted, positives, refused pred values, refused target values). Multiclass
 * counts a refused class index once per pixel, in class 0's segment.
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void lovasz_keys(__global const float *pred, __global const target_t *target, __global ulong *items,
                 __global uint4 *counts, ulong c_count, ulong s_count, ulong len, int ignore) {
    __local uint4 l[WG_SIZE];
    uint lid = get_local_id(0);
    ulong g = get_group_id(0);
    ulong seg = get_global_id(1);
    ulong groups = get_num_groups(0);
    uint4 acc = (uint4) (0u, 0u, 0u, 0u);
    for (uint j = 0; j < ITEMS; j++) {
        ulong k = g * WG_SIZE * ITEMS + (ulong) j * WG_SIZE + lid;
        if (k < len) {
            float x = pred[pred_index(seg, k, c_count, s_count)];
            int bad = bad_pred(x);
            int t = label(target, seg, k, c_count, s_count, ignore);
            uint key = LZ_NOT_COUNTED;
            if (t >= 0 && !bad) {
                key = lz_descending_key(element_error(pred, seg, k, c_count, s_count, t));
            }
            acc.x += t >= 0 ? 1u : 0u;
            acc.y += t == 1 ? 1u : 0u;
            acc.z += bad ? 1u : 0u;
#if MULTICLASS
            acc.w += (t == -2 && seg % c_count == 0) ? 1u : 0u;
#else
            acc.w += t == -2 ? 1u : 0u;
#endif
            items[seg * len + k] = ((ulong) key << 32) | k;
        }
    }
    l[lid] = acc;
    reduce_uint4(l, lid);
    if (lid == 0) {
        counts[seg * groups + g] = l[0];
    }
}

/* One comparator: the smaller item to position i (i < j). */
inline void compare_global(__global ulong *s, ulong i, ulong j) {
    ulong a = s[i];
    ulong b = s[j];
    if (a > b) {
        s[i] = b;
        s[j] = a;
    }
}

inline void compare_local(__local ulong *l, uint i, uint j) {
    ulong a = l[i];
    ulong b = l[j];
    if (a > b) {
        l[i] = b;
        l[j] = a;
    }
}

/* Loads the LOCAL_ITEMS positions of chunk `chunk` of segment seg (PAD beyond L). */
inline void load_chunk(__global const ulong *items, __local ulong *l, ulong seg, ulong chunk, ulong len, uint lid) {
    for (uint j = lid; j < LOCAL_ITEMS; j += WG_SIZE) {
        ulong pos = chunk * LOCAL_ITEMS + j;
        l[j] = pos < len ? items[seg * len + pos] : PAD;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

inline void store_chunk(__global ulong *items, __local ulong *l, ulong seg, ulong chunk, ulong len, uint lid) {
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint j = lid; j < LOCAL_ITEMS; j += WG_SIZE) {
        ulong pos = chunk * LOCAL_ITEMS + j;
        if (pos < len) {
            items[seg * len + pos] = l[j];
        }
    }
}

/* Sorts each chunk of LOCAL_ITEMS positions ascending: every stage of the network up to that size. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void lovasz_sort_local(__global ulong *items, ulong len) {
    __local ulong l[LOCAL_ITEMS];
    uint lid = get_local_id(0);
    ulong chunk = get_group_id(0);
    ulong seg = get_global_id(1);
    load_chunk(items, l, seg, chunk, len, lid);
    for (uint size = 2; size <= LOCAL_ITEMS; size <<= 1) {
        uint hs = size >> 1;
        uint i = (lid / hs) * size + lid % hs;
        compare_local(l, i, (lid / hs) * size + size - 1 - lid % hs);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint d = hs >> 1; d > 0; d >>= 1) {
            uint a = (lid / d) * 2 * d + lid % d;
            compare_local(l, a, a + d);
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
    store_chunk(items, l, seg, chunk, len, lid);
}

/* The half-cleaners of distance LOCAL_ITEMS / 2 ... 1 on each chunk, in local memory. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void lovasz_merge_local(__global ulong *items, ulong len) {
    __local ulong l[LOCAL_ITEMS];
    uint lid = get_local_id(0);
    ulong chunk = get_group_id(0);
    ulong seg = get_global_id(1);
    load_chunk(items, l, seg, chunk, len, lid);
    for (uint d = LOCAL_ITEMS / 2; d > 0; d >>= 1) {
        uint a = (lid / d) * 2 * d + lid % d;
        compare_local(l, a, a + d);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    store_chunk(items, l, seg, chunk, len, lid);
}

/*
 * One global step over pair q = get_global_id(0) < P / 2 of each segment: flip (mirror in blocks of
 * 2 d) when `flip`, else the half-cleaner of distance d. Pairs whose upper position is >= L are skipped.
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void lovasz_sort_step(__global ulong *items, ulong len, ulong pairs, ulong d, int flip) {
    ulong q = get_global_id(0);
    ulong seg = get_global_id(1);
    if (q >= pairs) {
        return;
    }
    ulong base = (q / d) * 2 * d;
    ulong i = base + q % d;
    ulong j = flip ? base + 2 * d - 1 - q % d : i + d;
    if (j < len) {
        compare_global(items + seg * len, i, j);
    }
}

/*
 * Positives per block of ranks: work-item lid of block b takes ranks b * WG_SIZE * ITEMS + lid * ITEMS + j
 * (contiguous, so a block is WG_SIZE runs of ITEMS); blocks[seg * blocks + b] = positives of the block.
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void lovasz_count(__global const ulong *items, __global const target_t *target, __global uint *block_positives,
                  ulong c_count, ulong s_count, ulong len, int ignore) {
    __local uint4 l[WG_SIZE];
    uint lid = get_local_id(0);
    ulong b = get_group_id(0);
    ulong seg = get_global_id(1);
    uint n = 0;
    for (uint j = 0; j < ITEMS; j++) {
        ulong r = b * WG_SIZE * ITEMS + (ulong) lid * ITEMS + j;
        if (r < len) {
            ulong item = items[seg * len + r];
            if ((uint) (item >> 32) != LZ_NOT_COUNTED) {
                n += label(target, seg, item & 0xFFFFFFFFUL, c_count, s_count, ignore) == 1 ? 1u : 0u;
            }
        }
    }
    l[lid] = (uint4) (n, 0u, 0u, 0u);
    reduce_uint4(l, lid);
    if (lid == 0) {
        block_positives[seg * get_num_groups(0) + b] = l[0].x;
    }
}

/*
 * The Lovasz gradient over the sorted ranks, the term, and (WRITE_GRAD) the scatter. block_before[seg *
 * blocks + b] = positives ranked before block b (host prefix of lovasz_count's output). Within the block a
 * work-item's positives-before come from an exclusive scan of the per-work-item counts in local memory.
 * term_part[seg * blocks + b] = sum over the block's counted ranks of max(e, 0) L (float; the host adds
 * them in double in order). The scatter writes every element of the segment once: weight * (g ? -1 : 1) * L
 * where e > 0, else 0 (dL/dx for the hinge; dL/dp for the softmax form, chained by lovasz_softmax_chain).
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void lovasz_apply(__global const ulong *items, __global const target_t *target, __global const uint *block_before,
                  __global const uint *positives, __global const float *weights, __global float *grad,
                  __global float *term_part, ulong c_count, ulong s_count, ulong len, int ignore) {
    __local uint scan[WG_SIZE];
    __local float sums[WG_SIZE];
    uint lid = get_local_id(0);
    ulong b = get_group_id(0);
    ulong seg = get_global_id(1);
    ulong first = b * WG_SIZE * ITEMS + (ulong) lid * ITEMS;
    uint mine = 0;
    for (uint j = 0; j < ITEMS; j++) {
        ulong r = first + j;
        if (r < len) {
            ulong item = items[seg * len + r];
            if ((uint) (item >> 32) != LZ_NOT_COUNTED) {
                mine += label(target, seg, item & 0xFFFFFFFFUL, c_count, s_count, ignore) == 1 ? 1u : 0u;
            }
        }
    }
    scan[lid] = mine;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint off = 1; off < WG_SIZE; off <<= 1) { /* inclusive Hillis-Steele scan */
        uint add = lid >= off ? scan[lid - off] : 0u;
        barrier(CLK_LOCAL_MEM_FENCE);
        scan[lid] += add;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    long before = (long) block_before[seg * get_num_groups(0) + b] + scan[lid] - mine;
    uint gsum = positives[seg];
    float w = weights[seg];
    float term = 0.0f;
    for (uint j = 0; j < ITEMS; j++) {
        ulong r = first + j;
        if (r < len) {
            ulong item = items[seg * len + r];
            ulong k = item & 0xFFFFFFFFUL;
            uint key = (uint) (item >> 32);
            int g = key != LZ_NOT_COUNTED && label(target, seg, k, c_count, s_count, ignore) == 1;
            float out = lz_apply_rank(key, g, gsum, (long) r, &before, w, &term);
#if WRITE_GRAD
            grad[pred_index(seg, k, c_count, s_count)] = out;
#endif
        }
    }
    sums[lid] = term;
    for (uint h = WG_SIZE / 2; h > 0; h >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < h) {
            sums[lid] += sums[lid + h];
        }
    }
    if (lid == 0) {
        term_part[seg * get_num_groups(0) + b] = sums[0];
    }
}

#if MULTICLASS
/* dL/dx_c = p_c (g_c - sum_k p_k g_k) per pixel (n, s) = (get_global_id(1), get_global_id(0)), g = dL/dp in grad. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void lovasz_softmax_chain(__global const float *pred, __global float *grad, ulong c_count, ulong s_count) {
    ulong s = get_global_id(0);
    ulong n = get_global_id(1);
    if (s >= s_count) {
        return;
    }
    ulong first = LAYOUT_NHWC ? (n * s_count + s) * c_count : n * c_count * s_count + s;
    ulong step = LAYOUT_NHWC ? 1 : s_count;
    float m = pred[first];
    for (ulong j = 1; j < c_count; j++) {
        m = fmax(m, pred[first + j * step]);
    }
    float sum = 0.0f;
    for (ulong j = 0; j < c_count; j++) {
        sum += exp(pred[first + j * step] - m);
    }
    float dot = 0.0f;
    for (ulong j = 0; j < c_count; j++) {
        dot += exp(pred[first + j * step] - m) / sum * grad[first + j * step];
    }
    for (ulong j = 0; j < c_count; j++) {
        ulong i = first + j * step;
        grad[i] = exp(pred[i] - m) / sum * (grad[i] - dot);
    }
}
#endif
