package org.segloss.score;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import org.segloss.ConfusionCounts;

/** Prints a {@link Tally} as a table, JSON or CSV: the same report for {@code score} and {@code merge}. */
final class Reports {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Reports() {
    }

    static String name(List<String> names, int c) {
        return names != null && c < names.size() ? names.get(c) : null;
    }

    private static void putMetric(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
    }

    /**
     * One object: {@code images}, {@code classes}, {@code per_class} ({@code class}, {@code tp},
     * {@code fp}, {@code fn}, {@code dice}, {@code iou}, {@code precision}, {@code recall}; null where
     * undefined; {@code name} when class names were given), {@code mean_dice}, {@code mean_iou},
     * {@code skipped} ({@code file}, {@code reason}); {@code per_image} and {@code worst} when asked for.
     */
    static ObjectNode json(Tally t, List<String> names, boolean perImage, boolean worst) {
        ObjectNode root = JSON.createObjectNode();
        ConfusionCounts k = t.total();
        root.put("images", t.images());
        root.put("classes", k.classes());
        ArrayNode pc = root.putArray("per_class");
        for (int c = 0; c < k.classes(); c++) {
            ObjectNode o = pc.addObject();
            o.put("class", c);
            if (name(names, c) != null) {
                o.put("name", name(names, c));
            }
            o.put("tp", k.tp(c));
            o.put("fp", k.fp(c));
            o.put("fn", k.fn(c));
            o.put("tn", k.tn(c));
            putMetric(o, "dice", k.dice(c));
            putMetric(o, "iou", k.iou(c));
            putMetric(o, "precision", k.precision(c));
            putMetric(o, "recall", k.recall(c));
            if (t.surfaceTolerance != null) {
                putMetric(o, "hd95", t.sums().surface(0, c));
                putMetric(o, "assd", t.sums().surface(1, c));
                putMetric(o, "nsd", t.sums().surface(2, c));
                o.put("surface_missed", c < t.sums().classes() ? t.sums().missed[c] : 0);
            }
        }
        Means m = new Means(t);
        root.put("exclude_background", t.excludeBackground);
        putMetric(root, "mean_dice", m.dice);
        putMetric(root, "mean_iou", m.iou);
        putMetric(root, "micro_dice", m.microDice);
        putMetric(root, "micro_iou", m.microIou);
        putMetric(root, "imagewise_dice", m.imageDice);
        putMetric(root, "imagewise_iou", m.imageIou);
        if (t.surfaceTolerance != null) {
            putMetric(root, "mean_hd95", m.surface[0]);
            putMetric(root, "mean_assd", m.surface[1]);
            putMetric(root, "mean_nsd", m.surface[2]);
            root.put("nsd_tolerance", t.surfaceTolerance);
        }
        ArrayNode sk = root.putArray("skipped");
        for (Tally.Skipped s : t.skipped()) {
            sk.addObject().put("file", s.file).put("reason", s.reason);
        }
        if (perImage && t.perImage() != null) {
            ArrayNode pi = root.putArray("per_image");
            for (ImageCounts i : t.perImage()) {
                ObjectNode o = pi.addObject();
                o.put("file", i.file);
                putMetric(o, "mean_dice", i.meanDice());
                putMetric(o, "mean_iou", i.meanIou());
                counts(o, ImageCounts.widen(i.counts, k.classes()), false);
                if (i.surface != null) {
                    Surface.Values v = i.surface.widen(Math.max(i.surface.classes(), k.classes()));
                    metrics(o.putArray("hd95"), v.hd95);
                    metrics(o.putArray("assd"), v.assd);
                    metrics(o.putArray("nsd"), v.nsd);
                }
            }
        }
        if (worst) {
            ArrayNode w = root.putArray("worst");
            for (ImageCounts i : t.worst()) {
                ObjectNode o = w.addObject();
                o.put("file", i.file);
                putMetric(o, "mean_dice", i.meanDice());
                putMetric(o, "mean_iou", i.meanIou());
            }
        }
        return root;
    }

    /** Values as an array, null where undefined. */
    static void metrics(ArrayNode a, double[] v) {
        for (double x : v) {
            if (Double.isNaN(x)) {
                a.addNull();
            } else {
                a.add(x);
            }
        }
    }

    /**
     * The dataset means, over the classes from {@link Tally#firstClass()} on: mean Dice and IoU over
     * the defined classes; micro Dice and IoU from TP, FP, FN summed over those classes; image-wise
     * Dice and IoU (the mean over images of each image's mean over its defined classes); with surface
     * distances the mean over the classes where each dataset value is defined.
     */
    static final class Means {
        final double dice;
        final double iou;
        final double microDice;
        final double microIou;
        final double imageDice;
        final double imageIou;
        final double[] surface = new double[3];
        final int defined;

        Means(Tally t) {
            ConfusionCounts k = t.total();
            int from = t.firstClass();
            dice = MeanSums.meanOver(k, from, true);
            iou = MeanSums.meanOver(k, from, false);
            int n = 0;
            long tp = 0;
            long fp = 0;
            long fn = 0;
            for (int c = from; c < k.classes(); c++) {
                n += Double.isNaN(k.dice(c)) ? 0 : 1;
                tp += k.tp(c);
                fp += k.fp(c);
                fn += k.fn(c);
            }
            defined = n;
            microDice = 2 * tp + fp + fn == 0 ? Double.NaN : 2.0 * tp / (2 * tp + fp + fn);
            microIou = tp + fp + fn == 0 ? Double.NaN : (double) tp / (tp + fp + fn);
            MeanSums s = t.sums();
            imageDice = s.imageDice[from].mean(s.imageDiceN[from]);
            imageIou = s.imageIou[from].mean(s.imageIouN[from]);
            for (int m = 0; m < 3; m++) {
                double sum = 0;
                int count = 0;
                for (int c = from; c < s.classes(); c++) {
                    double v = s.surface(m, c);
                    if (!Double.isNaN(v)) {
                        sum += v;
                        count++;
                    }
                }
                surface[m] = count == 0 ? Double.NaN : sum / count;
            }
        }
    }

    /** Per-class count arrays {@code tp}, {@code fp}, {@code fn} (and {@code tn}). */
    static void counts(ObjectNode o, ConfusionCounts k, boolean withTn) {
        for (int j = 0; j < (withTn ? 4 : 3); j++) {
            ArrayNode a = o.putArray(j == 0 ? "tp" : j == 1 ? "fp" : j == 2 ? "fn" : "tn");
            for (long v : ImageCounts.column(k, j)) {
                a.add(v);
            }
        }
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    static String table(Tally t, List<String> names, boolean perImage, boolean worst, String header) {
        StringBuilder sb = new StringBuilder();
        ConfusionCounts k = t.total();
        sb.append(header).append('\n');
        int nameWidth = 4;
        for (int c = 0; c < k.classes(); c++) {
            String n = name(names, c);
            nameWidth = Math.max(nameWidth, n == null ? 0 : n.length());
        }
        boolean surface = t.surfaceTolerance != null;
        String row = "%5s  %-" + nameWidth + "s %14s %14s %14s %14s %8s %8s %9s %8s" + (surface ? " %9s %9s %8s %7s" : "%s%s%s%s") + "%n";
        sb.append(String.format(Locale.ROOT, row, "class", "name", "tp", "fp", "fn", "tn", "dice", "iou", "precision", "recall",
                surface ? "hd95" : "", surface ? "assd" : "", surface ? "nsd" : "", surface ? "missed" : ""));
        MeanSums sums = t.sums();
        for (int c = 0; c < k.classes(); c++) {
            String n = name(names, c);
            sb.append(String.format(Locale.ROOT, row, c, n == null ? "" : n, k.tp(c), k.fp(c), k.fn(c), k.tn(c), fmt(k.dice(c)),
                    fmt(k.iou(c)), fmt(k.precision(c)), fmt(k.recall(c)),
                    surface ? fmt(sums.surface(0, c)) : "", surface ? fmt(sums.surface(1, c)) : "",
                    surface ? fmt(sums.surface(2, c)) : "", surface ? Long.toString(c < sums.classes() ? sums.missed[c] : 0) : ""));
        }
        Means m = new Means(t);
        String over = t.excludeBackground ? "classes 1.." + (k.classes() - 1) : "all " + k.classes() + " classes";
        sb.append(String.format(Locale.ROOT, "mean dice %s  mean iou %s  (over the %d defined classes of %s; '-' = undefined)%n",
                fmt(m.dice), fmt(m.iou), m.defined, over));
        sb.append(String.format(Locale.ROOT, "micro dice %s  micro iou %s  image-wise dice %s  image-wise iou %s%n",
                fmt(m.microDice), fmt(m.microIou), fmt(m.imageDice), fmt(m.imageIou)));
        if (surface) {
            sb.append(String.format(Locale.ROOT, "mean hd95 %s  mean assd %s  mean nsd %s  (nsd tolerance %s; surface 'missed':"
                    + " images where exactly one of prediction and target is empty)%n",
                    fmt(m.surface[0]), fmt(m.surface[1]), fmt(m.surface[2]), num(t.surfaceTolerance)));
        }
        List<Tally.Skipped> skipped = t.skipped();
        if (!skipped.isEmpty()) {
            sb.append("skipped ").append(skipped.size()).append(skipped.size() == 1 ? " file:\n" : " files:\n");
            for (Tally.Skipped s : skipped) {
                sb.append("  ").append(s.file).append(": ").append(s.reason).append('\n');
            }
        }
        if (worst) {
            List<ImageCounts> w = t.worst();
            sb.append("worst ").append(w.size()).append(" images by mean dice:\n");
            for (ImageCounts i : w) {
                sb.append(String.format(Locale.ROOT, "  %s  dice %s  iou %s%n", i.file, fmt(i.meanDice()), fmt(i.meanIou())));
            }
        }
        if (perImage && t.perImage() != null) {
            sb.append("per image (mean dice, mean iou):\n");
            for (ImageCounts i : t.perImage()) {
                sb.append(String.format(Locale.ROOT, "  %s  %s  %s%n", i.file, fmt(i.meanDice()), fmt(i.meanIou())));
            }
        }
        return sb.toString();
    }

    private static String csvField(String s) {
        if (s == null) {
            return "";
        }
        if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }

    /** A value as CSV and notes print it: empty when NaN. */
    static String numText(double v) {
        return num(v);
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }

    /**
     * One table, column {@code kind}: {@code class} rows (id = class index), a {@code mean} row,
     * {@code image} and {@code worst} rows (id = file; dice/iou = the image's means) when asked for,
     * and {@code skipped} rows (id = file, name = reason). Undefined values are empty.
     */
    static String csv(Tally t, List<String> names, boolean perImage, boolean worst) {
        StringBuilder sb = new StringBuilder("kind,id,name,tp,fp,fn,dice,iou,precision,recall,tn,hd95,assd,nsd,surface_missed\n");
        ConfusionCounts k = t.total();
        boolean surface = t.surfaceTolerance != null;
        MeanSums sums = t.sums();
        for (int c = 0; c < k.classes(); c++) {
            sb.append("class,").append(c).append(',').append(csvField(name(names, c))).append(',')
                    .append(k.tp(c)).append(',').append(k.fp(c)).append(',').append(k.fn(c)).append(',')
                    .append(num(k.dice(c))).append(',').append(num(k.iou(c))).append(',')
                    .append(num(k.precision(c))).append(',').append(num(k.recall(c))).append(',').append(k.tn(c));
            if (surface) {
                sb.append(',').append(num(sums.surface(0, c))).append(',').append(num(sums.surface(1, c))).append(',')
                        .append(num(sums.surface(2, c))).append(',').append(c < sums.classes() ? sums.missed[c] : 0).append('\n');
            } else {
                sb.append(",,,,\n");
            }
        }
        Means m = new Means(t);
        sb.append("mean,,,,,,").append(num(m.dice)).append(',').append(num(m.iou)).append(",,,,");
        if (surface) {
            sb.append(num(m.surface[0])).append(',').append(num(m.surface[1])).append(',').append(num(m.surface[2])).append(",\n");
        } else {
            sb.append(",,,\n");
        }
        sb.append("micro,,,,,,").append(num(m.microDice)).append(',').append(num(m.microIou)).append(",,,,,,,\n");
        sb.append("imagewise,,,,,,").append(num(m.imageDice)).append(',').append(num(m.imageIou)).append(",,,,,,,\n");
        if (perImage && t.perImage() != null) {
            for (ImageCounts i : t.perImage()) {
                sb.append("image,").append(csvField(i.file)).append(",,,,,").append(num(i.meanDice())).append(',')
                        .append(num(i.meanIou())).append(",,,,,,,\n");
            }
        }
        if (worst) {
            for (ImageCounts i : t.worst()) {
                sb.append("worst,").append(csvField(i.file)).append(",,,,,").append(num(i.meanDice())).append(',')
                        .append(num(i.meanIou())).append(",,,,,,,\n");
            }
        }
        for (Tally.Skipped s : t.skipped()) {
            sb.append("skipped,").append(csvField(s.file)).append(',').append(csvField(s.reason)).append(",,,,,,,,,,,,\n");
        }
        return sb.toString();
    }
}
