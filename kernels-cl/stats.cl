/* The stats pass (see common.cl for the geometry, the defines and the reduction). */

#if !MULTICLASS

/*
 * Binary / multilabel, per row (n, c) over its valid elements, p = sigmoid(x) when FROM_LOGITS else p = x:
 *   I = sum p t,  P = sum p,  T = sum t                                          (REGION only)
 *   P2 = sum p^2, T2 = sum t^2                                                   (SQUARES only)
 *   TERM = sum of BINARY_TERM (segloss_terms.h: bce, bce with pos_weight, focal; label-smoothed target)
 *   COUNT = valid elements                                                       (HAS_IGNORE only)
 *   BAD_PRED, BAD_TARGET: refused values (a refused element adds to nothing else; pred is checked first);
 *   elements whose target is the ignore value add to nothing.
 * Output: one float8 (I, P, T, TERM, P2, T2, COUNT, 0) and one (BAD_PRED, BAD_TARGET) per (row, work-group)
 * at ((segment * groups + group) * cycle + lane).
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void stats(__global const float *pred, __global const target_t *target, __global float8 *part_f,
           __global uint2 *part_u, BINARY_GEOMETRY_ARGS, float aw, float nw, float gamma, float ls_keep,
           float ls_add, __global const float *pos_weight) {
    __local float8 lf[WG_SIZE];
    __local uint2 lu[WG_SIZE];
    uint lid = get_local_id(0);
    uint g = get_group_id(0);
    uint groups = get_num_groups(0);
    uint seg = get_group_id(1);
    ulong base = segment_base(seg, sample_stride, chan_stride, segs_per_sample);
    float pw = pos_weight[(seg * cycle + lid % cycle) % num_classes];
    float sum_i = 0.0f, sum_p = 0.0f, sum_t = 0.0f, sum_term = 0.0f, sum_p2 = 0.0f, sum_t2 = 0.0f, count = 0.0f;
    uint bad_p = 0, bad_t = 0;
    if (lid < active) {
        BINARY_ELEMENTS_BEGIN
                /* Branch-free so that PoCL vectorises across work-items: refused and ignored values are
                   replaced by 0 and masked out of every sum. */
                int refused_p = bad_pred(x);
                int refused_t = !refused_p && !ok && !ign;
                int valid = !refused_p && ok && !ign;
                bad_p += refused_p;
                bad_t += refused_t;
                x = valid ? x : 0.0f;
                t = valid ? t : 0.0f;
                float w = valid ? 1.0f : 0.0f;
#if FROM_LOGITS
                float p, q;
                float ex = sl_sigmoid_pair(x, &p, &q);
                float l = PIXEL_TERM != TERM_NONE ? sl_log1p(ex) : 0.0f;
                float pc = p, qc = q;
#else
                float p = x, q = 1.0f - x, l = 0.0f;
                float pc = sl_clamp(x);
                float qc = sl_clamp(1.0f - x);
#endif
#if PIXEL_TERM != TERM_NONE
                sum_term += w * BINARY_TERM(TERM_TARGET(t));
#endif
#if REGION
                sum_i += w * p * t;
                sum_p += w * p;
                sum_t += t;
#if SQUARES
                sum_p2 += w * p * p;
                sum_t2 += t * t;
#endif
#endif
                count += w;
        BINARY_ELEMENTS_END
    }
    lf[lid] = (float8) (sum_i, sum_p, sum_t, sum_term, sum_p2, sum_t2, count, 0.0f);
    lu[lid] = (uint2) (bad_p, bad_t);
    reduce_f8u2(lf, lu, lid, active, cycle);
    if (lid < cycle) {
        ulong slot = ((ulong) seg * groups + g) * cycle + lid;
        part_f[slot] = lf[lid];
        part_u[slot] = lu[lid];
    }
}

#elif SOFT_TARGETS || LABEL_SMOOTHING

/*
 * Multiclass with per-class targets t_c (soft targets: the target holds class probabilities of pred's shape;
 * label smoothing of a class map: t = one-hot(y)), per counted pixel s of sample n, p = softmax or x:
 *   P[c] += p_c, I[c] += p_c t_c, T[c] += t_c, P2[c] += p_c^2, T2[c] += t_c^2,
 *   TERM[c] += t'_c term(p_c),  t'_c = TERM_TARGET(t_c) = (1 - e) t_c + e / C,
 *   term = -log p_c (ce) or sl_focal_mc(1 - p_c, log p_c) (focal), log p_c = x_c - m - log1p(others) from logits.
 *   BAD_TARGET (row (n, 0)): soft targets with a value below 0 or a sum off 1 by more than
 *   SOFT_TARGET_SUM_TOLERANCE; class indices outside [0, C) that are not the ignore index.
 * Output per (n, group, c) at ((n * groups + group) * C + c).
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void stats(__global const float *pred, __global const target_t *target, __global float8 *part_f,
           __global uint2 *part_u, ulong S, float gamma, int ignore_index, float ls_keep, float ls_add) {
    __local float8 lf[WG_SIZE];
    __local uint2 lu[WG_SIZE];
    uint lid = get_local_id(0);
    uint g = get_group_id(0);
    uint groups = get_num_groups(0);
    uint n = get_group_id(1);
    float acc_i[NUM_CLASSES], acc_p[NUM_CLASSES], acc_t[NUM_CLASSES], acc_term[NUM_CLASSES];
    float acc_p2[NUM_CLASSES], acc_t2[NUM_CLASSES];
    uint acc_bad[NUM_CLASSES];
    uint bad_t = 0;
    for (int c = 0; c < NUM_CLASSES; c++) {
        acc_i[c] = 0.0f;
        acc_p[c] = 0.0f;
        acc_t[c] = 0.0f;
        acc_term[c] = 0.0f;
        acc_p2[c] = 0.0f;
        acc_t2[c] = 0.0f;
        acc_bad[c] = 0;
    }
    MC_PIXELS_BEGIN
        float v[NUM_CLASSES], xv[NUM_CLASSES], tv[NUM_CLASSES];
        load_pixel(pred, n, s, S, y, v);
        int bad = count_refused(v, acc_bad);
        if (!pixel_targets(target, n, s, S, y, ignore_index, tv, &bad_t) || bad) {
            continue;
        }
#if FROM_LOGITS
        float m, ey;
        int am;
        for (int c = 0; c < NUM_CLASSES; c++) {
            xv[c] = v[c];
        }
        float others = softmax_shift(v, 0, &m, &am, &ey);
        float inv = 1.0f / (1.0f + others);
        float l1 = sl_log1p(others);
#endif
        for (int c = 0; c < NUM_CLASSES; c++) {
#if FROM_LOGITS
            float pc = v[c] * inv;
            float log_pc = (xv[c] - m) - l1;
            float qc = (c == am) ? others * inv : 1.0f - pc;
#else
            float pc = v[c];
            float log_pc = log(sl_clamp(pc));
            float qc = sl_clamp(1.0f - pc);
#endif
            float t = tv[c];
            acc_p[c] += pc;
            acc_i[c] += pc * t;
            acc_t[c] += t;
            acc_p2[c] += pc * pc;
            acc_t2[c] += t * t;
#if PIXEL_TERM != TERM_NONE
            acc_term[c] += TERM_TARGET(t) * sl_mc_term(PIXEL_TERM, qc, log_pc, gamma);
#endif
        }
    MC_PIXELS_END
    for (int c = 0; c < NUM_CLASSES; c++) {
        lf[lid] = (float8) (acc_i[c], acc_p[c], acc_t[c], acc_term[c], acc_p2[c], acc_t2[c], 0.0f, 0.0f);
        lu[lid] = (uint2) (acc_bad[c], c == 0 ? bad_t : 0u);
        reduce_f8u2(lf, lu, lid, WG_SIZE, 1);
        if (lid == 0) {
            ulong slot = ((ulong) n * groups + g) * NUM_CLASSES + c;
            part_f[slot] = lf[0];
            part_u[slot] = lu[0];
        }
    }
}

#else

/*
 * Multiclass, per valid pixel s of sample n (launch: global = (groups * WG_SIZE, N)), y = target class,
 * p = softmax over C of x when FROM_LOGITS else p = x, t_c = (c == y):
 *   P[c] += p_c,  I[y] += p_y                                                    (REGION only)
 *   T[y] += 1                                                                    (always: pixel counts)
 *   P2[c] += p_c^2 (SQUARES); T2 = T (one-hot targets)
 *   TERM[y] += -log p_y (ce) or -(1 - p_y)^g log p_y (focal, sl_focal_mc), where from logits
 *     log p_y = x_y - m - log1p(sum_{c != argmax} exp(x_c - m)),  m = max_c x_c,
 *     and from probabilities log p_y = log(clamp(p_y)), 1 - p_y -> clamp(1 - p_y).
 *   BAD_PRED[c]: refused pred values of class c (counted even on ignored pixels);
 *   BAD_TARGET (row (n, 0)): class indices outside [0, C) that are not the ignore index.
 * Ignored pixels and pixels with a refused value add to nothing else.
 * Output per (n, group, c) at ((n * groups + group) * C + c).
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void stats(__global const float *pred, __global const target_t *target, __global float8 *part_f,
           __global uint2 *part_u, ulong S, float gamma, int ignore_index, float ls_keep, float ls_add) {
    __local float8 lf[WG_SIZE];
    __local uint2 lu[WG_SIZE];
    uint lid = get_local_id(0);
    uint g = get_group_id(0);
    uint groups = get_num_groups(0);
    uint n = get_group_id(1);
    float acc_i[NUM_CLASSES], acc_p[NUM_CLASSES], acc_t[NUM_CLASSES], acc_term[NUM_CLASSES];
#if SQUARES
    float acc_p2[NUM_CLASSES];
#endif
    uint acc_bad[NUM_CLASSES];
    uint bad_t = 0;
    for (int c = 0; c < NUM_CLASSES; c++) {
        acc_i[c] = 0.0f;
        acc_p[c] = 0.0f;
        acc_t[c] = 0.0f;
        acc_term[c] = 0.0f;
#if SQUARES
        acc_p2[c] = 0.0f;
#endif
        acc_bad[c] = 0;
    }
    MC_PIXELS_BEGIN
        float v[NUM_CLASSES];
        float xy = load_pixel(pred, n, s, S, y, v);
        int bad = count_refused(v, acc_bad);
        if (!pixel_counts(y, bad, ignore_index, &bad_t)) {
            continue;
        }
#if FROM_LOGITS
        float m, ey;
        int am;
        float others = softmax_shift(v, y, &m, &am, &ey);
        float inv = 1.0f / (1.0f + others);
        float log_py = (xy - m) - sl_log1p(others);
        float py = ey * inv;
        float qy = (y == am) ? others * inv : 1.0f - py;
#else
        float py = xy;
        float inv = 1.0f;
        float log_py = log(sl_clamp(py));
        float qy = sl_clamp(1.0f - py);
#endif
        float term = sl_mc_term(PIXEL_TERM, qy, log_py, gamma);
        for (int c = 0; c < NUM_CLASSES; c++) {
            int hit = c == y;
#if REGION
            float pc = v[c] * inv;
            acc_p[c] += pc;
            acc_i[c] += hit ? pc : 0.0f;
#if SQUARES
            acc_p2[c] += pc * pc;
#endif
#endif
            acc_t[c] += hit ? 1.0f : 0.0f;
            acc_term[c] += hit ? term : 0.0f;
        }
    MC_PIXELS_END
    for (int c = 0; c < NUM_CLASSES; c++) {
#if SQUARES
        float p2 = acc_p2[c];
#else
        float p2 = 0.0f;
#endif
        /* T2 = T: one-hot targets */
        lf[lid] = (float8) (acc_i[c], acc_p[c], acc_t[c], acc_term[c], p2, acc_t[c], 0.0f, 0.0f);
        lu[lid] = (uint2) (acc_bad[c], c == 0 ? bad_t : 0u);
        reduce_f8u2(lf, lu, lid, WG_SIZE, 1);
        if (lid == 0) {
            ulong slot = ((ulong) n * groups + g) * NUM_CLASSES + c;
            part_f[slot] = lf[0];
            part_u[slot] = lu[0];
        }
    }
}

#endif
