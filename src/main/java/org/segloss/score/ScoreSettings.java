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
