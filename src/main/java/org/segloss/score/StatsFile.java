package org.segloss.score;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.segloss.ConfusionCounts;

/**
 * The integer counts of a run ({@code --save-stats}), which {@code merge} adds exactly:
 * {@code segloss_stats} (format version), {@code classes}, {@code classes_inferred},
 * {@code ignore_index}, {@code threshold}, {@code from_logits}, {@code images}, per-class arrays
 * {@code tp fp fn tn}, {@code dice_histogram}, {@code worst_k}, {@code worst} and (with per-image
 * rows) {@code per_image} as image objects ({@code file pred target tp fp fn tn}, with surface
 * distances {@code hd95 assd nsd surface_missed}), {@code skipped}; since version 2 also the exact
 * sums behind the image-wise means ({@code imagewise}: decimal strings and counts, over every class
 * and without class 0) and, with surface distances, {@code nsd_tolerance}, {@code spacing} and
 * {@code surface}: per class exact sums and counts of HD95, ASSD, NSD and the missed images.
 */
final class StatsFile {
    static final int VERSION = 2;

    private StatsFile() {
    }

    static void save(Tally t, Path file) throws IOException {
        ObjectNode root = Reports.JSON.createObjectNode();
        root.put("segloss_stats", VERSION);
        root.put("classes", t.classes());
        root.put("classes_inferred", t.settings.classesInferred);
        if (t.settings.ignoreIndex == null) {
            root.putNull("ignore_index");
        } else {
            root.put("ignore_index", t.settings.ignoreIndex);
        }
        root.put("threshold", t.settings.threshold);
        root.put("from_logits", t.settings.fromLogits);
        root.put("images", t.images());
        Reports.counts(root, t.total(), true);
        saveSums(root, t);
        ArrayNode h = root.putArray("dice_histogram");
        for (long v : t.histogram()) {
            h.add(v);
        }
        root.put("worst_k", t.worstK());
        images(root.putArray("worst"), t.worst());
        if (t.perImage() != null) {
            images(root.putArray("per_image"), t.perImage());
        }
        ArrayNode sk = root.putArray("skipped");
        for (Tally.Skipped s : t.skipped()) {
            sk.addObject().put("file", s.file).put("reason", s.reason);
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, Reports.JSON.writeValueAsString(root) + "\n");
    }

    private static void images(ArrayNode a, List<ImageCounts> images) {
        for (ImageCounts i : images) {
            ObjectNode o = a.addObject();
            o.put("file", i.file);
            o.put("pred", i.predPath);
            o.put("target", i.targetPath);
            Reports.counts(o, i.counts, true);
            if (i.surface != null) {
                Reports.metrics(o.putArray("hd95"), i.surface.hd95);
                Reports.metrics(o.putArray("assd"), i.surface.assd);
                Reports.metrics(o.putArray("nsd"), i.surface.nsd);
                ArrayNode m = o.putArray("surface_missed");
                for (boolean b : i.surface.missed) {
                    m.add(b);
                }
            }
        }
    }

    private static final String[] SURFACE = {"hd95", "assd", "nsd"};

    private static void saveSums(ObjectNode root, Tally t) {
        MeanSums m = t.sums();
        ObjectNode iw = root.putObject("imagewise");
        String[] which = {"all", "without_background"};
        for (int j = 0; j < 2; j++) {
            ObjectNode o = iw.putObject(which[j]);
            o.put("dice_sum", m.imageDice[j].toString()).put("dice_n", m.imageDiceN[j]);
            o.put("iou_sum", m.imageIou[j].toString()).put("iou_n", m.imageIouN[j]);
        }
        if (t.surfaceTolerance == null) {
            root.putNull("nsd_tolerance");
            return;
        }
        root.put("nsd_tolerance", t.surfaceTolerance);
        root.put("surface_from_class", t.surfaceFromClass);
        if (t.spacing == null) {
            root.putNull("spacing");
        } else {
            root.put("spacing", t.spacing);
        }
        ObjectNode s = root.putObject("surface");
        for (int k = 0; k < 3; k++) {
            ArrayNode sum = s.putArray(SURFACE[k] + "_sum");
            ArrayNode n = s.putArray(SURFACE[k] + "_n");
            for (int c = 0; c < m.classes(); c++) {
                sum.add(m.surfaceSum[k][c].toString());
                n.add(m.surfaceN[k][c]);
            }
        }
        ArrayNode missed = s.putArray("missed");
        for (long v : m.missed) {
            missed.add(v);
        }
    }

    private static MeanSums loadSums(JsonNode root, boolean surface) throws BadFileException {
        MeanSums m = new MeanSums();
        String[] which = {"all", "without_background"};
        for (int j = 0; j < 2; j++) {
            JsonNode o = root.path("imagewise").path(which[j]);
            m.imageDice[j] = decimal(o.get("dice_sum"), "imagewise." + which[j] + ".dice_sum");
            m.imageDiceN[j] = integer(o, "dice_n");
            m.imageIou[j] = decimal(o.get("iou_sum"), "imagewise." + which[j] + ".iou_sum");
            m.imageIouN[j] = integer(o, "iou_n");
        }
        if (!surface) {
            return m;
        }
        JsonNode s = root.path("surface");
        int classes = s.path("missed").size();
        m.widen(classes);
        for (int k = 0; k < 3; k++) {
            m.surfaceN[k] = longs(s, SURFACE[k] + "_n", classes, "surface.");
            JsonNode sum = s.path(SURFACE[k] + "_sum");
            if (sum.size() != classes) {
                throw new BadFileException("field surface." + SURFACE[k] + "_sum must have " + classes + " entries, has " + sum.size());
            }
            for (int c = 0; c < classes; c++) {
                m.surfaceSum[k][c] = decimal(sum.get(c), "surface." + SURFACE[k] + "_sum[" + c + "]");
            }
        }
        m.missed = longs(s, "missed", classes, "surface.");
        return m;
    }

    private static ExactSum decimal(JsonNode v, String key) throws BadFileException {
        try {
            if (v == null || !v.isTextual()) {
                throw new NumberFormatException();
            }
            return ExactSum.parse(v.asText());
        } catch (NumberFormatException e) {
            throw new BadFileException("field " + key + " must be a decimal string, was " + v);
        }
    }

    private static Surface.Values surfaceOf(JsonNode o, int classes, String where) throws BadFileException {
        if (!o.has("hd95")) {
            return null;
        }
        double[][] v = new double[3][classes];
        for (int k = 0; k < 3; k++) {
            JsonNode a = o.path(SURFACE[k]);
            if (a.size() != classes) {
                throw new BadFileException("field " + where + SURFACE[k] + " must have " + classes + " entries, has " + a.size());
            }
            for (int c = 0; c < classes; c++) {
                v[k][c] = a.get(c).isNull() ? Double.NaN : a.get(c).asDouble();
            }
        }
        boolean[] missed = new boolean[classes];
        for (int c = 0; c < classes; c++) {
            missed[c] = o.path("surface_missed").path(c).asBoolean(false);
        }
        return new Surface.Values(v[0], v[1], v[2], missed);
    }

    /** One stats file as read; {@link #perImage} is null when it has none. */
    static final class Loaded {
        final Path file;
        final int classes;
        final boolean classesInferred;
        final Integer ignoreIndex;
        final double threshold;
        final boolean fromLogits;
        final long images;
        final ConfusionCounts counts;
        final long[] histogram;
        final int worstK;
        final List<ImageCounts> worst;
        final List<ImageCounts> perImage;
        final List<Tally.Skipped> skipped;
        MeanSums sums;
        int surfaceFromClass;
        Double nsdTolerance;
        String spacing;

        Loaded(Path file, int classes, boolean classesInferred, Integer ignoreIndex, double threshold, boolean fromLogits,
               long images, ConfusionCounts counts, long[] histogram, int worstK, List<ImageCounts> worst,
               List<ImageCounts> perImage, List<Tally.Skipped> skipped) {
            this.file = file;
            this.classes = classes;
            this.classesInferred = classesInferred;
            this.ignoreIndex = ignoreIndex;
            this.threshold = threshold;
            this.fromLogits = fromLogits;
            this.images = images;
            this.counts = counts;
            this.histogram = histogram;
            this.worstK = worstK;
            this.worst = worst;
            this.perImage = perImage;
            this.skipped = skipped;
        }
    }

    /** Reads a stats file; a malformed one throws {@link BadFileException} with the reason. */
    static Loaded load(Path file) throws IOException, BadFileException {
        JsonNode root;
        try {
            root = Reports.JSON.readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw new BadFileException("not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject() || !root.path("segloss_stats").isInt()) {
            throw new BadFileException("not a segloss stats file (no segloss_stats field; write one with score --save-stats)");
        }
        if (root.get("segloss_stats").asInt() != VERSION) {
            throw new BadFileException("stats format version " + root.get("segloss_stats").asInt() + " is not supported (" + VERSION + ")");
        }
        long classesField = integer(root, "classes");
        if (classesField < 1 || classesField > Counting.MAX_INFERRED_CLASSES) {
            throw new BadFileException("field classes must be in [1, " + Counting.MAX_INFERRED_CLASSES + "], was " + classesField);
        }
        int classes = (int) classesField;
        bool(root, "classes_inferred");
        bool(root, "from_logits");
        JsonNode threshold = root.get("threshold");
        if (threshold == null || !threshold.isNumber() || !(threshold.asDouble() >= 0 && threshold.asDouble() <= 1)) {
            throw new BadFileException("field threshold must be a number in [0, 1], was " + threshold);
        }
        JsonNode ignore = root.get("ignore_index");
        if (ignore == null || !(ignore.isNull() || (ignore.isIntegralNumber() && ignore.canConvertToInt()))) {
            throw new BadFileException("field ignore_index must be null or an int, was " + ignore);
        }
        long worstK = integer(root, "worst_k");
        if (worstK > Integer.MAX_VALUE) {
            throw new BadFileException("field worst_k must be in [0, " + Integer.MAX_VALUE + "], was " + worstK);
        }
        for (String key : new String[] {"worst", "skipped"}) {
            if (root.get(key) == null || !root.get(key).isArray()) {
                throw new BadFileException("field " + key + " must be an array, was " + root.get(key));
            }
        }
        if (root.has("per_image") && !root.get("per_image").isArray()) {
            throw new BadFileException("field per_image must be an array, was " + root.get("per_image"));
        }
        int si = 0;
        for (JsonNode sk : root.get("skipped")) {
            if (!sk.isObject() || !sk.path("file").isTextual() || !sk.path("reason").isTextual()) {
                throw new BadFileException("field skipped[" + si + "] must be an object with text fields file and reason, was " + sk);
            }
            si++;
        }
        ConfusionCounts counts = counts(root, classes, "");
        long[] histogram = longs(root, "dice_histogram", Tally.HISTOGRAM_BINS, "");
        List<ImageCounts> worst = images(root.path("worst"), classes, "worst");
        List<ImageCounts> perImage = root.has("per_image") ? images(root.get("per_image"), classes, "per_image") : null;
        List<Tally.Skipped> skipped = new ArrayList<>();
        for (JsonNode s : root.path("skipped")) {
            skipped.add(new Tally.Skipped(s.path("file").asText(), s.path("reason").asText()));
        }
        JsonNode ig = root.path("ignore_index");
        Loaded l = new Loaded(file, classes, root.path("classes_inferred").asBoolean(false),
                ig.isIntegralNumber() ? Integer.valueOf(ig.asInt()) : null, root.path("threshold").asDouble(0.5),
                root.path("from_logits").asBoolean(false), integer(root, "images"), counts, histogram,
                (int) worstK, worst, perImage, skipped);
        JsonNode tol = root.path("nsd_tolerance");
        l.nsdTolerance = tol.isNumber() ? tol.asDouble() : null;
        l.spacing = root.path("spacing").isTextual() ? root.get("spacing").asText() : null;
        l.surfaceFromClass = root.path("surface_from_class").asInt(0);
        l.sums = loadSums(root, l.nsdTolerance != null);
        return l;
    }

    private static void bool(JsonNode o, String key) throws BadFileException {
        JsonNode v = o.get(key);
        if (v == null || !v.isBoolean()) {
            throw new BadFileException("field " + key + " must be true or false, was " + v);
        }
    }

    private static long integer(JsonNode o, String key) throws BadFileException {
        JsonNode v = o.get(key);
        if (v == null || !v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
            throw new BadFileException("field " + key + " must be an integer >= 0, was " + v);
        }
        return v.asLong();
    }

    private static long[] longs(JsonNode o, String key, int length, String where) throws BadFileException {
        JsonNode a = o.get(key);
        if (a == null || !a.isArray() || a.size() != length) {
            throw new BadFileException("field " + where + key + " must be an array of " + length + " integers, was " + a);
        }
        long[] out = new long[length];
        for (int i = 0; i < length; i++) {
            if (!a.get(i).isIntegralNumber() || !a.get(i).canConvertToLong() || a.get(i).asLong() < 0) {
                throw new BadFileException("field " + where + key + "[" + i + "] must be an integer >= 0, was " + a.get(i));
            }
            out[i] = a.get(i).asLong();
        }
        return out;
    }

    private static ConfusionCounts counts(JsonNode o, int classes, String where) throws BadFileException {
        return new ConfusionCounts(longs(o, "tp", classes, where), longs(o, "fp", classes, where),
                longs(o, "fn", classes, where), longs(o, "tn", classes, where));
    }

    private static List<ImageCounts> images(JsonNode a, int classes, String key) throws BadFileException {
        List<ImageCounts> out = new ArrayList<>();
        int i = 0;
        for (JsonNode o : a) {
            String where = key + "[" + i++ + "].";
            if (!o.isObject() || !o.path("file").isTextual() || !o.path("tp").isArray()) {
                throw new BadFileException("field " + where.substring(0, where.length() - 1)
                        + " must be an image object with a text field file and count arrays tp fp fn tn, was " + o);
            }
            int k = o.path("tp").size();
            if (k > classes) {
                throw new BadFileException("field " + where + "tp has " + k + " classes, the file " + classes);
            }
            out.add(new ImageCounts(o.path("file").asText(), o.path("pred").asText(null), o.path("target").asText(null),
                    counts(o, k, where), surfaceOf(o, k, where)));
        }
        return out;
    }
}
