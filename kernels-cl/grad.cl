/* The grad pass (see common.cl for the geometry and the defines; GradCoefficients for A, B, ps). */

#if !MULTICLASS

/*
 * Binary / multilabel, element of row (n, c): ps = pixel_scale[c], A = region_a[row], B = region_b[row],
 * p = sigmoid(x), q = sigmoid(-x) from logits, pc = clamp(p), qc = clamp(1 - p) from probabilities,
 * tt = TERM_TARGET(t) (label smoothing), pw = pos_weight[c]:
 *   from logits:         dL/dx = ps BINARY_TERM_D(tt) + sl_sigmoid_chain(t A + B P_SLOPE(p), p, q)
 *   from probabilities:  dL/dp = ps BINARY_TERM_D(tt) + t A + B P_SLOPE(p)
 * (the derivatives of the terms are in segloss_terms.h); elements whose target is the ignore value get 0.
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void grad(__global const float *pred, __global const target_t *target, __global float *out,
          __global const float *pixel_scale, __global const float *region_a, __global const float *region_b,
          BINARY_GEOMETRY_ARGS, float aw, float nw, float gamma, float ls_keep, float ls_add,
          __global const float *pos_weight) {
    uint lid = get_local_id(0);
    if (lid >= active) {
        return;
    }
    uint g = get_group_id(0);
    uint seg = get_group_id(1);
    ulong base = segment_base(seg, sample_stride, chan_stride, segs_per_sample);
    uint row = seg * cycle + lid % cycle;
    float ps = pixel_scale[row % num_classes];
    float pw = pos_weight[row % num_classes];
#if REGION
    float ra = region_a[row];
    float rb = region_b[row];
#endif
    BINARY_ELEMENTS_BEGIN
            float d = 0.0f;
#if FROM_LOGITS
            float p, q;
            float ex = sl_sigmoid_pair(x, &p, &q);
            float l = PIXEL_TERM == TERM_BCE ? 0.0f : sl_log1p(ex); /* not read by the bce derivatives */
            float pc = p, qc = q;
#if PIXEL_TERM != TERM_NONE
            d += ps * BINARY_TERM_D(TERM_TARGET(t));
#endif
#if REGION
            d += sl_sigmoid_chain(t * ra + rb * P_SLOPE(p), p, q);
#endif
#else
            float p = x, q = 1.0f - x, l = 0.0f;
            float pc = sl_clamp(x);
            float qc = sl_clamp(1.0f - x);
#if PIXEL_TERM != TERM_NONE
            d += ps * BINARY_TERM_D(TERM_TARGET(t));
#endif
#if REGION
            d += t * ra + rb * P_SLOPE(p);
#endif
#endif
            out[idx] = ign ? 0.0f : d;
    BINARY_ELEMENTS_END
}

#elif SOFT_TARGETS || LABEL_SMOOTHING

/*
 * Multiclass with per-class targets t_c (see stats.cl), s_c = pixel_scale[c], t'_c = TERM_TARGET(t_c),
 * r_c = t_c A[n, c] + B[n, c] P_SLOPE(p_c) (REGION):
 *   from logits:         h_c = s_c t'_c F_c with F = -1 (ce) or sl_focal_mc_slope (focal);
 *                        dL/dx_c = h_c - p_c sum_k h_k + sl_softmax_chain(p_c, r_c - r_a, sum_k p_k (r_a - r_k))
 *   from probabilities:  dL/dp_c = s_c t'_c dterm/dp_c + r_c  (sl_focal_mc_prob_dp; ce: gamma 0)
 *   pixels that do not count (ignored, refused targets) get 0.
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void grad(__global const float *pred, __global const target_t *target, __global float *out,
          __global const float *pixel_scale, __global const float *region_a, __global const float *region_b,
          ulong S, float gamma, int ignore_index, float ls_keep, float ls_add) {
    uint lid = get_local_id(0);
    uint g = get_group_id(0);
    uint n = get_group_id(1);
    uint unused_bad = 0;
    MC_PIXELS_BEGIN
        float v[NUM_CLASSES], xv[NUM_CLASSES], tv[NUM_CLASSES];
        if (!pixel_targets(target, n, s, S, y, ignore_index, tv, &unused_bad)) {
            for (int c = 0; c < NUM_CLASSES; c++) {
                out[MC_INDEX(n, c, s, S)] = 0.0f;
            }
            continue;
        }
        load_pixel(pred, n, s, S, y, v);
#if FROM_LOGITS
        float m, ey;
        int am;
        for (int c = 0; c < NUM_CLASSES; c++) {
            xv[c] = v[c];
        }
        float others = softmax_shift(v, 0, &m, &am, &ey);
        float inv = 1.0f / (1.0f + others);
        float l1 = sl_log1p(others);
        float sum_h = 0.0f;
        float r_am = 0.0f;
        for (int c = 0; c < NUM_CLASSES; c++) {
            float pc = v[c] * inv;
            float log_pc = (xv[c] - m) - l1;
            float qc = (c == am) ? others * inv : 1.0f - pc;
            float f = sl_mc_slope(PIXEL_TERM, pc, qc, log_pc, gamma);
            xv[c] = pixel_scale[c] * TERM_TARGET(tv[c]) * f; /* h_c */
            sum_h += xv[c];
#if REGION
            float rc = tv[c] * region_a[n * NUM_CLASSES + c] + region_b[n * NUM_CLASSES + c] * P_SLOPE(pc);
            r_am = (c == am) ? rc : r_am;
#endif
            v[c] = pc;
        }
#if REGION
        float dev = 0.0f;
        for (int c = 0; c < NUM_CLASSES; c++) {
            dev += v[c] * (r_am - (tv[c] * region_a[n * NUM_CLASSES + c] + region_b[n * NUM_CLASSES + c] * P_SLOPE(v[c])));
        }
#endif
        for (int c = 0; c < NUM_CLASSES; c++) {
            float d = xv[c] - v[c] * sum_h;
#if REGION
            float rc = tv[c] * region_a[n * NUM_CLASSES + c] + region_b[n * NUM_CLASSES + c] * P_SLOPE(v[c]);
            d += sl_softmax_chain(v[c], rc - r_am, dev);
#endif
            out[MC_INDEX(n, c, s, S)] = d;
        }
#else
        for (int c = 0; c < NUM_CLASSES; c++) {
            float pc = sl_clamp(v[c]);
            float qc = sl_clamp(1.0f - v[c]);
            float dterm = sl_mc_prob_dp(PIXEL_TERM, pc, qc, gamma);
            float tt = TERM_TARGET(tv[c]);
            float d = tt == 0.0f ? 0.0f : pixel_scale[c] * tt * dterm;
#if REGION
            d += tv[c] * region_a[n * NUM_CLASSES + c] + region_b[n * NUM_CLASSES + c] * P_SLOPE(v[c]);
#endif
            out[MC_INDEX(n, c, s, S)] = d;
        }
#endif
    MC_PIXELS_END
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
          ulong S, float gamma, int ignore_index, float ls_keep, float ls_add) {
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
#if PIXEL_TERM != TERM_NONE
        float log_py = (xy - m) - sl_log1p(others);
        float slope = ps * sl_mc_slope(PIXEL_TERM, py, qy, log_py, gamma); /* CE: -ps, log_py unused */
#endif
#if REGION
        /* r_c - sum_k p_k r_k = (r_c - r_a) + D with D = sum_k p_k (r_a - r_k), a = argmax: differences of
           nearby coefficients are exact in float, so nothing cancels when p_a is near 1. */
        float r_am = 0.0f;
        for (int c = 0; c < NUM_CLASSES; c++) {
            r_am = (c == am) ? (c == y ? ra[c] : 0.0f) + rb[c] * P_SLOPE(v[c]) : r_am;
        }
        float dev = 0.0f;
        for (int c = 0; c < NUM_CLASSES; c++) {
            dev += v[c] * (r_am - ((c == y ? ra[c] : 0.0f) + rb[c] * P_SLOPE(v[c])));
        }
#endif
        for (int c = 0; c < NUM_CLASSES; c++) {
            int hit = c == y;
            float pcv = v[c];
            float d = 0.0f;
#if PIXEL_TERM != TERM_NONE
            d = slope * (hit ? qy : -pcv);
#endif
#if REGION
            float rc = (hit ? ra[c] : 0.0f) + rb[c] * P_SLOPE(pcv);
            d += sl_softmax_chain(pcv, rc - r_am, dev);
#endif
            out[MC_INDEX(n, c, s, S)] = d;
        }
#else
        float pc = sl_clamp(xy);
        float qc = sl_clamp(1.0f - xy);
        float slope = ps * sl_mc_prob_dp(PIXEL_TERM, pc, qc, gamma);
        for (int c = 0; c < NUM_CLASSES; c++) {
            float d = (c == y) ? slope : 0.0f;
#if REGION
            d += ((c == y) ? ra[c] : 0.0f) + rb[c] * P_SLOPE(v[c]);
#endif
            out[MC_INDEX(n, c, s, S)] = d;
        }
#endif
    MC_PIXELS_END
}

#endif
