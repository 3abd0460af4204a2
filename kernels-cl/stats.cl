/* The stats pass (see common.cl for the geometry, the defines and the reduction). */

#if !MULTICLASS

/*
 * Binary / multilabel, per row (n, c) over its elements, p = sigmoid(x) when FROM_LOGITS else p = x:
 *   I = sum p t,  P = sum p,  T = sum t                                          (REGION only)
 *   TERM = sum of the pixel term:
 *     bce   logits: max(x, 0) - x t + log1p(exp(-|x|))
 *           probs:  -(t log pc + (1 - t) log qc),  pc = clamp(p), qc = clamp(1 - p)
 *     focal logits: aw t q^g softplus(-x) + nw (1 - t) p^g softplus(x),  q = 1 - p = sigmoid(-x)
 *           probs:  -aw t qc^g log pc - nw (1 - t) pc^g log qc
 *   BAD_PRED, BAD_TARGET: refused values (a refused element adds to nothing else; pred is checked first).
 * Output: one (I, P, T, TERM) and one (BAD_PRED, BAD_TARGET) per (row, work-group) at
 * ((segment * groups + group) * cycle + lane).
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void stats(__global const float *pred, __global const target_t *target, __global float4 *part_f,
           __global uint2 *part_u, BINARY_GEOMETRY_ARGS, float aw, float nw, float gamma) {
    __local float4 lf[WG_SIZE];
    __local uint2 lu[WG_SIZE];
    uint lid = get_local_id(0);
    uint g = get_group_id(0);
    uint groups = get_num_groups(0);
    uint seg = get_group_id(1);
    ulong base = segment_base(seg, sample_stride, chan_stride, segs_per_sample);
    float sum_i = 0.0f, sum_p = 0.0f, sum_t = 0.0f, sum_term = 0.0f;
    uint bad_p = 0, bad_t = 0;
    if (lid < active) {
        BINARY_ELEMENTS_BEGIN
                /* Branch-free so that PoCL vectorises across work-items: refused values are replaced by 0
                   and masked out of every sum. */
                int refused_p = bad_pred(x);
                int refused_t = !refused_p && !ok;
                int valid = !refused_p && ok;
                bad_p += refused_p;
                bad_t += refused_t;
                x = valid ? x : 0.0f;
                t = valid ? t : 0.0f;
                float w = valid ? 1.0f : 0.0f;
#if FROM_LOGITS
                float p, q;
                float ex = sigmoid_pair(x, &p, &q);
#if PIXEL_TERM != 0
                float l = log1p_fast(ex);
#endif
#if PIXEL_TERM == 1
                sum_term += w * (fmax(x, 0.0f) - x * t + l);
#elif PIXEL_TERM == 2
                sum_term += w * (aw * t * pow_gamma(q, gamma) * (fmax(-x, 0.0f) + l)
                               + nw * (1.0f - t) * pow_gamma(p, gamma) * (fmax(x, 0.0f) + l));
#endif
#else
                float p = x;
#if PIXEL_TERM != 0
                float pc = clamp_prob(x);
                float qc = clamp_prob(1.0f - x);
#endif
#if PIXEL_TERM == 1
                sum_term -= w * (t * log(pc) + (1.0f - t) * log(qc));
#elif PIXEL_TERM == 2
                sum_term -= w * (aw * t * pow_gamma(qc, gamma) * log(pc)
                               + nw * (1.0f - t) * pow_gamma(pc, gamma) * log(qc));
#endif
#endif
#if REGION
                sum_i += w * p * t;
                sum_p += w * p;
                sum_t += t;
#endif
        BINARY_ELEMENTS_END
    }
    lf[lid] = (float4) (sum_i, sum_p, sum_t, sum_term);
    lu[lid] = (uint2) (bad_p, bad_t);
    reduce_f4u2(lf, lu, lid, active, cycle);
    if (lid < cycle) {
        ulong slot = ((ulong) seg * groups + g) * cycle + lid;
        part_f[slot] = lf[lid];
        part_u[slot] = lu[lid];
    }
}

#else

/*
 * Multiclass, per valid pixel s of sample n (launch: global = (groups * WG_SIZE, N)), y = target class,
 * p = softmax over C of x when FROM_LOGITS else p = x, t_c = (c == y):
 *   P[c] += p_c,  I[y] += p_y                                                    (REGION only)
 *   T[y] += 1                                                                    (always: pixel counts)
 *   TERM[y] += -log p_y (ce) or -(1 - p_y)^g log p_y (focal), where from logits
 *     log p_y = x_y - m - log1p(sum_{c != argmax} exp(x_c - m)),  m = max_c x_c,
 *     and from probabilities log p_y = log(clamp(p_y)), 1 - p_y -> clamp(1 - p_y).
 *   BAD_PRED[c]: refused pred values of class c (counted even on ignored pixels);
 *   BAD_TARGET (row (n, 0)): class indices outside [0, C) that are not the ignore index.
 * Ignored pixels and pixels with a refused value add to nothing else.
 * Output per (n, group, c) at ((n * groups + group) * C + c).
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void stats(__global const float *pred, __global const target_t *target, __global float4 *part_f,
           __global uint2 *part_u, ulong S, float gamma, int ignore_index) {
    __local float4 lf[WG_SIZE];
    __local uint2 lu[WG_SIZE];
    uint lid = get_local_id(0);
    uint g = get_group_id(0);
    uint groups = get_num_groups(0);
    uint n = get_group_id(1);
    float acc_i[NUM_CLASSES], acc_p[NUM_CLASSES], acc_t[NUM_CLASSES], acc_term[NUM_CLASSES];
    uint acc_bad[NUM_CLASSES];
    uint bad_t = 0;
    for (int c = 0; c < NUM_CLASSES; c++) {
        acc_i[c] = 0.0f;
        acc_p[c] = 0.0f;
        acc_t[c] = 0.0f;
        acc_term[c] = 0.0f;
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
        float log_py = (xy - m) - log1p_fast(others);
        float py = ey * inv;
        float qy = (y == am) ? others * inv : 1.0f - py;
#else
        float py = xy;
        float inv = 1.0f;
        float log_py = log(clamp_prob(py));
        float qy = clamp_prob(1.0f - py);
#endif
#if PIXEL_TERM == 3
        float term = -log_py;
#elif PIXEL_TERM == 2
        float term = -pow_gamma(qy, gamma) * log_py;
#else
        float term = 0.0f;
#endif
        for (int c = 0; c < NUM_CLASSES; c++) {
            int hit = c == y;
#if REGION
            float pc = v[c] * inv;
            acc_p[c] += pc;
            acc_i[c] += hit ? pc : 0.0f;
#endif
            acc_t[c] += hit ? 1.0f : 0.0f;
            acc_term[c] += hit ? term : 0.0f;
        }
    MC_PIXELS_END
    for (int c = 0; c < NUM_CLASSES; c++) {
        lf[lid] = (float4) (acc_i[c], acc_p[c], acc_t[c], acc_term[c]);
        lu[lid] = (uint2) (acc_bad[c], c == 0 ? bad_t : 0u);
        reduce_f4u2(lf, lu, lid, WG_SIZE, 1);
        if (lid == 0) {
            ulong slot = ((ulong) n * groups + g) * NUM_CLASSES + c;
            part_f[slot] = lf[0];
            part_u[slot] = lu[0];
        }
    }
}

#endif
