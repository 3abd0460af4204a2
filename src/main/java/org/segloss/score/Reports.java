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
            putMetric(o, "dice", k.dice(c));
            putMetric(o, "iou", k.iou(c));
            putMetric(o, "precision", k.precision(c));
            putMetric(o, "recall", k.recall(c));
        }
        putMetric(root, "mean_dice", k.meanDice());
        putMetric(root, "mean_iou", k.meanIou());
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
        String row = "%5s  %-" + nameWidth + "s %14s %14s %14s %8s %8s %9s %8s%n";
        sb.append(String.format(Locale.ROOT, row, "class", "name", "tp", "fp", "fn", "dice", "iou", "precision", "recall"));
        int defined = 0;
        for (int c = 0; c < k.classes(); c++) {
            String n = name(names, c);
            if (!Double.isNaN(k.dice(c))) {
                defined++;
            }
            sb.append(String.format(Locale.ROOT, row, c, n == null ? "" : n, k.tp(c), k.fp(c), k.fn(c), fmt(k.dice(c)),
                    fmt(k.iou(c)), fmt(k.precision(c)), fmt(k.recall(c))));
        }
        sb.append(String.format(Locale.ROOT, "mean dice %s  mean iou %s  (over the %d defined classes of %d; '-' = undefined)%n",
                fmt(k.meanDice()), fmt(k.meanIou()), defined, k.classes()));
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

    private static String num(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }

    /**
     * One table, column {@code kind}: {@code class} rows (id = class index), a {@code mean} row,
     * {@code image} and {@code worst} rows (id = file; dice/iou = the image's means) when asked for,
     * and {@code skipped} rows (id = file, name = reason). Undefined values are empty.
     */
    static String csv(Tally t, List<String> names, boolean perImage, boolean worst) {
        StringBuilder sb = new StringBuilder("kind,id,name,tp,fp,fn,dice,iou,precision,recall\n");
        ConfusionCounts k = t.total();
        for (int c = 0; c < k.classes(); c++) {
            sb.append("class,").append(c).append(',').append(csvField(name(names, c))).append(',')
                    .append(k.tp(c)).append(',').append(k.fp(c)).append(',').append(k.fn(c)).append(',')
                    .append(num(k.dice(c))).append(',').append(num(k.iou(c))).append(',')
                    .append(num(k.precision(c))).append(',').append(num(k.recall(c))).append('\n');
        }
        sb.append("mean,,,,,,").append(num(k.meanDice())).append(',').append(num(k.meanIou())).append(",,\n");
        if (perImage && t.perImage() != null) {
            for (ImageCounts i : t.perImage()) {
                sb.append("image,").append(csvField(i.file)).append(",,,,,").append(num(i.meanDice())).append(',')
                        .append(num(i.meanIou())).append(",,\n");
            }
        }
        if (worst) {
            for (ImageCounts i : t.worst()) {
                sb.append("worst,").append(csvField(i.file)).append(",,,,,").append(num(i.meanDice())).append(',')
                        .append(num(i.meanIou())).append(",,\n");
            }
        }
        for (Tally.Skipped s : t.skipped()) {
            sb.append("skipped,").append(csvField(s.file)).append(',').append(csvField(s.reason)).append(",,,,,,,\n");
        }
        return sb.toString();
    }
}
