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

#if TARGET_TYPE == 0
typedef float target_t;
#elif TARGET_TYPE == 1
typedef uchar target_t;
#elif TARGET_TYPE == 3
typedef long target_t;
#else
typedef int target_t;
#endif

#define EPS SEGLOSS_PROB_CLAMP_EPS

/* clamp(p) = min(max(p, eps), 1 - eps), the probability clamp of the contract. */
inline float clamp_prob(float p) {
    return fmin(fmax(p, EPS), 1.0f - EPS);
}

/*
 * log1p(u) for u >= 0 without the slow library log1p (about 10x exp on PoCL):
 * log1p(u) = log(w) * u / (w - 1) with w = 1 + u rounded (exact to a few ulp; u when w rounds to 1).
 */
inline float log1p_fast(float u) {
    float w = 1.0f + u;
    float d = w - 1.0f;
    return d == 0.0f ? u : log(w) * (u / d);
}

/* x^gamma with the cheap cases exact (GAMMA_KIND 0: 1, 1: x, 2: x*x). */
inline float pow_gamma(float x, float gamma) {
#if GAMMA_KIND == 0
    return 1.0f;
#elif GAMMA_KIND == 1
    return x;
#elif GAMMA_KIND == 2
    return x * x;
#else
    return pow(x, gamma);
#endif
}

/* x^(gamma - 1), used only where gamma != 0 (GAMMA_KIND 1: 1, 2: x). */
inline float pow_gamma_m1(float x, float gamma) {
#if GAMMA_KIND == 1
    return 1.0f;
#elif GAMMA_KIND == 2
    return x;
#else
    return pow(x, gamma - 1.0f);
#endif
}

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
#if TARGET_TYPE == 0
    *ok = v >= 0.0f && v <= 1.0f;
    return v;
#elif TARGET_TYPE == 1
    *ok = v <= 1;
    return (float) v;
#else
    *ok = v >= 0 && v <= 1;
    return (float) v;
#endif
}

/* Multiclass class index; a float target counts only when integral and |v| < 1e9 (else LONG_MIN: refused). */
inline long class_index(target_t v) {
#if TARGET_TYPE == 0
    return (v == rint(v) && fabs(v) < 1e9f) ? (long) v : LONG_MIN;
#else
    return (long) v;
#endif
}

/*
 * Sigmoid pair from one exp: with e = exp(-|x|), p = sigmoid(x) and q = sigmoid(-x) = 1 - p are
 * 1 / (1 + e) and e / (1 + e) (which is which by the sign of x); neither loses precision.
 * Returns e for the softplus forms: softplus(+-x) = max(+-x, 0) + log1p(e).
 */
inline float sigmoid_pair(float x, float *p, float *q) {
    float e = exp(-fabs(x));
    float r = 1.0f / (1.0f + e);
    float er = e * r;
    *p = x >= 0.0f ? r : er;
    *q = x >= 0.0f ? er : r;
    return e;
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
 * scope). Opens a block in which idx (the element's index), x (its pred value), t (its target as a float)
 * and ok (whether the target is valid) are defined; close it with BINARY_ELEMENTS_END.
 */
#define BINARY_ELEMENTS_BEGIN \
    ulong e0_ = (ulong) g * active * ITEMS + lid; \
    for (uint k_ = 0; k_ < ITEMS; k_++) { \
        ulong e_ = e0_ + (ulong) k_ * active; \
        if (e_ < seg_len) { \
            ulong idx = base + e_ * elem_stride; \
            float x = pred[idx]; \
            int ok; \
            float t = binary_target(target[idx], &ok);
#define BINARY_ELEMENTS_END } }

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
