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
 * Writes the report as one self-contained HTML file (no script, no network, no other file): inline
 * SVG charts that take the page's width (per-class Dice and IoU with value labels, histogram of
 * per-image Dice with counts, with --surface a per-class HD95 chart and a surface table), the
 * per-class table, the skipped files, and for each worst image its target, prediction and error
 * overlay side by side as PNG data URIs, classes in a palette of distinguishable colours.
 */
final class HtmlReport {
    static final int FP_RGB = rgb(230, 40, 40);
    static final int FN_RGB = rgb(40, 140, 255);
    static final int WRONG_CLASS_RGB = rgb(255, 200, 0);
    static final int IGNORED_RGB = rgb(20, 20, 34);
    private static final String DICE_COLOUR = "#3b6fd8";
    private static final String IOU_COLOUR = "#f09a3e";
    private static final String HD95_COLOUR = "#7a5cc4";

    private HtmlReport() {
    }

    private static int rgb(int r, int g, int b) {
        return (r << 16) | (g << 8) | b;
    }

    /**
     * Writes the page: to {@code out} itself when it ends with {@code .html}, else to
     * {@code out/index.html}; returns the page's path.
     */
    static Path write(Path out, Tally t, List<String> names, double threshold, boolean fromLogits, String title)
            throws IOException {
        boolean file = out.getFileName() != null && out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".html");
        Path index = file ? out : out.resolve("index.html");
        if (index.toAbsolutePath().getParent() != null) {
            Files.createDirectories(index.toAbsolutePath().getParent());
        }
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
        Reports.Means m = new Reports.Means(t);
        String over = t.excludeBackground ? " (without class 0)" : "";
        StringBuilder metrics = new StringBuilder();
        big(metrics, m.dice, "mean Dice" + over);
        big(metrics, m.iou, "mean IoU" + over);
        big(metrics, m.microDice, "micro Dice");
        big(metrics, m.imageDice, "image-wise Dice");
        boolean surface = t.surfaceTolerance != null;
        if (surface) {
            big(metrics, m.surface[0], "mean HD95");
            big(metrics, m.surface[1], "mean ASSD");
            big(metrics, m.surface[2], "mean NSD (tolerance " + Reports.numText(t.surfaceTolerance) + ")");
        }
        String page = template.replace("{{TITLE}}", esc(title))
                .replace("{{SUMMARY}}", summary)
                .replace("{{METRICS}}", metrics.toString())
                .replace("{{CLASS_CHART}}", classChart(k, names))
                .replace("{{SURFACE}}", surface ? surfaceSection(t, names) : "")
                .replace("{{HISTOGRAM}}", histogram(t.histogram()))
                .replace("{{WORST}}", worst(t.worst(), k.classes(), threshold, fromLogits))
                .replace("{{CLASS_TABLE}}", classTable(k, names))
                .replace("{{SKIPPED}}", skipped(t.skipped()));
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
        double width = 1120;
        double plotW = width - left - 16;
        boolean rotate = c > 12 || (names != null && names.stream().anyMatch(n -> n.length() > 5));
        double bottom = rotate ? 90 : 36;
        double height = top + plotH + bottom;
        StringBuilder sb = new StringBuilder();
        svg(sb, width, height, "Dice and IoU per class");
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
                valueLabel(sb, x0 - bar / 2, top + plotH * (1 - d) - 3, String.format(Locale.ROOT, "%.2f", d), bar);
                valueLabel(sb, x0 + bar / 2, top + plotH * (1 - j) - 3, String.format(Locale.ROOT, "%.2f", j), bar);
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

    /** An SVG that scales to the page's width (its coordinates are {@code width x height}). */
    private static void svg(StringBuilder sb, double width, double height, String label) {
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ").append(f1(width)).append(' ').append(f1(height))
                .append("\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" role=\"img\" aria-label=\"")
                .append(esc(label)).append("\">");
    }

    /** A bar's value above it, vertical when the bar is narrow. */
    private static void valueLabel(StringBuilder sb, double x, double y, String text, double barWidth) {
        if (barWidth >= 16) {
            sb.append("<text x=\"").append(f1(x)).append("\" y=\"").append(f1(y))
                    .append("\" font-size=\"9\" fill=\"#2b3242\" text-anchor=\"middle\">").append(esc(text)).append("</text>");
        } else {
            sb.append("<text font-size=\"9\" fill=\"#2b3242\" text-anchor=\"start\" transform=\"translate(").append(f1(x + 3))
                    .append(',').append(f1(y)).append(") rotate(-90)\">").append(esc(text)).append("</text>");
        }
    }

    private static void big(StringBuilder sb, double v, String label) {
        sb.append("<div class=\"big\">").append(fmt(v)).append("<small>").append(esc(label)).append("</small></div>");
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
        double plotW = 1060;
        double plotH = 200;
        StringBuilder sb = new StringBuilder();
        svg(sb, left + plotW + 20, y0 + plotH + 44, "Histogram of per-image Dice");
        axisY(sb, left, y0, plotW, plotH, top, steps, false);
        double w = plotW / bins.length;
        for (int i = 0; i < bins.length; i++) {
            double h = plotH * bins[i] / top;
            String range = String.format(Locale.ROOT, "[%.2f, %.2f%s", (double) i / bins.length, (double) (i + 1) / bins.length,
                    i == bins.length - 1 ? "]" : ")");
            rect(sb, left + i * w + 1, y0 + plotH - h, w - 2, h, DICE_COLOUR, "Dice " + range + ": " + bins[i] + " images");
            if (bins[i] > 0) {
                valueLabel(sb, left + i * w + w / 2, y0 + plotH - h - 3, Long.toString(bins[i]), w);
            }
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

    private static String worst(List<ImageCounts> worst, int classes, double threshold, boolean fromLogits) {
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
            StringBuilder panels = new StringBuilder();
            try {
                BufferedImage[] p = panels(w, classes, threshold, fromLogits);
                String[] what = {"target", "prediction", "errors"};
                for (int i = 0; i < 3; i++) {
                    panels.append("<div class=\"panel\"><img src=\"").append(dataUri(p[i])).append("\" alt=\"").append(what[i])
                            .append(" of ").append(esc(w.file)).append("\"><span>").append(what[i]).append("</span></div>");
                }
            } catch (BadFileException | IOException e) {
                panels.append("<p class=\"note\">images unavailable: ").append(esc(e.getMessage())).append("</p>");
            }
            sb.append("<figure title=\"").append(esc(w.file)).append("\"><div class=\"panels\">").append(panels)
                    .append("</div><figcaption>").append(esc(caption)).append("</figcaption></figure>");
        }
        return sb.toString();
    }

    /** A PNG as a {@code data:} URI. */
    static String dataUri(BufferedImage img) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(out.toByteArray());
    }

    /**
     * Distinguishable class colours: class 0 dark slate, then a fixed qualitative palette (20
     * colours in the spirit of Tableau/Glasbey), repeated with a brightness shift past 20.
     */
    static final int[] PALETTE = {
        rgb(31, 119, 180), rgb(255, 127, 14), rgb(44, 160, 44), rgb(214, 39, 40), rgb(148, 103, 189),
        rgb(140, 86, 75), rgb(227, 119, 194), rgb(188, 189, 34), rgb(23, 190, 207), rgb(174, 199, 232),
        rgb(255, 187, 120), rgb(152, 223, 138), rgb(255, 152, 150), rgb(197, 176, 213), rgb(196, 156, 148),
        rgb(247, 182, 210), rgb(219, 219, 141), rgb(158, 218, 229), rgb(127, 127, 127), rgb(0, 90, 50)};
    static final int BACKGROUND_RGB = rgb(48, 52, 64);

    static int classColour(int c) {
        if (c == 0) {
            return BACKGROUND_RGB;
        }
        int base = PALETTE[(c - 1) % PALETTE.length];
        int round = (c - 1) / PALETTE.length;
        if (round == 0) {
            return base;
        }
        double f = round % 2 == 1 ? 0.6 : 1.25;
        int r = Math.min(255, (int) (((base >> 16) & 255) * f));
        int g = Math.min(255, (int) (((base >> 8) & 255) * f));
        int b = Math.min(255, (int) ((base & 255) * f));
        return rgb(r, g, b);
    }

    /** Target and prediction in class colours, and the error overlay ({@link #overlay}); volumes by their middle slice. */
    static BufferedImage[] panels(ImageCounts w, int classes, double threshold, boolean fromLogits)
            throws BadFileException, IOException {
        Decoder.LabelMap[] m = maps(w, threshold, fromLogits);
        int[] pred = m[0].labels;
        int[] target = m[1].labels;
        long[] dims = m[1].dims;
        int h = (int) dims[dims.length - 2];
        int wd = (int) dims[dims.length - 1];
        int offset = dims.length == 3 ? (int) (dims[0] / 2) * h * wd : 0;
        int[] tr = new int[wd * h];
        int[] pr = new int[wd * h];
        for (int i = 0; i < tr.length; i++) {
            int ti = target[offset + i];
            tr[i] = ti < 0 || ti >= classes ? IGNORED_RGB : classColour(ti);
            int pi = pred[offset + i];
            pr[i] = pi < 0 || pi >= classes ? IGNORED_RGB : classColour(pi);
        }
        return new BufferedImage[] {scaled(image(tr, wd, h)), scaled(image(pr, wd, h)),
            scaled(overlay(pred, target, dims, classes))};
    }

    private static BufferedImage image(int[] rgb, int w, int h) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        out.setRGB(0, 0, w, h, rgb, 0, w);
        return out;
    }

    /** Small images enlarged (nearest neighbour) so a panel is at least 192 pixels wide. */
    private static BufferedImage scaled(BufferedImage img) {
        int f = Math.max(1, 192 / Math.max(1, img.getWidth()));
        if (f == 1) {
            return img;
        }
        BufferedImage out = new BufferedImage(img.getWidth() * f, img.getHeight() * f, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < out.getHeight(); y++) {
            for (int x = 0; x < out.getWidth(); x++) {
                out.setRGB(x, y, img.getRGB(x / f, y / f));
            }
        }
        return out;
    }

    /** {prediction, target} of a worst image, read again from its files (the prediction with the target's dims). */
    static Decoder.LabelMap[] maps(ImageCounts w, double threshold, boolean fromLogits) throws BadFileException, IOException {
        if (w.predPath == null || w.targetPath == null) {
            throw new BadFileException("the stats file does not say where the image is");
        }
        Decoder.LabelMap target = Decoder.readTarget(Paths.get(w.targetPath));
        Object p = Decoder.read(Paths.get(w.predPath));
        int[] pred = p instanceof Decoder.LabelMap ? ((Decoder.LabelMap) p).labels
                : hardLabels((Decoder.Scores) p, target, threshold, fromLogits);
        if (target.dims.length < 2 || pred.length != target.labels.length) {
            throw new BadFileException("cannot draw shape " + java.util.Arrays.toString(target.dims));
        }
        return new Decoder.LabelMap[] {new Decoder.LabelMap(target.dims, pred), target};
    }

    /** The surface section: a per-class HD95 chart and a table of HD95, ASSD, NSD and missed images. */
    static String surfaceSection(Tally t, List<String> names) {
        MeanSums s = t.sums();
        int c = t.classes();
        double max = 0;
        for (int i = 0; i < c; i++) {
            double v = s.surface(0, i);
            if (!Double.isNaN(v)) {
                max = Math.max(max, v);
            }
        }
        double top = niceCeiling(max);
        double left = 56;
        double y0 = 20;
        double plotH = 220;
        double width = 1120;
        double plotW = width - left - 16;
        boolean rotate = c > 12 || (names != null && names.stream().anyMatch(n -> n.length() > 5));
        StringBuilder sb = new StringBuilder("<h2>HD95 per class</h2>");
        svg(sb, width, y0 + plotH + (rotate ? 90 : 40), "HD95 per class");
        axisY(sb, left, y0, plotW, plotH, top, 5, true);
        double group = plotW / Math.max(1, c);
        double bar = Math.min(36, group * 0.6);
        for (int i = 0; i < c; i++) {
            double x0 = left + i * group + group / 2;
            double v = s.surface(0, i);
            String label = Reports.name(names, i) != null ? Reports.name(names, i) : Integer.toString(i);
            if (Double.isNaN(v)) {
                sb.append("<text x=\"").append(f1(x0)).append("\" y=\"").append(f1(y0 + plotH - 6))
                        .append("\" font-size=\"10\" fill=\"#8a93a6\" text-anchor=\"middle\">n/a</text>");
            } else {
                double h = top == 0 ? 0 : plotH * v / top;
                rect(sb, x0 - bar / 2, y0 + plotH - h, bar, h, HD95_COLOUR, "class " + label + ": HD95 " + fmt(v));
                valueLabel(sb, x0, y0 + plotH - h - 3, String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.2f", v), bar);
            }
            if (rotate) {
                sb.append("<text font-size=\"11\" text-anchor=\"end\" transform=\"translate(").append(f1(x0 + 3)).append(',')
                        .append(f1(y0 + plotH + 14)).append(") rotate(-45)\">").append(esc(label)).append("</text>");
            } else {
                sb.append("<text x=\"").append(f1(x0)).append("\" y=\"").append(f1(y0 + plotH + 14))
                        .append("\" font-size=\"11\" text-anchor=\"middle\">").append(esc(label)).append("</text>");
            }
        }
        sb.append("</svg>");
        sb.append("<h2>Surface distances per class</h2><p class=\"note\">Means over the images where each is defined;"
                + " missed: images where exactly one of prediction and target is empty for the class (NSD 0 there). NSD tolerance ")
                .append(esc(Reports.numText(t.surfaceTolerance))).append(t.spacing == null ? ", spacing from the files (1 for PNG/npy)"
                : ", spacing " + esc(t.spacing)).append(".</p>");
        sb.append("<table><tr><th>class</th><th class=\"l\">name</th><th>HD95</th><th>ASSD</th><th>NSD</th><th>missed</th></tr>");
        for (int i = 0; i < c; i++) {
            String n = Reports.name(names, i);
            sb.append("<tr><td>").append(i).append("</td><td class=\"l\">").append(n == null ? "" : esc(n)).append("</td><td>")
                    .append(fmt(s.surface(0, i))).append("</td><td>").append(fmt(s.surface(1, i))).append("</td><td>")
                    .append(fmt(s.surface(2, i))).append("</td><td>").append(i < s.classes() ? s.missed[i] : 0).append("</td></tr>");
        }
        return sb.append("</table>").toString();
    }

    /** 1, 2 or 5 times a power of ten, at least {@code v} (1 for 0). */
    static double niceCeiling(double v) {
        if (!(v > 0)) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    /**
     * The error overlay: correct pixels in their class colour, dimmed; errors in full colour: FP
     * (predicted a class != 0 where the target is 0), FN (predicted 0 where the target is another
     * class), wrong class (both != 0); ignored pixels near black.
     */
    static BufferedImage overlay(int[] pred, int[] target, long[] dims, int classes) {
        int h = (int) dims[dims.length - 2];
        int wd = (int) dims[dims.length - 1];
        // A volume is drawn by its middle slice.
        int offset = dims.length == 3 ? (int) (dims[0] / 2) * h * wd : 0;
        int[] rgb = new int[wd * h];
        for (int i = 0; i < rgb.length; i++) {
            int ti = target[offset + i];
            int pi = pred[offset + i];
            if (ti < 0 || ti >= classes) {
                rgb[i] = IGNORED_RGB;
            } else if (pi == ti) {
                int c = classColour(ti);
                rgb[i] = rgb(((c >> 16) & 255) * 2 / 5 + 40, ((c >> 8) & 255) * 2 / 5 + 40, (c & 255) * 2 / 5 + 40);
            } else if (ti == 0) {
                rgb[i] = FP_RGB;
            } else if (pi == 0) {
                rgb[i] = FN_RGB;
            } else {
                rgb[i] = WRONG_CLASS_RGB;
            }
        }
        return image(rgb, wd, h);
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
