package org.segloss.score;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.segloss.ConfusionCounts;

/**
 * Writes {@code index.html} into a directory: a self-contained page (no script, no network) with
 * inline SVG charts (per-class Dice and IoU, histogram of per-image Dice), the per-class table,
 * the skipped files, and overlay PNGs of the worst images written next to it and referenced
 * relatively.
 */
final class HtmlReport {
    static final int FP_RGB = rgb(230, 40, 40);
    static final int FN_RGB = rgb(40, 140, 255);
    static final int WRONG_CLASS_RGB = rgb(255, 200, 0);
    static final int IGNORED_RGB = rgb(20, 20, 34);
    private static final String DICE_COLOUR = "#3b6fd8";
    private static final String IOU_COLOUR = "#f09a3e";

    private HtmlReport() {
    }

    private static int rgb(int r, int g, int b) {
        return (r << 16) | (g << 8) | b;
    }

    /** Writes the page and the overlays; returns the page's path. */
    static Path write(Path dir, Tally t, List<String> names, double threshold, boolean fromLogits, String title)
            throws IOException {
        Files.createDirectories(dir);
        String template;
        try (InputStream in = HtmlReport.class.getResourceAsStream("/score/report.html")) {
            if (in == null) {
                throw new IOException("resource /score/report.html is missing from the build");
            }
            template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        ConfusionCounts k = t.total();
        String summary = esc(t.images() + " images scored, " + k.classes() + " classes"
                + (t.settings.classesInferred ? " (inferred from the largest label seen)" : "")
                + (t.settings.ignoreIndex == null ? "" : ", ignore index " + t.settings.ignoreIndex)
                + ", " + t.skipped().size() + (t.skipped().size() == 1 ? " file" : " files") + " skipped");
        String metrics = "<div class=\"big\">" + fmt(k.meanDice()) + "<small>mean Dice</small></div>"
                + "<div class=\"big\">" + fmt(k.meanIou()) + "<small>mean IoU</small></div>";
        String page = template.replace("{{TITLE}}", esc(title))
                .replace("{{SUMMARY}}", summary)
                .replace("{{METRICS}}", metrics)
                .replace("{{CLASS_CHART}}", classChart(k, names))
                .replace("{{HISTOGRAM}}", histogram(t.histogram()))
                .replace("{{WORST}}", worst(dir, t.worst(), k.classes(), threshold, fromLogits))
                .replace("{{CLASS_TABLE}}", classTable(k, names))
                .replace("{{SKIPPED}}", skipped(t.skipped()));
        Path index = dir.resolve("index.html");
        Files.writeString(index, page);
        return index;
    }

    static String esc(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '<': sb.append("&lt;"); break;
                case '>': sb.append("&gt;"); break;
                case '&': sb.append("&amp;"); break;
                case '"': sb.append("&quot;"); break;
                case '\'': sb.append("&#39;"); break;
                default: sb.append(ch);
            }
        }
        return sb.toString();
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String f1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /** Grouped bars: Dice and IoU per class on a [0, 1] axis; undefined classes marked n/a. */
    static String classChart(ConfusionCounts k, List<String> names) {
        int c = k.classes();
        double left = 48;
        double top = 28;
        double plotH = 260;
        double width = Math.max(640, Math.min(1120, left + 20 + c * 34.0));
        double plotW = width - left - 16;
        boolean rotate = c > 12 || (names != null && names.stream().anyMatch(n -> n.length() > 5));
        double bottom = rotate ? 90 : 36;
        double height = top + plotH + bottom;
        StringBuilder sb = new StringBuilder();
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(f1(width)).append("\" height=\"")
                .append(f1(height)).append("\" role=\"img\" aria-label=\"Dice and IoU per class\">");
        axisY(sb, left, top, plotW, plotH, 1.0, 5, true);
        double group = plotW / c;
        double bar = Math.min(22, group * 0.38);
        for (int i = 0; i < c; i++) {
            double x0 = left + i * group + group / 2;
            double d = k.dice(i);
            double j = k.iou(i);
            String label = Reports.name(names, i) != null ? Reports.name(names, i) : Integer.toString(i);
            if (Double.isNaN(d)) {
                sb.append("<text x=\"").append(f1(x0)).append("\" y=\"").append(f1(top + plotH - 6))
                        .append("\" font-size=\"10\" fill=\"#8a93a6\" text-anchor=\"middle\">n/a</text>");
            } else {
                rect(sb, x0 - bar, top + plotH * (1 - d), bar, plotH * d, DICE_COLOUR, "class " + label + ": Dice " + fmt(d));
                rect(sb, x0, top + plotH * (1 - j), bar, plotH * j, IOU_COLOUR, "class " + label + ": IoU " + fmt(j));
            }
            double ly = top + plotH + 14;
            if (rotate) {
                sb.append("<text font-size=\"11\" text-anchor=\"end\" transform=\"translate(").append(f1(x0 + 3)).append(',')
                        .append(f1(ly)).append(") rotate(-45)\">").append(esc(label)).append("</text>");
            } else {
                sb.append("<text x=\"").append(f1(x0)).append("\" y=\"").append(f1(ly))
                        .append("\" font-size=\"11\" text-anchor=\"middle\">").append(esc(label)).append("</text>");
            }
        }
        legend(sb, width - 170, 8);
        sb.append("</svg>");
        return sb.toString();
    }

    private static void legend(StringBuilder sb, double x, double y) {
        sb.append("<rect x=\"").append(f1(x)).append("\" y=\"").append(f1(y)).append("\" width=\"12\" height=\"12\" fill=\"")
                .append(DICE_COLOUR).append("\"/><text x=\"").append(f1(x + 16)).append("\" y=\"").append(f1(y + 10))
                .append("\" font-size=\"12\">Dice</text>");
        sb.append("<rect x=\"").append(f1(x + 70)).append("\" y=\"").append(f1(y)).append("\" width=\"12\" height=\"12\" fill=\"")
                .append(IOU_COLOUR).append("\"/><text x=\"").append(f1(x + 86)).append("\" y=\"").append(f1(y + 10))
                .append("\" font-size=\"12\">IoU</text>");
    }

    private static void rect(StringBuilder sb, double x, double y, double w, double h, String fill, String tip) {
        sb.append("<rect x=\"").append(f1(x)).append("\" y=\"").append(f1(y)).append("\" width=\"").append(f1(w))
                .append("\" height=\"").append(f1(Math.max(h, 0))).append("\" fill=\"").append(fill).append("\"><title>")
                .append(esc(tip)).append("</title></rect>");
    }

    /** Horizontal grid lines and labels from 0 to {@code max} in {@code steps} steps. */
    private static void axisY(StringBuilder sb, double left, double top, double plotW, double plotH, double max, int steps,
                              boolean decimals) {
        for (int s = 0; s <= steps; s++) {
            double v = max * s / steps;
            double y = top + plotH * (1 - (double) s / steps);
            sb.append("<line x1=\"").append(f1(left)).append("\" x2=\"").append(f1(left + plotW)).append("\" y1=\"")
                    .append(f1(y)).append("\" y2=\"").append(f1(y)).append("\" stroke=\"")
                    .append(s == 0 ? "#5a6275" : "#e3e6ec").append("\"/>");
            sb.append("<text x=\"").append(f1(left - 6)).append("\" y=\"").append(f1(y + 4))
                    .append("\" font-size=\"11\" text-anchor=\"end\">")
                    .append(decimals ? String.format(Locale.ROOT, "%.1f", v) : Long.toString(Math.round(v))).append("</text>");
        }
    }

    /** Bars of the per-image Dice histogram, bins of width 1 / {@link Tally#HISTOGRAM_BINS}. */
    static String histogram(long[] bins) {
        long max = 0;
        long total = 0;
        for (long b : bins) {
            max = Math.max(max, b);
            total += b;
        }
        int steps = 4;
        long top = Math.max(steps, ((max + steps - 1) / steps) * steps);
        double left = 48;
        double y0 = 16;
        double plotW = 640;
        double plotH = 200;
        StringBuilder sb = new StringBuilder();
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(f1(left + plotW + 20)).append("\" height=\"")
                .append(f1(y0 + plotH + 44)).append("\" role=\"img\" aria-label=\"Histogram of per-image Dice\">");
        axisY(sb, left, y0, plotW, plotH, top, steps, false);
        double w = plotW / bins.length;
        for (int i = 0; i < bins.length; i++) {
            double h = plotH * bins[i] / top;
            String range = String.format(Locale.ROOT, "[%.2f, %.2f%s", (double) i / bins.length, (double) (i + 1) / bins.length,
                    i == bins.length - 1 ? "]" : ")");
            rect(sb, left + i * w + 1, y0 + plotH - h, w - 2, h, DICE_COLOUR, "Dice " + range + ": " + bins[i] + " images");
        }
        for (int i = 0; i <= 10; i++) {
            double x = left + plotW * i / 10;
            sb.append("<text x=\"").append(f1(x)).append("\" y=\"").append(f1(y0 + plotH + 16))
                    .append("\" font-size=\"11\" text-anchor=\"middle\">").append(String.format(Locale.ROOT, "%.1f", i / 10.0))
                    .append("</text>");
        }
        sb.append("<text x=\"").append(f1(left + plotW / 2)).append("\" y=\"").append(f1(y0 + plotH + 36))
                .append("\" font-size=\"12\" text-anchor=\"middle\">mean Dice of the image (").append(total)
                .append(" images with a defined Dice)</text>");
        sb.append("</svg>");
        return sb.toString();
    }

    private static String classTable(ConfusionCounts k, List<String> names) {
        StringBuilder sb = new StringBuilder("<table><tr><th>class</th><th class=\"l\">name</th><th>TP</th><th>FP</th>"
                + "<th>FN</th><th>Dice</th><th>IoU</th><th>precision</th><th>recall</th></tr>");
        for (int c = 0; c < k.classes(); c++) {
            String n = Reports.name(names, c);
            sb.append("<tr><td>").append(c).append("</td><td class=\"l\">").append(n == null ? "" : esc(n)).append("</td><td>")
                    .append(k.tp(c)).append("</td><td>").append(k.fp(c)).append("</td><td>").append(k.fn(c))
                    .append("</td><td>").append(fmt(k.dice(c))).append("</td><td>").append(fmt(k.iou(c)))
                    .append("</td><td>").append(fmt(k.precision(c))).append("</td><td>").append(fmt(k.recall(c)))
                    .append("</td></tr>");
        }
        return sb.append("</table>").toString();
    }

    private static String skipped(List<Tally.Skipped> skipped) {
        if (skipped.isEmpty()) {
            return "<p class=\"note\">None.</p>";
        }
        StringBuilder sb = new StringBuilder("<table><tr><th class=\"l\">file</th><th class=\"l\">reason</th></tr>");
        for (Tally.Skipped s : skipped) {
            sb.append("<tr><td class=\"l\">").append(esc(s.file)).append("</td><td class=\"l\">").append(esc(s.reason))
                    .append("</td></tr>");
        }
        return sb.append("</table>").toString();
    }

    private static String worst(Path dir, List<ImageCounts> worst, int classes, double threshold, boolean fromLogits) {
        if (worst.isEmpty()) {
            return "<p class=\"note\">No image with a defined Dice.</p>";
        }
        StringBuilder sb = new StringBuilder();
        int rank = 0;
        for (ImageCounts w : worst) {
            rank++;
            Path shown = Paths.get(w.file);
            String shortName = shown.getNameCount() >= 2 ? shown.subpath(shown.getNameCount() - 2, shown.getNameCount()).toString()
                    : w.file;
            String caption = "#" + rank + " " + shortName + " — Dice " + fmt(w.meanDice()) + ", IoU " + fmt(w.meanIou());
            String img;
            try {
                BufferedImage overlay = overlay(w, classes, threshold, fromLogits);
                String name = String.format(Locale.ROOT, "worst-%02d.png", rank);
                ImageIO.write(overlay, "png", dir.resolve(name).toFile());
                img = "<img src=\"" + name + "\" alt=\"overlay of " + esc(w.file) + "\">";
            } catch (BadFileException | IOException e) {
                img = "<p class=\"note\">overlay unavailable: " + esc(e.getMessage()) + "</p>";
            }
            sb.append("<figure title=\"").append(esc(w.file)).append("\">").append(img).append("<figcaption>").append(esc(caption))
                    .append("</figcaption></figure>");
        }
        return sb.toString();
    }

    /**
     * The target's classes in gray with the errors in colour: FP (predicted class != 0 where the
     * target is 0), FN (predicted 0 where the target is another class), wrong class (both != 0).
     */
    static BufferedImage overlay(ImageCounts w, int classes, double threshold, boolean fromLogits)
            throws BadFileException, IOException {
        if (w.predPath == null || w.targetPath == null) {
            throw new BadFileException("the stats file does not say where the image is");
        }
        Decoder.LabelMap target = Decoder.readTarget(Paths.get(w.targetPath));
        Object p = Decoder.read(Paths.get(w.predPath));
        int[] pred = p instanceof Decoder.LabelMap ? ((Decoder.LabelMap) p).labels
                : hardLabels((Decoder.Scores) p, target, threshold, fromLogits);
        long[] dims = target.dims;
        if (dims.length < 2 || pred.length != target.labels.length) {
            throw new BadFileException("cannot draw shape " + java.util.Arrays.toString(dims));
        }
        int h = (int) dims[dims.length - 2];
        int wd = (int) dims[dims.length - 1];
        // A volume is drawn by its middle slice.
        int offset = dims.length == 3 ? (int) (dims[0] / 2) * h * wd : 0;
        BufferedImage out = new BufferedImage(wd, h, BufferedImage.TYPE_INT_RGB);
        int[] rgb = new int[wd * h];
        for (int i = 0; i < rgb.length; i++) {
            int ti = target.labels[offset + i];
            int pi = pred[offset + i];
            if (ti < 0 || ti >= classes) {
                rgb[i] = IGNORED_RGB;
            } else if (pi == ti) {
                int g = 70 + (classes <= 1 ? 0 : 150 * ti / (classes - 1));
                rgb[i] = rgb(g, g, g);
            } else if (ti == 0) {
                rgb[i] = FP_RGB;
            } else if (pi == 0) {
                rgb[i] = FN_RGB;
            } else {
                rgb[i] = WRONG_CLASS_RGB;
            }
        }
        out.setRGB(0, 0, wd, h, rgb, 0, wd);
        return out;
    }

    /** Host argmax (ties to the lowest index) or threshold, only for drawing a handful of overlays. */
    private static int[] hardLabels(Decoder.Scores s, Decoder.LabelMap target, double threshold, boolean fromLogits)
            throws BadFileException {
        int n = target.labels.length;
        int[] out = new int[n];
        if (s.values.length == n) {
            double cut = fromLogits ? Math.log(threshold / (1 - threshold)) : threshold;
            for (int i = 0; i < n; i++) {
                out[i] = s.values[i] >= cut ? 1 : 0;
            }
            return out;
        }
        if (s.values.length % n != 0) {
            throw new BadFileException("prediction size does not fit the target");
        }
        int c = s.values.length / n;
        boolean channelsFirst = s.shape[0] == c && (s.shape[s.shape.length - 1] != c || s.shape.length != target.dims.length + 1
                || java.util.Arrays.equals(java.util.Arrays.copyOfRange(s.shape, 1, s.shape.length), target.dims));
        for (int i = 0; i < n; i++) {
            int best = 0;
            float bestValue = Float.NEGATIVE_INFINITY;
            for (int ci = 0; ci < c; ci++) {
                float v = channelsFirst ? s.values[ci * n + i] : s.values[i * c + ci];
                if (v > bestValue) {
                    bestValue = v;
                    best = ci;
                }
            }
            out[i] = best;
        }
        return out;
    }
}
