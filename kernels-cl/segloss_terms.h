/*
 * segloss_terms.h: the value and the derivative of every pixel term, and the sigmoid and softmax chains,
 * defined ONCE for every device. Written in the common subset of OpenCL C 1.2 and CUDA C++ (float, no
 * templates, no overloading, no references): the OpenCL host prepends it to every program (after
 * segloss_gen.h), kernels-cu/segloss.cu includes it. The Java reference of each function is the method of
 * the same name in backend/cpu/CpuMath.java (camelCase, double); the Vector API kernels call the lane
 * versions of the same names in backend/cpu/VectorTerms.java.
 *
 * Notation: x = logit, p = probability, q = 1 - p (from logits both from one exp, see sl_sigmoid_pair),
 * pc = clamp(p), qc = clamp(1 - p) (the probability clamp of the contract, SEGLOSS_PROB_CLAMP_EPS),
 * l = log1p(exp(-|x|)) (so softplus(+-x) = max(+-x, 0) + l), t = target, g = focal gamma,
 * aw, nw = focal weights of the positive and negative part (alpha, 1 - alpha, or 1, 1).
 *
 * Specialisation: OpenCL programs are compiled with -D GAMMA_KIND (0: g = 0, 1: g = 1, 2: g = 2, 3: any),
 * so the small powers are exact products with no test per element. CUDA ships one PTX and leaves GAMMA_KIND
 * undefined: the powers then test g, which is uniform over a launch.
 */
#ifndef SEGLOSS_TERMS_H
#define SEGLOSS_TERMS_H

#ifdef __OPENCL_VERSION__
#define SL_FN inline
#define SL_EXP exp
#define SL_LOG log
#define SL_POW pow
#define SL_FMAX fmax
#define SL_FMIN fmin
#define SL_FABS fabs
#else
#define SL_FN static __device__ __forceinline__
#define SL_EXP expf
#define SL_LOG logf
#define SL_POW powf
#define SL_FMAX fmaxf
#define SL_FMIN fminf
#define SL_FABS fabsf
#endif

/* clamp(p) = min(max(p, eps), 1 - eps), the probability clamp of the contract. */
SL_FN float sl_clamp(float p) {
    return SL_FMIN(SL_FMAX(p, SEGLOSS_PROB_CLAMP_EPS), 1.0f - SEGLOSS_PROB_CLAMP_EPS);
}

/*
 * log1p(u) for u >= 0 without the slow library log1p (about 10x exp on PoCL):
 * log1p(u) = log(w) * u / (w - 1) with w = 1 + u rounded (exact to a few ulp; u when w rounds to 1).
 */
SL_FN float sl_log1p(float u) {
    float w = 1.0f + u;
    float d = w - 1.0f;
    return d == 0.0f ? u : SL_LOG(w) * (u / d);
}

/*
 * Sigmoid pair from one exp: with e = exp(-|x|), p = sigmoid(x) and q = sigmoid(-x) = 1 - p are
 * 1 / (1 + e) and e / (1 + e) (which is which by the sign of x); neither loses precision.
 * Returns e, for l = sl_log1p(e).
 */
SL_FN float sl_sigmoid_pair(float x, float *p, float *q) {
    float e = SL_EXP(-SL_FABS(x));
    float r = 1.0f / (1.0f + e);
    float er = e * r;
    *p = x >= 0.0f ? r : er;
    *q = x >= 0.0f ? er : r;
    return e;
}

/* x^g with the cheap cases exact (g = 0: 1, g = 1: x, g = 2: x * x). */
SL_FN float sl_pow(float x, float g) {
#if defined(GAMMA_KIND) && GAMMA_KIND == 0
    return 1.0f;
#elif defined(GAMMA_KIND) && GAMMA_KIND == 1
    return x;
#elif defined(GAMMA_KIND) && GAMMA_KIND == 2
    return x * x;
#elif defined(GAMMA_KIND)
    return SL_POW(x, g);
#else
    return g == 2.0f ? x * x : g == 1.0f ? x : g == 0.0f ? 1.0f : SL_POW(x, g);
#endif
}

/* g x^(g - 1) log v, the first part of the focal derivatives; 0 when g = 0 (its limit). */
SL_FN float sl_focal_first(float x, float logv, float g) {
#if defined(GAMMA_KIND) && GAMMA_KIND == 0
    return 0.0f;
#elif defined(GAMMA_KIND) && GAMMA_KIND == 1
    return g * logv;
#elif defined(GAMMA_KIND) && GAMMA_KIND == 2
    return g * x * logv;
#elif defined(GAMMA_KIND)
    return g * SL_POW(x, g - 1.0f) * logv;
#else
    return g == 0.0f ? 0.0f : g * SL_POW(x, g - 1.0f) * logv;
#endif
}

/* ---- binary / multilabel terms ---------------------------------------------------------------------- */

/* bce from logits: max(x, 0) - x t + l. */
SL_FN float sl_bce_logits(float x, float t, float l) {
    return SL_FMAX(x, 0.0f) - x * t + l;
}

/* d bce / dx = p - t, computed as (1 - t) p - t q (no cancellation near p = 1). */
SL_FN float sl_bce_logits_dx(float p, float q, float t) {
    return (1.0f - t) * p - t * q;
}

/* bce from probabilities: -(t log pc + (1 - t) log qc). */
SL_FN float sl_bce_prob(float pc, float qc, float t) {
    return -(t * SL_LOG(pc) + (1.0f - t) * SL_LOG(qc));
}

/* d bce / dp = -t / pc + (1 - t) / qc. */
SL_FN float sl_bce_prob_dp(float pc, float qc, float t) {
    return -t / pc + (1.0f - t) / qc;
}

/* bce with pos_weight w from logits: w t softplus(-x) + (1 - t) softplus(x). */
SL_FN float sl_bce_pw_logits(float x, float t, float l, float w) {
    return w * t * (SL_FMAX(-x, 0.0f) + l) + (1.0f - t) * (SL_FMAX(x, 0.0f) + l);
}

/* d bce_pw / dx = (1 - t) p - w t q. */
SL_FN float sl_bce_pw_logits_dx(float p, float q, float t, float w) {
    return (1.0f - t) * p - w * t * q;
}

/* bce with pos_weight w from probabilities: -(w t log pc + (1 - t) log qc). */
SL_FN float sl_bce_pw_prob(float pc, float qc, float t, float w) {
    return -(w * t * SL_LOG(pc) + (1.0f - t) * SL_LOG(qc));
}

/* d bce_pw / dp = -w t / pc + (1 - t) / qc. */
SL_FN float sl_bce_pw_prob_dp(float pc, float qc, float t, float w) {
    return -w * t / pc + (1.0f - t) / qc;
}

/* Label smoothing of a binary target for the pixel term: t (1 - e) + e / 2 = t keep + add. */
SL_FN float sl_smooth_target(float t, float keep, float add) {
    return t * keep + add;
}

/* focal from logits: aw t q^g softplus(-x) + nw (1 - t) p^g softplus(x). */
SL_FN float sl_focal_logits(float x, float t, float p, float q, float l, float aw, float nw, float g) {
    return aw * t * sl_pow(q, g) * (SL_FMAX(-x, 0.0f) + l) + nw * (1.0f - t) * sl_pow(p, g) * (SL_FMAX(x, 0.0f) + l);
}

/* d focal / dx = -aw t (g p q^g softplus(-x) + q^(g+1)) + nw (1 - t) (g p^g q softplus(x) + p^(g+1)). */
SL_FN float sl_focal_logits_dx(float x, float t, float p, float q, float l, float aw, float nw, float g) {
    float qg = sl_pow(q, g);
    float pg = sl_pow(p, g);
    return -aw * t * (g * p * qg * (SL_FMAX(-x, 0.0f) + l) + qg * q)
           + nw * (1.0f - t) * (g * pg * q * (SL_FMAX(x, 0.0f) + l) + pg * p);
}

/* focal from probabilities: -aw t qc^g log pc - nw (1 - t) pc^g log qc. */
SL_FN float sl_focal_prob(float pc, float qc, float t, float aw, float nw, float g) {
    return -(aw * t * sl_pow(qc, g) * SL_LOG(pc) + nw * (1.0f - t) * sl_pow(pc, g) * SL_LOG(qc));
}

/* d focal / dp = -aw t (-g qc^(g-1) log pc + qc^g / pc) - nw (1 - t) (g pc^(g-1) log qc - pc^g / qc). */
SL_FN float sl_focal_prob_dp(float pc, float qc, float t, float aw, float nw, float g) {
    float pos = sl_pow(qc, g) / pc - sl_focal_first(qc, SL_LOG(pc), g);
    float neg = sl_focal_first(pc, SL_LOG(qc), g) - sl_pow(pc, g) / qc;
    return -aw * t * pos - nw * (1.0f - t) * neg;
}

/*
 * The binary pixel term of kind `term` (TERM_BCE, with pos_weight pw when has_pw; TERM_FOCAL) at the pixel
 * term's target tt, and its derivative (d/dx from logits, d/dp from probabilities). The only place that maps a
 * term code to its functions: OpenCL calls them with the compile-time defines (PIXEL_TERM, FROM_LOGITS,
 * POS_WEIGHT), so the branches fold away; CUDA with the launch's uniform flags. A new binary term is a new
 * case here (and in CpuMath.binaryTerm / binaryTermD), nothing else on the devices.
 */
SL_FN float sl_binary_term(int term, int from_logits, int has_pw, float x, float tt, float p, float q, float l,
                           float pc, float qc, float pw, float aw, float nw, float g) {
    if (term == TERM_BCE && has_pw) {
        return from_logits ? sl_bce_pw_logits(x, tt, l, pw) : sl_bce_pw_prob(pc, qc, tt, pw);
    }
    if (term == TERM_BCE) {
        return from_logits ? sl_bce_logits(x, tt, l) : sl_bce_prob(pc, qc, tt);
    }
    if (term == TERM_FOCAL) {
        return from_logits ? sl_focal_logits(x, tt, p, q, l, aw, nw, g) : sl_focal_prob(pc, qc, tt, aw, nw, g);
    }
    return 0.0f;
}

SL_FN float sl_binary_term_d(int term, int from_logits, int has_pw, float x, float tt, float p, float q, float l,
                             float pc, float qc, float pw, float aw, float nw, float g) {
    if (term == TERM_BCE && has_pw) {
        return from_logits ? sl_bce_pw_logits_dx(p, q, tt, pw) : sl_bce_pw_prob_dp(pc, qc, tt, pw);
    }
    if (term == TERM_BCE) {
        return from_logits ? sl_bce_logits_dx(p, q, tt) : sl_bce_prob_dp(pc, qc, tt);
    }
    if (term == TERM_FOCAL) {
        return from_logits ? sl_focal_logits_dx(x, tt, p, q, l, aw, nw, g) : sl_focal_prob_dp(pc, qc, tt, aw, nw, g);
    }
    return 0.0f;
}

/* The sigmoid chain: dL/dx = dL/dp p q. */
SL_FN float sl_sigmoid_chain(float dldp, float p, float q) {
    return dldp * p * q;
}

/* ---- multiclass terms (p_y the probability of the target class, q_y = 1 - p_y) ------------------------ */

/* Multiclass focal: -q_y^g log p_y; g = 0 is ce, -log p_y. */
SL_FN float sl_focal_mc(float qy, float log_py, float g) {
    return -sl_pow(qy, g) * log_py;
}

/*
 * Multiclass focal slope F = g q^(g-1) p log p - q^g, so that d term / dx_c = F (t_c - p_c) from logits
 * (the first part is 0 when g = 0 or q = 0, its limit). ce (g = 0): F = -1, d term / dx_c = p_c - t_c.
 */
SL_FN float sl_focal_mc_slope(float py, float qy, float log_py, float g) {
    float first = qy <= 0.0f ? 0.0f : sl_focal_first(qy, py * log_py, g);
    return first - sl_pow(qy, g);
}

/* Multiclass from probabilities: d term / dp_y = g qc^(g-1) log pc - qc^g / pc (ce: -1 / pc). */
SL_FN float sl_focal_mc_prob_dp(float pc, float qc, float g) {
    return sl_focal_first(qc, SL_LOG(pc), g) - sl_pow(qc, g) / pc;
}

/*
 * The softmax chain: dL/dx_c = p_c (g_c - sum_k p_k g_k). Callers pass dev = sum_k p_k (g_a - g_k) with
 * a = argmax and the difference g_c - g_a, which equals it without cancellation when p_a is near 1.
 */
SL_FN float sl_softmax_chain(float pc, float gc_minus_ga, float dev) {
    return pc * (gc_minus_ga + dev);
}

/*
 * The multiclass pixel term of kind `term` of one class (TERM_CE: -log p; TERM_FOCAL: -q^g log p), its slope
 * F with d term / dx_k = F (t_k - p_k) for the class's own softmax (CE: -1), and d term / dp from probabilities.
 * The only place that maps a multiclass term code to its functions on the devices (CpuMath.mcTerm, mcSlope,
 * mcProbGrad in Java).
 */
SL_FN float sl_mc_term(int term, float q, float log_p, float g) {
    return term == TERM_CE ? -log_p : term == TERM_FOCAL ? sl_focal_mc(q, log_p, g) : 0.0f;
}

SL_FN float sl_mc_slope(int term, float p, float q, float log_p, float g) {
    return term == TERM_CE ? -1.0f : term == TERM_FOCAL ? sl_focal_mc_slope(p, q, log_p, g) : 0.0f;
}

SL_FN float sl_mc_prob_dp(int term, float pc, float qc, float g) {
    return term == TERM_CE ? sl_focal_mc_prob_dp(pc, qc, 0.0f) : term == TERM_FOCAL ? sl_focal_mc_prob_dp(pc, qc, g) : 0.0f;
}

#endif
