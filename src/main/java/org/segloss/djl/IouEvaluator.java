package org.segloss.djl;

import org.segloss.LossSpec;

/**
 * Hard IoU (Jaccard) per class, {@code TP / (TP + FP + FN)}, and its mean over the classes where it is
 * defined, on 64-bit counts accumulated across batches. The spec gives the mode, from_logits, layout and
 * ignore index.
 */
public final class IouEvaluator extends CountingEvaluator {
    /**
     * Named {@code "iou"}, threshold 0.5.
     *
     * @param spec the loss spec whose mode, from_logits, layout and ignore index the counts use (its loss and
     *     other options are not used); not null
     * @throws org.segloss.InvalidInputException when spec is null
     */
    public IouEvaluator(LossSpec spec) {
        this("iou", spec, 0.5);
    }

    /**
     * An evaluator with its own name and threshold.
     *
     * @param name the name DJL shows in its training logs and metrics
     * @param spec the loss spec whose mode, from_logits, layout and ignore index the counts use; not null
     * @param threshold binary and multilabel: the probability in [0, 1] at and above which a pixel counts as
     *     positive (from logits: the logit of it); not used in multiclass mode
     * @throws org.segloss.InvalidInputException when spec is null or threshold is outside [0, 1] or NaN
     */
    public IouEvaluator(String name, LossSpec spec, double threshold) {
        super(name, spec, threshold, Metric.IOU);
    }
}
