/*
 * Shared part of every segloss OpenCL program (OpenCL C 1.2). The host prepends this file to the
 * kernel file and compiles with -D defines:
 *   from Problem.defines(): SEGLOSS_PROB_CLAMP_EPS, MULTICLASS, FROM_LOGITS, LAYOUT_NHWC, TARGET_TYPE
 *     (0 float, 1 uint8, 2 int32), PIXEL_TERM (0 none, 1 bce, 2 focal, 3 ce), REGION, HAS_IGNORE;
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
 * Tree reduction of (float4, uint2) pairs over the work-group. The active work-items lid < active form
 * slots j = lid / cycle of `cycle` lanes each; lanes with the same lid % cycle are added, in a fixed
 * order: at each step slot j += slot j + h (h = ceil(J / 2)). Every work-item of the group must call
 * it (it has barriers). On return lanes lid < cycle of slot 0 hold the sums.
 */
inline void reduce_f4u2(__local float4 *f, __local uint2 *u, uint lid, uint active, uint cycle) {
    uint slots = active / cycle;
    barrier(CLK_LOCAL_MEM_FENCE);
    while (slots > 1) {
        uint h = (slots + 1) >> 1;
        if (lid < active) {
            uint j = lid / cycle;
            if (j < h && j + h < slots) {
                f[lid] += f[lid + h * cycle];
                u[lid] += u[lid + h * cycle];
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        slots = h;
    }
}

/* The same fixed-order tree for integer counts (uint4, uint2). */
inline void reduce_u4u2(__local uint4 *f, __local uint2 *u, uint lid, uint active, uint cycle) {
    uint slots = active / cycle;
    barrier(CLK_LOCAL_MEM_FENCE);
    while (slots > 1) {
        uint h = (slots + 1) >> 1;
        if (lid < active) {
            uint j = lid / cycle;
            if (j < h && j + h < slots) {
                f[lid] += f[lid + h * cycle];
                u[lid] += u[lid + h * cycle];
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        slots = h;
    }
}

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

/* Element (n, c, s) of pred in a multiclass launch (segment = sample n, S pixels). */
#if LAYOUT_NHWC
#define MC_INDEX(n, c, s, S) (((ulong) (n) * (S) + (s)) * NUM_CLASSES + (c))
#else
#define MC_INDEX(n, c, s, S) (((ulong) (n) * NUM_CLASSES + (c)) * (S) + (s))
#endif
