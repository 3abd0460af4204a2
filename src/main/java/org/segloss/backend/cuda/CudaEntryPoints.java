package org.segloss.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.segloss.ElementType;
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

    /** Names of every specialised entry point (stats, grad and confusion variants), in header order. */
    static List<String> names() {
        List<String> out = new ArrayList<>();
        for (Object[] list : lists()) {
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
                .append("   of kernels-cu/segloss.cu; unused by the OpenCL kernels, which are specialised by -D defines */\n");
        for (Object[] list : lists()) {
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
