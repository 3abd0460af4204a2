package org.segloss.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.segloss.ElementType;
import org.segloss.backend.LovaszProblem;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;

/**
 * The specialised entry points of {@code kernels-cu/segloss.cu}: every pass body there is a template over the
 * problem's flags, and each variant is one {@code extern "C"} kernel with a name made here. The list of variants
 * goes into the generated {@code kernels-cl/segloss_gen.h} (the {@code SEGLOSS_*_ENTRIES} X-macros, through
 * {@link org.segloss.backend.KernelHeader}), which segloss.cu expands into the kernels; {@link CudaBackend}
 * launches the entry that {@link #stats}, {@link #grad} or {@link #confusion} names for a problem. So the names
 * exist in one place, and KernelSignatureTest checks every one of them against the PTX.
 *
 * <p>Variants (template parameters): from logits or probabilities; the pixel term (binary: none, bce, bce with
 * pos_weight, focal; multiclass: none, ce, focal); the binary target's element type; the multiclass target mode
 * (hard class map, hard with label smoothing of the pixel term, soft targets); grad's multiclass region term;
 * confusion's shared-memory counters. What segloss.cu keeps as parameters, and why, is in its header comment.
 *
 * <p>The Lovasz module {@code kernels-cu/lovasz.cu} is specialised the same way ({@code SEGLOSS_LOVASZ_*_ENTRIES},
 * {@link #lovaszKeys}, {@link #lovaszCount}, {@link #lovaszApply}): binary or multiclass, the target's element type,
 * from logits (keys only) and whether apply writes the gradient. Its sort and chain kernels take no flags and keep
 * plain names.
 */
public final class CudaEntryPoints {
    private CudaEntryPoints() {
    }

    private static final String[] INPUTS = {"probs", "logits"};
    /** Binary pixel terms: name and the template argument of segloss.cu. */
    private static final String[][] BINARY_TERMS = {
        {"none", "TERM_NONE"}, {"bce", "TERM_BCE"}, {"bce_pw", "BINARY_BCE_PW"}, {"focal", "TERM_FOCAL"}};
    private static final String[][] MULTICLASS_TERMS = {{"none", "TERM_NONE"}, {"ce", "TERM_CE"}, {"focal", "TERM_FOCAL"}};
    private static final String[][] MODES = {{"hard", "MC_HARD"}, {"smooth", "MC_SMOOTH"}, {"soft", "MC_SOFT"}};

    private static String input(boolean fromLogits) {
        return INPUTS[fromLogits ? 1 : 0];
    }

    private static String target(ElementType t) {
        return t.name().toLowerCase(Locale.ROOT);
    }

    private static String binaryTerm(Problem p) {
        switch (p.pixelTerm) {
            case NONE:
                return "none";
            case BCE:
                return p.posWeight != null ? "bce_pw" : "bce";
            case FOCAL:
                return "focal";
            default:
                throw new IllegalStateException("no binary pixel term " + p.pixelTerm);
        }
    }

    private static String multiclassTerm(Problem p) {
        switch (p.pixelTerm) {
            case NONE:
                return "none";
            case CE:
                return "ce";
            case FOCAL:
                return "focal";
            default:
                throw new IllegalStateException("no multiclass pixel term " + p.pixelTerm);
        }
    }

    /** hard, smooth (label smoothing of a class map's pixel term) or soft. */
    private static String mode(Problem p) {
        if (p.softTargets) {
            return "soft";
        }
        return p.labelSmoothing != 0 && p.pixelTerm != PixelTerm.NONE ? "smooth" : "hard";
    }

    /** The stats entry of {@code p}. */
    static String stats(Problem p) {
        return p.multiclass
                ? "stats_multiclass_" + input(p.fromLogits) + "_" + multiclassTerm(p) + "_" + mode(p)
                : "stats_binary_" + input(p.fromLogits) + "_" + binaryTerm(p) + "_" + target(p.targetType);
    }

    /** The grad entry of {@code p}. A multiclass loss without a pixel term always has a region term. */
    static String grad(Problem p) {
        return p.multiclass
                ? "grad_multiclass_" + input(p.fromLogits) + "_" + multiclassTerm(p) + "_" + mode(p)
                        + (p.region || p.pixelTerm == PixelTerm.NONE ? "_region" : "")
                : "grad_binary_" + input(p.fromLogits) + "_" + binaryTerm(p) + "_" + target(p.targetType);
    }

    /** The confusion entry of {@code p}; {@code countsInShared}: multiclass per-class counters in shared memory. */
    static String confusion(Problem p, boolean countsInShared) {
        return p.multiclass
                ? "confusion_multiclass_" + input(p.fromLogits) + (countsInShared ? "_shared" : "_global")
                : "confusion_binary_" + input(p.fromLogits) + "_" + target(p.targetType);
    }

    private static final String[] APPLY_OUTPUTS = {"value", "grad"};

    private static String lovaszMode(Problem p) {
        return p.multiclass ? "multiclass" : "binary";
    }

    /** The lovasz.cu entry that computes the items and counts of {@code q}. */
    static String lovaszKeys(LovaszProblem q) {
        Problem p = q.problem;
        return "lovasz_keys_" + lovaszMode(p) + "_" + input(p.fromLogits) + "_" + target(p.targetType);
    }

    /** The lovasz.cu entry that counts the positives per block of ranks of {@code q}. */
    static String lovaszCount(LovaszProblem q) {
        Problem p = q.problem;
        return "lovasz_count_" + lovaszMode(p) + "_" + target(p.targetType);
    }

    /** The lovasz.cu entry that computes the terms of {@code q} and, with {@code writeGrad}, scatters the gradient. */
    static String lovaszApply(LovaszProblem q, boolean writeGrad) {
        Problem p = q.problem;
        return "lovasz_apply_" + lovaszMode(p) + "_" + target(p.targetType) + "_" + APPLY_OUTPUTS[writeGrad ? 1 : 0];
    }

    /** One X-macro row: the entry's name, then its template arguments. */
    private record Entry(String name, String arguments) {
    }

    private static List<Entry> binary(String pass) {
        List<Entry> out = new ArrayList<>();
        for (int logits = 0; logits < 2; logits++) {
            for (String[] term : BINARY_TERMS) {
                for (ElementType t : ElementType.values()) {
                    out.add(new Entry(pass + "_binary_" + INPUTS[logits] + "_" + term[0] + "_" + target(t),
                            logits + ", " + term[1] + ", TARGET_" + t.name()));
                }
            }
        }
        return out;
    }

    private static List<Entry> multiclass(String pass) {
        List<Entry> out = new ArrayList<>();
        for (int logits = 0; logits < 2; logits++) {
            for (String[] term : MULTICLASS_TERMS) {
                for (String[] mode : MODES) {
                    if (term[0].equals("none") && mode[0].equals("smooth")) {
                        continue; // label smoothing applies to a pixel term (mode() maps it to hard)
                    }
                    for (int region = 0; region < 2; region++) {
                        boolean grad = pass.equals("grad");
                        if (!grad && region == 1 || grad && term[0].equals("none") && region == 0) {
                            continue; // stats has no region variants; a loss without pixel term has a region term
                        }
                        out.add(new Entry(pass + "_multiclass_" + INPUTS[logits] + "_" + term[0] + "_" + mode[0]
                                + (region == 1 ? "_region" : ""),
                                logits + ", " + term[1] + ", " + mode[1] + (grad ? ", " + region : "")));
                    }
                }
            }
        }
        return out;
    }

    private static List<Entry> confusionBinary() {
        List<Entry> out = new ArrayList<>();
        for (int logits = 0; logits < 2; logits++) {
            for (ElementType t : ElementType.values()) {
                out.add(new Entry("confusion_binary_" + INPUTS[logits] + "_" + target(t), logits + ", TARGET_" + t.name()));
            }
        }
        return out;
    }

    private static List<Entry> confusionMulticlass() {
        List<Entry> out = new ArrayList<>();
        for (int logits = 0; logits < 2; logits++) {
            for (int shared = 1; shared >= 0; shared--) {
                out.add(new Entry("confusion_multiclass_" + INPUTS[logits] + (shared == 1 ? "_shared" : "_global"),
                        logits + ", " + shared));
            }
        }
        return out;
    }

    /**
     * Rows of one lovasz.cu pass: for multiclass 0 and 1, every target type, then (when {@code inner} is given)
     * each of its two names, whose index is the last template argument.
     */
    private static List<Entry> lovasz(String pass, String[] inner, boolean innerFirst) {
        List<Entry> out = new ArrayList<>();
        for (int multiclass = 0; multiclass < 2; multiclass++) {
            String mode = multiclass == 1 ? "multiclass" : "binary";
            for (ElementType t : ElementType.values()) {
                String args = multiclass + ", TARGET_" + t.name();
                if (inner == null) {
                    out.add(new Entry(pass + "_" + mode + "_" + target(t), args));
                    continue;
                }
                for (int i = 0; i < inner.length; i++) {
                    out.add(innerFirst
                            ? new Entry(pass + "_" + mode + "_" + inner[i] + "_" + target(t), multiclass + ", " + i + ", TARGET_" + t.name())
                            : new Entry(pass + "_" + mode + "_" + target(t) + "_" + inner[i], args + ", " + i));
                }
            }
        }
        return out;
    }

    /** The X-macro lists of lovasz.cu, in the order of its expansions. */
    private static List<Object[]> lovaszLists() {
        return List.of(
                new Object[] {"LOVASZ_KEYS", "lovasz_keys<MULTICLASS, LOGITS, TARGET>", lovasz("lovasz_keys", INPUTS, true)},
                new Object[] {"LOVASZ_COUNT", "lovasz_count<MULTICLASS, TARGET>", lovasz("lovasz_count", null, false)},
                new Object[] {"LOVASZ_APPLY", "lovasz_apply<MULTICLASS, TARGET, WRITE_GRAD>",
                    lovasz("lovasz_apply", APPLY_OUTPUTS, false)});
    }

    /** The X-macro lists, in the order of segloss.cu's expansions. */
    private static List<Object[]> lists() {
        return List.of(
                new Object[] {"STATS_BINARY", "stats_binary<LOGITS, TERM, TARGET>", binary("stats")},
                new Object[] {"STATS_MULTICLASS", "stats_multiclass<LOGITS, TERM, MODE>", multiclass("stats")},
                new Object[] {"GRAD_BINARY", "grad_binary<LOGITS, TERM, TARGET>", binary("grad")},
                new Object[] {"GRAD_MULTICLASS", "grad_multiclass<LOGITS, TERM, MODE, REGION>", multiclass("grad")},
                new Object[] {"CONFUSION_BINARY", "confusion_binary<LOGITS, TARGET>", confusionBinary()},
                new Object[] {"CONFUSION_MULTICLASS", "confusion_multiclass<LOGITS, SHARED>", confusionMulticlass()});
    }

    /** Names of every specialised entry point of segloss.cu (stats, grad and confusion variants), in header order. */
    static List<String> names() {
        return names(lists());
    }

    /** Names of every specialised entry point of lovasz.cu (keys, count and apply variants), in header order. */
    static List<String> lovaszNames() {
        return names(lovaszLists());
    }

    private static List<String> names(List<Object[]> lists) {
        List<String> out = new ArrayList<>();
        for (Object[] list : lists) {
            @SuppressWarnings("unchecked")
            List<Entry> entries = (List<Entry>) list[2];
            for (Entry e : entries) {
                out.add(e.name());
            }
        }
        return out;
    }

    /** The {@code SEGLOSS_*_ENTRIES(X)} X-macros of segloss_gen.h: {@code X(name, template arguments)} per entry. */
    public static String macros() {
        StringBuilder b = new StringBuilder();
        b.append("/* CUDA entry points (backend.cuda.CudaEntryPoints): X(name, template arguments) per specialised kernel\n")
                .append("   of kernels-cu/segloss.cu and kernels-cu/lovasz.cu; unused by the OpenCL kernels, which are specialised\n")
                .append("   by -D defines */\n");
        List<Object[]> all = new ArrayList<>(lists());
        all.addAll(lovaszLists());
        for (Object[] list : all) {
            @SuppressWarnings("unchecked")
            List<Entry> entries = (List<Entry>) list[2];
            b.append("/* ").append(list[1]).append(" */\n");
            b.append("#define SEGLOSS_").append(list[0]).append("_ENTRIES(X)");
            for (Entry e : entries) {
                b.append(" \\\n    X(").append(e.name()).append(", ").append(e.arguments()).append(")");
            }
            b.append("\n");
        }
        return b.toString();
    }
}
