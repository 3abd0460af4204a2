package org.segloss.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.segloss.GdWeight;
import org.segloss.InvalidInputException;
import org.segloss.Layout;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossResult;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.io.Npy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code segloss loss}: one loss of .npy files, optionally its gradient. */
@Command(name = "loss", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Compute a loss of a prediction and a target (.npy files), optionally its gradient.")
final class LossCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DebugOption debugOption;

    @Option(names = "--loss", required = true, paramLabel = "NAME", converter = Converters.LossConverter.class,
            description = "bce, dice, iou, focal, tversky, bce_logdice, ce, ce_logdice, generalized_dice, mcc, dice_ce,"
                    + " dice_focal.")
    Loss loss;

    @Option(names = "--mode", required = true, paramLabel = "MODE", converter = Converters.ModeConverter.class,
            description = "binary, multilabel or multiclass.")
    Mode mode;

    @Option(names = "--pred", required = true, paramLabel = "P.npy",
            description = "Predictions, float32 or float64, shape (N, C, *S) (nchw) or (N, *S, C) (nhwc).")
    Path pred;

    @Option(names = "--target", required = true, paramLabel = "T.npy",
            description = {"binary/multilabel: pred's shape (binary with C = 1 also without the class axis), float or integer;",
                    "multiclass: class map (N, *S), integer (uint8, int8, int16, int32, int64) or whole-number float;",
                    "or soft targets: float class probabilities of pred's shape, summing to 1 per pixel."})
    Path target;

    @Option(names = "--from-logits", description = "Predictions are logits (sigmoid / softmax applied).")
    boolean fromLogits;

    @Option(names = "--layout", paramLabel = "nchw|nhwc", converter = Converters.LayoutConverter.class,
            defaultValue = "nchw", description = "Where the class axis is (default: ${DEFAULT-VALUE}).")
    Layout layout;

    @Option(names = "--smooth", paramLabel = "S",
            description = "Smoothing of the region coefficients, numerator and denominator (default 1; generalized_dice"
                    + " and mcc 1e-5).")
    Double smooth;

    @Option(names = "--smooth-nr", paramLabel = "S", description = "Smoothing of the region numerators only (not with --smooth).")
    Double smoothNr;

    @Option(names = "--smooth-dr", paramLabel = "S", description = "Smoothing of the region denominators only (not with --smooth).")
    Double smoothDr;

    @Option(names = "--squared-pred", description = "Region denominators use sum p^2 and sum t^2 (dice, iou, generalized_dice, Dice combinations).")
    boolean squaredPred;

    @Option(names = "--log-loss", description = "Region term -log(coefficient) instead of 1 - coefficient (dice, iou, tversky).")
    boolean logLoss;

    @Option(names = "--gd-weight", paramLabel = "square|simple|uniform", converter = Converters.GdWeightConverter.class,
            description = "generalized_dice class weights from the target sums: 1/T^2 (default), 1/T or 1.")
    GdWeight gdWeight;

    @Option(names = "--lambda-pixel", paramLabel = "X", description = "Weight of the pixel part of a combined loss (default 1).")
    Double lambdaPixel;

    @Option(names = "--lambda-region", paramLabel = "Y", description = "Weight of the region part of a combined loss (default 1).")
    Double lambdaRegion;

    @Option(names = "--label-smoothing", paramLabel = "E",
            description = "Label smoothing in [0, 1) of bce and ce (and their parts of bce_logdice, ce_logdice, dice_ce).")
    Double labelSmoothing;

    @Option(names = "--pos-weight", paramLabel = "w1,w2,...", split = ",",
            description = "Weight of the positive bce term, one per class, >= 0 (binary, multilabel).")
    double[] posWeight;

    @Option(names = "--batch", description = "Sum region statistics over the batch before the coefficient.")
    boolean batch;

    @Option(names = "--alpha", paramLabel = "A|none", converter = Converters.AlphaConverter.class,
            description = "Focal alpha (default 0.25; none: no class balancing) or Tversky alpha (default 0.5).")
    Double alpha;

    @Option(names = "--beta", paramLabel = "B", description = "Tversky beta (default 0.5).")
    Double beta;

    @Option(names = "--gamma", paramLabel = "G",
            description = "Focal gamma (focal, dice_focal; default 2) or Tversky exponent > 0 (tversky; default 1).")
    Double gamma;

    @Option(names = "--ignore-index", paramLabel = "K",
            description = "Target value left out of every sum (multiclass: a class index; binary, multilabel: an element value).")
    Integer ignoreIndex;

    @Option(names = "--class-weights", paramLabel = "w1,w2,...", split = ",",
            description = "One weight per class, >= 0, not all 0.")
    double[] classWeights;

    @Option(names = "--exclude-background", description = "Class 0 gets weight 0 in region terms.")
    boolean excludeBackground;

    @Mixin
    BackendOption backendOption;

    @Option(names = "--grad-out", paramLabel = "G.npy", description = "Write dL/d(pred) as float32 .npy, pred's shape.")
    Path gradOut;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    LossSpec spec() {
        LossSpec.Builder b = LossSpec.builder(loss, mode).fromLogits(fromLogits).layout(layout).batch(batch)
                .includeBackground(!excludeBackground);
        if (smooth != null) {
            b.smooth(smooth);
        }
        if (alpha != null) {
            if (alpha.isNaN()) {
                if (loss != Loss.FOCAL && loss != Loss.DICE_FOCAL) {
                    throw new CliInputException("--alpha none applies to focal and dice_focal only, was given for " + loss);
                }
                b.alphaNone();
            } else {
                b.alpha(alpha);
            }
        }
        if (beta != null) {
            b.beta(beta);
        }
        if (gamma != null) {
            b.gamma(gamma);
        }
        if (ignoreIndex != null) {
            b.ignoreIndex(ignoreIndex);
        }
        if (classWeights != null) {
            b.classWeights(classWeights);
        }
        if (smoothNr != null) {
            b.smoothNr(smoothNr);
        }
        if (smoothDr != null) {
            b.smoothDr(smoothDr);
        }
        b.squaredPred(squaredPred).logLoss(logLoss);
        if (gdWeight != null) {
            b.gdWeight(gdWeight);
        }
        if (lambdaPixel != null) {
            b.lambdaPixel(lambdaPixel);
        }
        if (lambdaRegion != null) {
            b.lambdaRegion(lambdaRegion);
        }
        if (labelSmoothing != null) {
            b.labelSmoothing(labelSmoothing);
        }
        if (posWeight != null) {
            b.posWeight(posWeight);
        }
        return b.build();
    }

    @Override
    public Integer call() throws Exception {
        LossSpec lossSpec;
        try {
            lossSpec = spec();
        } catch (InvalidInputException e) {
            throw new CliInputException(Converters.flagNames(e.getMessage()));
        }
        backendOption.applyDevice();
        Inputs.Loaded in = Inputs.load("--pred", pred, "--target", target, mode, layout, gradOut != null);
        Inputs.Pred p = in.pred;
        Object t = in.target;
        float[] grad = gradOut == null ? null : new float[p.values.length];
        LossResult r;
        try (LossEngine engine = backendOption.createEngine()) {
            r = run(engine, lossSpec, p, t, grad);
        } catch (InvalidInputException e) {
            throw new CliInputException(withOption(e.getMessage()));
        }
        if (gradOut != null) {
            try {
                Npy.writeFloat32(gradOut, p.shape, grad);
            } catch (java.io.IOException e) {
                throw new CliInputException("--grad-out: cannot write " + gradOut + ": "
                        + org.segloss.io.InputLimits.reason(e));
            }
        }
        print(r, p.shape);
        return 0;
    }

    /**
     * Prefixes an API message about pred or target with the option and file it came from, and names
     * the API's options by their flags ({@code from_logits} is {@code --from-logits} here).
     */
    private String withOption(String message) {
        if (message == null) {
            return null;
        }
        String m = Converters.flagNames(message);
        if (m.startsWith("pred ")) {
            return "--pred " + pred + ": " + m;
        } else if (m.startsWith("target ")) {
            return "--target " + target + ": " + m;
        }
        return m;
    }

    private static LossResult run(LossEngine engine, LossSpec spec, Inputs.Pred p, Object t, float[] grad) {
        if (t instanceof byte[]) {
            return grad == null ? engine.forward(spec, p.values, p.shape, (byte[]) t)
                    : engine.forwardBackward(spec, p.values, p.shape, (byte[]) t, grad);
        } else if (t instanceof int[]) {
            return grad == null ? engine.forward(spec, p.values, p.shape, (int[]) t)
                    : engine.forwardBackward(spec, p.values, p.shape, (int[]) t, grad);
        }
        return grad == null ? engine.forward(spec, p.values, p.shape, (float[]) t)
                : engine.forwardBackward(spec, p.values, p.shape, (float[]) t, grad);
    }

    private void print(LossResult r, long[] shape) {
        PrintWriter out = spec.commandLine().getOut();
        double[] coef = r.perClassCoefficient();
        double[] pix = r.perClassPixelLoss();
        boolean region = r.loss().hasRegionTerm();
        boolean pixel = r.loss().hasPixelTerm();
        if (json) {
            ObjectNode o = Json.object();
            o.put("loss", r.loss().id());
            o.put("mode", r.mode().id());
            o.put("backend", r.backend());
            o.put("device", r.device());
            Json.putNumber(o, "value", r.value());
            Json.putNumber(o, "pixel_loss", r.pixelLoss());
            Json.putNumber(o, "region_loss", r.regionLoss());
            if (region) {
                Json.putNumber(o, "mean_coefficient", r.meanCoefficient());
            }
            ArrayNode sh = o.putArray("shape");
            for (long d : shape) {
                sh.add(d);
            }
            o.put("from_logits", r.spec().fromLogits());
            o.put("layout", r.spec().layout().id());
            options(o.putObject("options"), r.spec());
            ArrayNode pc = o.putArray("per_class");
            for (int c = 0; c < r.classes(); c++) {
                ObjectNode k = pc.addObject();
                k.put("class", c);
                if (region) {
                    Json.putNumber(k, "coefficient", c < coef.length ? coef[c] : Double.NaN);
                }
                if (pixel) {
                    Json.putNumber(k, "pixel_loss", c < pix.length ? pix[c] : Double.NaN);
                }
            }
            if (gradOut != null) {
                o.put("grad_out", gradOut.toString());
            }
            out.println(Json.write(o));
            out.flush();
            return;
        }
        out.printf(Locale.ROOT, "loss         %s (%s%s)%n", r.loss().id(), r.mode().id(),
                r.spec().fromLogits() ? ", from logits" : "");
        out.printf(Locale.ROOT, "backend      %s: %s%n", r.backend(), r.device());
        out.printf(Locale.ROOT, "shape        %s (%s)%n", java.util.Arrays.toString(shape), r.spec().layout().id());
        out.printf(Locale.ROOT, "value        %s%n", num(r.value()));
        if (pixel && region) {
            out.printf(Locale.ROOT, "pixel part   %s%n", num(r.pixelLoss()));
            out.printf(Locale.ROOT, "region part  %s%n", num(r.regionLoss()));
        }
        String coefName = r.loss() == Loss.IOU ? "iou" : r.loss() == Loss.TVERSKY ? "tversky"
                : r.loss() == Loss.MCC ? "mcc" : "dice";
        out.printf(Locale.ROOT, "%n%-6s", "class");
        if (region) {
            out.printf(Locale.ROOT, " %14s", coefName);
        }
        if (pixel) {
            out.printf(Locale.ROOT, " %14s", "pixel loss");
        }
        out.println();
        for (int c = 0; c < r.classes(); c++) {
            out.printf(Locale.ROOT, "%-6d", c);
            if (region) {
                out.printf(Locale.ROOT, " %14s", num(c < coef.length ? coef[c] : Double.NaN));
            }
            if (pixel) {
                out.printf(Locale.ROOT, " %14s", num(c < pix.length ? pix[c] : Double.NaN));
            }
            out.println();
        }
        if (gradOut != null) {
            out.println();
            out.println("gradient     written to " + gradOut);
        }
        out.flush();
    }

    /** The options the loss ran with, defaults included. */
    private static void options(ObjectNode o, LossSpec s) {
        Json.putNumber(o, "smooth", s.smooth());
        o.put("smooth_nr", s.smoothNr());
        o.put("smooth_dr", s.smoothDr());
        o.put("batch", s.batch());
        Json.putNumber(o, "alpha", s.alpha());
        o.put("beta", s.beta());
        o.put("gamma", s.gamma());
        if (s.ignoreIndex() == null) {
            o.putNull("ignore_index");
        } else {
            o.put("ignore_index", s.ignoreIndex());
        }
        if (s.classWeights() == null) {
            o.putNull("class_weights");
        } else {
            ArrayNode w = o.putArray("class_weights");
            for (double v : s.classWeights()) {
                w.add(v);
            }
        }
        o.put("include_background", s.includeBackground());
        o.put("squared_pred", s.squaredPred());
        o.put("log_loss", s.logLoss());
        o.put("gd_weight", s.gdWeight().id());
        o.put("lambda_pixel", s.lambdaPixel());
        o.put("lambda_region", s.lambdaRegion());
        o.put("label_smoothing", s.labelSmoothing());
        if (s.posWeight() == null) {
            o.putNull("pos_weight");
        } else {
            ArrayNode w = o.putArray("pos_weight");
            for (double v : s.posWeight()) {
                w.add(v);
            }
        }
    }

    static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "-";
    }
}
