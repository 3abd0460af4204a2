package org.segloss.score;

import java.util.Locale;
import org.segloss.InvalidInputException;
import org.segloss.Layout;
import picocli.CommandLine.Option;

/** The counting options {@code score} and the Spark job share (a picocli mixin). */
public final class ScoreSettings {
    @Option(names = "--classes", paramLabel = "K", description = "Number of classes (default: inferred from the labels or channels, and stated).")
    public Integer classes;

    @Option(names = "--ignore-index", paramLabel = "K", description = "Target label to leave out of every count (e.g. 255).")
    public Integer ignoreIndex;

    @Option(names = "--threshold", paramLabel = "T", defaultValue = "0.5", description = "Binary threshold on probabilities (default: ${DEFAULT-VALUE}).")
    public double threshold;

    @Option(names = "--from-logits", description = "Per-class .npy predictions are logits (threshold applies as logit(T)).")
    public boolean fromLogits;

    @Option(names = "--layout", paramLabel = "L", defaultValue = "auto", description = "Class axis of .npy scores: auto, nchw (C,*S), nhwc (*S,C).")
    public String layout;

    @Option(names = "--max-pixels", paramLabel = "N", defaultValue = "268435456",
            description = "Skip a PNG whose header declares more pixels than this, before decoding it (default: ${DEFAULT-VALUE} = 2^28).")
    public long maxPixels;

    @Option(names = "--exclude-background", description = "Leave class 0 out of every mean (per_class still lists it).")
    public boolean excludeBackground;

    @Option(names = "--surface", description = "Also compute surface distances per image and class: HD95, ASSD, NSD (class-map predictions).")
    public boolean surface;

    @Option(names = "--nsd-tolerance", paramLabel = "T", defaultValue = "1",
            description = "NSD tolerance in physical units (with --surface; default: ${DEFAULT-VALUE}).")
    public double nsdTolerance;

    @Option(names = "--spacing", paramLabel = "SX,SY[,SZ]",
            description = "Voxel spacing x,y[,z] for --surface (overrides NIfTI's pixdim; default: the file's, else 1).")
    public String spacing;

    /** Checks --nsd-tolerance and parses --spacing (null when not given). */
    public double[] parsedSpacing() throws CommandSupport.UsageException {
        if (!(nsdTolerance >= 0) || Double.isInfinite(nsdTolerance)) {
            throw new CommandSupport.UsageException("--nsd-tolerance must be finite and >= 0, was " + nsdTolerance);
        }
        if (spacing == null) {
            return null;
        }
        String[] parts = spacing.split(",", -1);
        if (parts.length < 2 || parts.length > 3) {
            throw new CommandSupport.UsageException("--spacing must be sx,sy or sx,sy,sz, was " + spacing);
        }
        double[] out = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Double.parseDouble(parts[i].trim());
            } catch (NumberFormatException e) {
                out[i] = Double.NaN;
            }
            if (!(out[i] > 0) || Double.isInfinite(out[i])) {
                throw new CommandSupport.UsageException("--spacing values must be finite numbers > 0, was " + spacing);
            }
        }
        return out;
    }

    /** The layout of {@code --layout}, or null for auto. */
    public Layout parsedLayout() throws CommandSupport.UsageException {
        String l = layout.toLowerCase(Locale.ROOT);
        if (l.equals("auto")) {
            return null;
        }
        try {
            return Layout.parse(l);
        } catch (InvalidInputException e) {
            throw new CommandSupport.UsageException("--layout must be one of auto, nchw, nhwc, was " + layout);
        }
    }
}
