/* The grad pass (see common.cl for the geometry and the defines; GradCoefficients for A, B, ps). */

#if !MULTICLASS

/*
 * Binary / multilabel, element of row (n, c): ps = pixel_scale[c], A = region_a[row], B = region_b[row],
 * p = sigmoid(x), q = sigmoid(-x) from logits, pc = clamp(p), qc = clamp(1 - p) from probabilities.
 *   from logits:  dL/dx = ps dterm/dx + (t A + B) p q
 *     dbce/dx   = p - t = (1 - t) p - t q
 *     dfocal/dx = -aw t (g p q^g softplus(-x) + q^(g+1)) + nw (1 - t) (g p^g q softplus(x) + p^(g+1))
 *   from probabilities:  dL/dp = ps dterm/dp + t A + B
 *     dbce/dp   = -t / pc + (1 - t) / qc
 *     dfocal/dp = -aw t (-g qc^(g-1) log pc + qc^g / pc) - nw (1 - t) (g pc^(g-1) log qc - pc^g / qc)
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void grad(__global const float *pred, __global const target_t *target, __global float *out,
          __global const float *pixel_scale, __global const float *region_a, __global const float *region_b,
          BINARY_GEOMETRY_ARGS, float aw, float nw, float gamma) {
    uint lid = get_local_id(0);
    if (lid >= active) {
        return;
    }
    uint g = get_group_id(0);
    uint seg = get_group_id(1);
    ulong base = segment_base(seg, sample_stride, chan_stride, segs_per_sample);
    uint row = seg * cycle + lid % cycle;
    float ps = pixel_scale[row % num_classes];
#if REGION
    float ra = region_a[row];
    float rb = region_b[row];
#endif
    BINARY_ELEMENTS_BEGIN
            float d = 0.0f;
#if FROM_LOGITS
            float p, q;
            float ex = sigmoid_pair(x, &p, &q);
#if PIXEL_TERM == 1
            d += ps * ((1.0f - t) * p - t * q);
#elif PIXEL_TERM == 2
            float l = log1p_fast(ex);
            float qg = pow_gamma(q, gamma);
            float pg = pow_gamma(p, gamma);
            d += ps * (-aw * t * (gamma * p * qg * (fmax(-x, 0.0f) + l) + qg * q)
                       + nw * (1.0f - t) * (gamma * pg * q * (fmax(x, 0.0f) + l) + pg * p));
#endif
#if REGION
            d += (t * ra + rb) * p * q;
#endif
#else
#if PIXEL_TERM != 0
            float pc = clamp_prob(x);
            float qc = clamp_prob(1.0f - x);
#endif
#if PIXEL_TERM == 1
            d += ps * (-t / pc + (1.0f - t) / qc);
#elif PIXEL_TERM == 2
#if GAMMA_KIND == 0
            float pos = 1.0f / pc;
            float neg = -1.0f / qc;
#else
            float pos = -gamma * pow_gamma_m1(qc, gamma) * log(pc) + pow_gamma(qc, gamma) / pc;
            float neg = gamma * pow_gamma_m1(pc, gamma) * log(qc) - pow_gamma(pc, gamma) / qc;
#endif
            d += ps * (-aw * t * pos - nw * (1.0f - t) * neg);
#endif
#if REGION
            d += t * ra + rb;
#endif
#endif
            out[idx] = d;
    BINARY_ELEMENTS_END
}

#else

/*
 * Multiclass, pixel s of sample n with class y, r_c = t_c A[n, c] + B[n, c] (REGION), ps = pixel_scale[y]:
 *   from logits:  dL/dx_c = ps dterm/dx_c + p_c (r_c - sum_k p_k r_k)
 *     computed as p_c ((r_c - r_a) + sum_k p_k (r_a - r_k)), a = argmax, which does not cancel when p_a is near 1
 *     dce/dx_c    = p_c - t_c   (for c = y: -(1 - p_y), computed as -q_y)
 *     dfocal/dx_c = F (t_c - p_c),  F = g (1 - p_y)^(g-1) p_y log p_y - (1 - p_y)^g  (first part 0 when g = 0 or p_y = 1)
 *   from probabilities:  dL/dp_c = [c = y] ps dterm/dp_y + r_c
 *     dce/dp_y    = -1 / pc,  pc = clamp(p_y), qc = clamp(1 - p_y)
 *     dfocal/dp_y = g qc^(g-1) log pc - qc^g / pc
 *   ignored pixels (and, defensively, out-of-range classes) get 0.
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void grad(__global const float *pred, __global const target_t *target, __global float *out,
          __global const float *pixel_scale, __global const float *region_a, __global const float *region_b,
          ulong S, float gamma, int ignore_index) {
    uint lid = get_local_id(0);
    uint g = get_group_id(0);
    uint n = get_group_id(1);
#if REGION
    float ra[NUM_CLASSES], rb[NUM_CLASSES];
    for (int c = 0; c < NUM_CLASSES; c++) {
        ra[c] = region_a[n * NUM_CLASSES + c];
        rb[c] = region_b[n * NUM_CLASSES + c];
    }
#endif
    MC_PIXELS_BEGIN
        int skip = y < 0 || y >= NUM_CLASSES;
#if HAS_IGNORE
        skip = skip || y == ignore_index;
#endif
        if (skip) {
            for (int c = 0; c < NUM_CLASSES; c++) {
                out[MC_INDEX(n, c, s, S)] = 0.0f;
            }
            continue;
        }
        float v[NUM_CLASSES];
        float xy = load_pixel(pred, n, s, S, y, v);
        float ps = pixel_scale[y];
#if FROM_LOGITS
        float m, ey;
        int am;
        float others = softmax_shift(v, y, &m, &am, &ey);
        float inv = 1.0f / (1.0f + others);
        float py = ey * inv;
        float qy = (y == am) ? others * inv : 1.0f - py;
        for (int c = 0; c < NUM_CLASSES; c++) {
            v[c] *= inv;
        }
#if PIXEL_TERM == 2
        float log_py = (xy - m) - log1p_fast(others);
#if GAMMA_KIND == 0
        float slope = -ps;
#else
        float first = qy <= 0.0f ? 0.0f : gamma * pow_gamma_m1(qy, gamma) * py * log_py;
        float slope = ps * (first - pow_gamma(qy, gamma));
#endif
#endif
#if REGION
        /* r_c - sum_k p_k r_k = (r_c - r_a) + D with D = sum_k p_k (r_a - r_k), a = argmax: differences of
           nearby coefficients are exact in float, so nothing cancels when p_a is near 1. */
        float r_am = 0.0f;
        for (int c = 0; c < NUM_CLASSES; c++) {
            r_am = (c == am) ? (c == y ? ra[c] : 0.0f) + rb[c] : r_am;
        }
        float dev = 0.0f;
        for (int c = 0; c < NUM_CLASSES; c++) {
            dev += v[c] * (r_am - ((c == y ? ra[c] : 0.0f) + rb[c]));
        }
#endif
        for (int c = 0; c < NUM_CLASSES; c++) {
            int hit = c == y;
            float pcv = v[c];
            float d = 0.0f;
#if PIXEL_TERM == 3
            d = ps * (hit ? -qy : pcv);
#elif PIXEL_TERM == 2
            d = slope * (hit ? qy : -pcv);
#endif
#if REGION
            float rc = (hit ? ra[c] : 0.0f) + rb[c];
            d += pcv * ((rc - r_am) + dev);
#endif
            out[MC_INDEX(n, c, s, S)] = d;
        }
#else
        float pc = clamp_prob(xy);
        float qc = clamp_prob(1.0f - xy);
#if PIXEL_TERM == 3
        float slope = -ps / pc;
#elif PIXEL_TERM == 2
#if GAMMA_KIND == 0
        float slope = ps * (-1.0f / pc);
#else
        float slope = ps * (gamma * pow_gamma_m1(qc, gamma) * log(pc) - pow_gamma(qc, gamma) / pc);
#endif
#else
        float slope = 0.0f;
#endif
        for (int c = 0; c < NUM_CLASSES; c++) {
            float d = (c == y) ? slope : 0.0f;
#if REGION
            d += ((c == y) ? ra[c] : 0.0f) + rb[c];
#endif
            out[MC_INDEX(n, c, s, S)] = d;
        }
#endif
    MC_PIXELS_END
}

#endif
