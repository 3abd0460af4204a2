/*
 * segloss_lovasz.h: the Lovasz pass's sort keys and its gradient over the sorted ranks, defined ONCE for both
 * devices: kernels-cl/lovasz.cl (OpenCL C, through the host's #include expansion, after segloss_terms.h) and
 * kernels-cu/lovasz.cu (CUDA). Common subset of OpenCL C 1.2 and CUDA C++, like segloss_terms.h (SL_FN from there).
 * The Java reference is backend/cpu/CpuLovasz.java.
 */
#ifndef SEGLOSS_LOVASZ_H
#define SEGLOSS_LOVASZ_H

#ifdef __OPENCL_VERSION__
#define LZ_LONG long
#define LZ_AS_UINT(f) as_uint(f)
#define LZ_AS_FLOAT(u) as_float(u)
#else
#define LZ_LONG long long
#define LZ_AS_UINT(f) __float_as_uint(f)
#define LZ_AS_FLOAT(u) __uint_as_float(u)
#endif

/* The key of an element that does not count (ignored or refused): after every counted one. */
#define LZ_NOT_COUNTED 0xFFFFFFFFu

/* Descending key of e: ascending unsigned order of the key is decreasing e (-0 counts as +0). */
SL_FN unsigned int lz_descending_key(float e) {
    unsigned int bits = LZ_AS_UINT(e + 0.0f);
    unsigned int sortable = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
    return ~sortable;
}

/* The error of a descending key. */
SL_FN float lz_error_of_key(unsigned int key) {
    unsigned int sortable = ~key;
    return LZ_AS_FLOAT((sortable & 0x80000000u) ? (sortable & 0x7FFFFFFFu) : ~sortable);
}

/*
 * The Lovasz gradient at 0-based rank r of a segment with G positives, `before` of them ranked before r,
 * g the ground truth at r: L = 1 / U when g = 1, I / (U (U + 1)) when g = 0, 1 when U = 0, with
 * I = G - before and U = G + r - before (the difference J_r+1 - J_r of the spec without cancellation).
 */
SL_FN float lz_gradient(unsigned int positives, LZ_LONG r, LZ_LONG before, int g) {
    float u = (float) ((LZ_LONG) positives + r - before);
    if (g) {
        return 1.0f / u;
    }
    return u == 0.0f ? 1.0f : (float) ((LZ_LONG) positives - before) / (u * (u + 1.0f));
}

/*
 * One sorted rank r of the apply step: the element of sort key `key` (LZ_NOT_COUNTED: it does not count) with
 * ground truth g (1 positive, 0 not). A counted element with error e > 0 adds e L to *term and gets the gradient
 * weight * (g ? -1 : 1) * L (dL/dx for the hinge; dL/dp for the softmax form); every other element gets 0. A counted
 * positive advances *before.
 */
SL_FN float lz_apply_rank(unsigned int key, int g, unsigned int positives, LZ_LONG r, LZ_LONG *before, float weight,
                          float *term) {
    float out = 0.0f;
    if (key != LZ_NOT_COUNTED) {
        float e = lz_error_of_key(key);
        float lg = lz_gradient(positives, r, *before, g);
        if (e > 0.0f) {
            *term += e * lg;
            out = weight == 0.0f ? 0.0f : (g ? -lg : lg) * weight;
        }
        *before += g;
    }
    return out;
}

#endif
