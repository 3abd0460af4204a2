/* Hard counts for scoring (see common.cl for the geometry and the defines). Integer, exact. */

#if !MULTICLASS

/*
 * Binary / multilabel, per row (n, c): predicted positive = x >= cut (cut = threshold, or logit(threshold)
 * from logits, rounded up to the next float on the host so that the float comparison equals the double one),
 * actual positive = t >= 0.5.  (TP, FP, FN, TN) += ([pred & act], [pred & !act], [!pred & act], [!pred & !act]);
 * refused values are counted in (BAD_PRED, BAD_TARGET) and nowhere else.
 * Output per (row, work-group) at ((segment * groups + group) * cycle + lane).
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void confusion(__global const float *pred, __global const target_t *target, __global uint4 *part_c,
               __global uint2 *part_u, BINARY_GEOMETRY_ARGS, float cut) {
    __local uint4 lc[WG_SIZE];
    __local uint2 lu[WG_SIZE];
    uint lid = get_local_id(0);
    uint g = get_group_id(0);
    uint groups = get_num_groups(0);
    uint seg = get_group_id(1);
    ulong base = segment_base(seg, sample_stride, chan_stride, segs_per_sample);
    uint4 counts = (uint4) (0u, 0u, 0u, 0u);
    uint bad_p = 0, bad_t = 0;
    if (lid < active) {
        BINARY_ELEMENTS_BEGIN
                if (bad_pred(x)) {
                    bad_p++;
                } else if (ign) {
                    /* the ignore value counts nowhere */
                } else if (!ok) {
                    bad_t++;
                } else {
                    int predicted = x >= cut;
                    int actual = t >= 0.5f;
                    counts += (uint4) (predicted && actual, predicted && !actual, !predicted && actual,
                                       !predicted && !actual);
                }
        BINARY_ELEMENTS_END
    }
    lc[lid] = counts;
    lu[lid] = (uint2) (bad_p, bad_t);
    reduce_u4u2(lc, lu, lid, active, cycle);
    if (lid < cycle) {
        ulong slot = ((ulong) seg * groups + g) * cycle + lid;
        part_c[slot] = lc[lid];
        part_u[slot] = lu[lid];
    }
}

#else

/*
 * Multiclass: predicted class = argmax_c x_c over the valid values (ties: the lowest index), y = target;
 * per class c: (TP, FP, FN, TN) += ([c = b & c = y], [c = b & c != y], [c != b & c = y], [c != b & c != y]).
 * BAD_PRED counts refused pred values (also on ignored pixels), BAD_TARGET class indices outside [0, C)
 * that are not the ignore index (row 0); such pixels and ignored ones count nowhere else.
 * Output per (n, group, c) at ((n * groups + group) * C + c).
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void confusion(__global const float *pred, __global const target_t *target, __global uint4 *part_c,
               __global uint2 *part_u, ulong S, float cut, int ignore_index) {
    __local uint4 lc[WG_SIZE];
    __local uint2 lu[WG_SIZE];
    uint lid = get_local_id(0);
    uint g = get_group_id(0);
    uint groups = get_num_groups(0);
    uint n = get_group_id(1);
    uint4 counts[NUM_CLASSES];
    uint acc_bad[NUM_CLASSES];
    uint bad_t = 0;
    for (int c = 0; c < NUM_CLASSES; c++) {
        counts[c] = (uint4) (0u, 0u, 0u, 0u);
        acc_bad[c] = 0;
    }
    MC_PIXELS_BEGIN
        float v[NUM_CLASSES];
        load_pixel(pred, n, s, S, y, v);
        int bad = count_refused(v, acc_bad);
        if (!pixel_counts(y, bad, ignore_index, &bad_t)) {
            continue;
        }
        float best_value;
        int best = argmax_class(v, &best_value);
        for (int c = 0; c < NUM_CLASSES; c++) {
            int predicted = c == best;
            int actual = c == y;
            counts[c] += (uint4) (predicted && actual, predicted && !actual, !predicted && actual,
                                  !predicted && !actual);
        }
    MC_PIXELS_END
    for (int c = 0; c < NUM_CLASSES; c++) {
        lc[lid] = counts[c];
        lu[lid] = (uint2) (acc_bad[c], c == 0 ? bad_t : 0u);
        reduce_u4u2(lc, lu, lid, WG_SIZE, 1);
        if (lid == 0) {
            ulong slot = ((ulong) n * groups + g) * NUM_CLASSES + c;
            part_c[slot] = lc[0];
            part_u[slot] = lu[0];
        }
    }
}

#endif
