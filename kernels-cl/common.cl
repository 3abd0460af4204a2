/*
 * Shared part of every segloss OpenCL program (OpenCL C 1.2). The host prepends this file to the
 * kernel file and compiles with -D defines:
 *   from Problem.defines(): SEGLOSS_PROB_CLAMP_EPS, MULTICLASS, FROM_LOGITS, LAYOUT_NHWC, TARGET_TYPE
 *     (0 float, 1 uint8, 2 int32, 3 int64), PIXEL_TERM (0 none, 1 bce, 2 focal, 3 ce), REGION, HAS_IGNORE;
 *   from the OpenCL backend: WG_SIZE (work-group size), ITEMS (fixed elements or pixels per work-item),
 *     NUM_CLASSES (multiclass: C), GAMMA_KIND (0: gamma = 0, 1: gamma = 1, 2: gamma = 2, 3: any gamma).
 *
 * Numbers: each work-item accumulates in float over ITEMS elements, a work-group reduces in local memory
 * with a fixed tree (a barrier at every step), and writes one partial per (row, work-group); the host adds
 * the partials in double in a fixed order. No atomics: the same input gives the same bits every run.
 */
#ifndef WG_SIZE
#error "WG_SIZE must be defined"
#endif
#ifndef ITEMS
#error "ITEMS must be defined"
#endif

#if TARGET_TYPE == TARGET_FLOAT32
typedef float target_t;
#elif TARGET_TYPE == TARGET_UINT8
typedef uchar target_t;
#elif TARGET_TYPE == TARGET_INT64
typedef long target_t;
#else
typedef int target_t;
#endif

/* The pixel terms and the chains are in segloss_terms.h (prepended before this file, after segloss_gen.h). */

/* A pred value is refused when it is NaN/inf, or outside [0, 1] when not from logits. */
inline int bad_pred(float x) {
#if FROM_LOGITS
    return !isfinite(x);
#else
    return !(x >= 0.0f && x <= 1.0f);
#endif
}

/* Binary target as a float; refused (ok = 0) when NaN/inf or outside [0, 1]. */
inline float binary_target(target_t v, int *ok) {
#if TARGET_TYPE == TARGET_FLOAT32
    *ok = v >= 0.0f && v <= 1.0f;
    return v;
#elif TARGET_TYPE == TARGET_UINT8
    *ok = v <= 1;
    return (float) v;
#else
    *ok = v >= 0 && v <= 1;
    return (float) v;
#endif
}

/* Binary / multilabel: whether a target value is the ignore value (IGNORE_VALUE, defined only with ignore_index). */
inline int binary_ignored(target_t v) {
#if !MULTICLASS && HAS_IGNORE
#if TARGET_TYPE == TARGET_FLOAT32
    return v == (float) IGNORE_VALUE;
#else
    return (long) v == (long) IGNORE_VALUE;
#endif
#else
    return 0;
#endif
}

/* Multiclass class index; a float target counts only when integral and |v| < 1e9 (else LONG_MIN: refused). */
inline long class_index(target_t v) {
#if TARGET_TYPE == TARGET_FLOAT32
    return (v == rint(v) && fabs(v) < 1e9f) ? (long) v : LONG_MIN;
#else
    return (long) v;
#endif
}

/*
 * Tree reduction of (vec_t, uint2) pairs over the work-group. The active work-items lid < active form
 * slots j = lid / cycle of `cycle` lanes each; lanes with the same lid % cycle are added, in a fixed
 * order: at each step slot j += slot j + h (h = ceil(J / 2)). Every work-item of the group must call
 * it (it has barriers). On return lanes lid < cycle of slot 0 hold the sums.
 */
#define DEFINE_REDUCE(name, vec_t) \
inline void name(__local vec_t *f, __local uint2 *u, uint lid, uint active, uint cycle) { \
    uint slots = active / cycle; \
    barrier(CLK_LOCAL_MEM_FENCE); \
    while (slots > 1) { \
        uint h = (slots + 1) >> 1; \
        if (lid < active) { \
            uint j = lid / cycle; \
            if (j < h && j + h < slots) { \
                f[lid] += f[lid + h * cycle]; \
                u[lid] += u[lid + h * cycle]; \
            } \
        } \
        barrier(CLK_LOCAL_MEM_FENCE); \
        slots = h; \
    } \
}

/* Float sums (float4, uint2). */
DEFINE_REDUCE(reduce_f4u2, float4)
/* Float sums (float8: the float stats of a row, uint2). */
DEFINE_REDUCE(reduce_f8u2, float8)
/* Integer counts (uint4, uint2). */
DEFINE_REDUCE(reduce_u4u2, uint4)

/*
 * Binary geometry (launch: global = (groups * WG_SIZE, segments), local = (WG_SIZE, 1)).
 * A segment is a contiguous (or strided) run of elements:
 *   nchw:            segment = row (n, c), base = n*S*C + c*S, stride 1, cycle 1;
 *   nhwc, C <= WG:   segment = sample n,   base = n*S*C,       stride 1, cycle C (lane lid % C is channel c);
 *   nhwc, C > WG:    segment = row (n, c), base = n*S*C + c,   stride C, cycle 1.
 * Work-item lid < active handles elements e = g * active * ITEMS + k * active + lid, k < ITEMS, e < seg_len.
 */
#define BINARY_GEOMETRY_ARGS ulong seg_len, ulong sample_stride, ulong chan_stride, ulong elem_stride, \
    uint segs_per_sample, uint cycle, uint active, uint num_classes

inline ulong segment_base(uint seg, ulong sample_stride, ulong chan_stride, uint segs_per_sample) {
    return (ulong) (seg / segs_per_sample) * sample_stride + (ulong) (seg % segs_per_sample) * chan_stride;
}

/*
 * Loop over the elements of this work-item in its segment (needs lid, g, base and BINARY_GEOMETRY_ARGS in
 * scope). Opens a block in which idx (the element's index), x (its pred value), t (its target as a float),
 * ok (whether the target is valid) and ign (whether it is the ignore value) are defined; close it with
 * BINARY_ELEMENTS_END.
 */
#define BINARY_ELEMENTS_BEGIN \
    ulong e0_ = (ulong) g * active * ITEMS + lid; \
    for (uint k_ = 0; k_ < ITEMS; k_++) { \
        ulong e_ = e0_ + (ulong) k_ * active; \
        if (e_ < seg_len) { \
            ulong idx = base + e_ * elem_stride; \
            float x = pred[idx]; \
            int ok; \
            target_t tv_ = target[idx]; \
            float t = binary_target(tv_, &ok); \
            int ign = binary_ignored(tv_);
#define BINARY_ELEMENTS_END } }

/*
 * The binary pixel term and its derivative, chosen by the defines (the constant branches of sl_binary_term fold
 * away: no test per element): BINARY_TERM(tt) and BINARY_TERM_D(tt) with x, p, q, l, pc, qc, aw, nw, gamma and pw
 * in scope (the ones the term does not read may hold anything); tt = TERM_TARGET(t), the target of the pixel term (label smoothing: t (1 - e) + e / 2; region terms
 * keep t). P_SLOPE(p) = dP/dp of the region sum P: 1, or 2p with SQUARES (P = sum p^2).
 */
#define BINARY_TERM(tt) sl_binary_term(PIXEL_TERM, FROM_LOGITS, POS_WEIGHT, x, tt, p, q, l, pc, qc, pw, aw, nw, gamma)
#define BINARY_TERM_D(tt) sl_binary_term_d(PIXEL_TERM, FROM_LOGITS, POS_WEIGHT, x, tt, p, q, l, pc, qc, pw, aw, nw, gamma)
#if LABEL_SMOOTHING
#define TERM_TARGET(t) sl_smooth_target(t, ls_keep, ls_add)
#else
#define TERM_TARGET(t) (t)
#endif
#if SQUARES
#define P_SLOPE(p) (2.0f * (p))
#else
#define P_SLOPE(p) 1.0f
#endif

/* Element (n, c, s) of pred in a multiclass launch (segment = sample n, S pixels). */
#if LAYOUT_NHWC
#define MC_INDEX(n, c, s, S) (((ulong) (n) * (S) + (s)) * NUM_CLASSES + (c))
#else
#define MC_INDEX(n, c, s, S) (((ulong) (n) * NUM_CLASSES + (c)) * (S) + (s))
#endif

#if MULTICLASS

/*
 * Loop over the pixels s < S of sample n of this work-item in a multiclass launch (needs lid, g, n, S,
 * target in scope). Opens a block in which s and y (the pixel's class index, see class_index) are defined;
 * close it with MC_PIXELS_END.
 */
#define MC_PIXELS_BEGIN \
    ulong s0_ = (ulong) g * WG_SIZE * ITEMS + lid; \
    for (uint k_ = 0; k_ < ITEMS; k_++) { \
        ulong s = s0_ + (ulong) k_ * WG_SIZE; \
        if (s >= S) { \
            continue; \
        } \
        long y = class_index(target[(ulong) n * S + s]);
#define MC_PIXELS_END }

/* v_c = x_c, the C pred values of pixel s of sample n; returns x_y (0 when y is not a class). */
inline float load_pixel(__global const float *pred, uint n, ulong s, ulong S, long y, float *v) {
    float xy = 0.0f;
    for (int c = 0; c < NUM_CLASSES; c++) {
        float x = pred[MC_INDEX(n, c, s, S)];
        v[c] = x;
        xy = (c == y) ? x : xy;
    }
    return xy;
}

/* Counts the refused values of v in bad_count[c]; returns whether there was one. */
inline int count_refused(const float *v, uint *bad_count) {
    int bad = 0;
    for (int c = 0; c < NUM_CLASSES; c++) {
        if (bad_pred(v[c])) {
            bad_count[c]++;
            bad = 1;
        }
    }
    return bad;
}

/*
 * Whether a pixel of class y adds to the sums: not when ignored; not when y is outside [0, C) (then
 * counted in *bad_t); not when one of its pred values was refused (bad).
 */
inline int pixel_counts(long y, int bad, int ignore_index, uint *bad_t) {
#if HAS_IGNORE
    if (y == ignore_index) {
        return 0;
    }
#endif
    if (y < 0 || y >= NUM_CLASSES) {
        (*bad_t)++;
        return 0;
    }
    return !bad;
}

/*
 * The per-class targets tv of pixel s of sample n. SOFT_TARGETS: the C stored values (pred's layout); refused
 * (counted in *bad_t, returns 0) when one is below 0 or not finite or their sum is off 1 by more than
 * SOFT_TARGET_SUM_TOLERANCE. Else one-hot(y), with pixel_counts' rules. Returns whether the pixel counts
 * (before the pred values are checked).
 */
inline int pixel_targets(__global const target_t *target, uint n, ulong s, ulong S, long y, int ignore_index,
                         float *tv, uint *bad_t) {
#if SOFT_TARGETS
    float sum = 0.0f;
    int ok = 1;
    for (int c = 0; c < NUM_CLASSES; c++) {
        float t = (float) target[MC_INDEX(n, c, s, S)];
        tv[c] = t;
        ok = ok && t >= 0.0f && isfinite(t);
        sum += t;
    }
    if (!ok || !(fabs(sum - 1.0f) <= SOFT_TARGET_SUM_TOLERANCE)) {
        (*bad_t)++;
        return 0;
    }
    return 1;
#else
    if (!pixel_counts(y, 0, ignore_index, bad_t)) {
        return 0;
    }
    for (int c = 0; c < NUM_CLASSES; c++) {
        tv[c] = (c == y) ? 1.0f : 0.0f;
    }
    return 1;
#endif
}

/* a = argmax_c v_c (ties: the lowest index); *m = v_a. */
inline int argmax_class(const float *v, float *m) {
    float best = v[0];
    int am = 0;
    for (int c = 1; c < NUM_CLASSES; c++) {
        if (v[c] > best) {
            best = v[c];
            am = c;
        }
    }
    *m = best;
    return am;
}

/*
 * Shifted softmax of the logits v: m = max_c v_c, a = argmax, v_c <- exp(v_c - m), *ey = exp(v_y - m);
 * returns others = sum_{c != a} exp(v_c - m). Then p_c = v_c / (1 + others),
 * log p_y = (x_y - m) - log1p(others) and, for y = a, 1 - p_y = others / (1 + others).
 */
inline float softmax_shift(float *v, long y, float *m, int *am, float *ey) {
    *am = argmax_class(v, m);
    float others = 0.0f, e_y = 0.0f;
    for (int c = 0; c < NUM_CLASSES; c++) {
        float ec = exp(v[c] - *m);
        v[c] = ec;
        others += (c == *am) ? 0.0f : ec;
        e_y = (c == y) ? ec : e_y;
    }
    *ey = e_y;
    return others;
}

#endif
