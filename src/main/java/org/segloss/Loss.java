package org.segloss;

import java.util.Locale;

/** The losses of the contract ({@code shared/spec/losses.md}). */
public enum Loss {
    /** Binary cross-entropy (log loss); binary and multilabel. */
    BCE("bce", true, false),
    /** 1 - mean Dice coefficient; every mode. */
    DICE("dice", false, true),
    /** 1 - mean Jaccard index; every mode. */
    IOU("iou", false, true),
    /** Focal loss; every mode (alpha only in binary/multilabel). */
    FOCAL("focal", true, false),
    /** 1 - mean Tversky index; every mode. */
    TVERSKY("tversky", false, true),
    /** bce - log(max(mean Dice, eps)); binary and multilabel. */
    BCE_LOGDICE("bce_logdice", true, true),
    /** Cross-entropy; multiclass. */
    CE("ce", true, false),
    /** ce - log(max(mean Dice, eps)); multiclass. */
    CE_LOGDICE("ce_logdice", true, true),
    /** 1 - generalized Dice (class weights from the target sums, MONAI GeneralizedDiceLoss); every mode. */
    GENERALIZED_DICE("generalized_dice", false, true),
    /** 1 - mean Matthews correlation coefficient (smp MCCLoss); every mode. */
    MCC("mcc", false, true),
    /** lambda_pixel (bce or ce) + lambda_region (1 - mean Dice) (MONAI DiceCELoss); every mode. */
    DICE_CE("dice_ce", true, true),
    /** lambda_pixel focal + lambda_region (1 - mean Dice) (MONAI DiceFocalLoss); every mode. */
    DICE_FOCAL("dice_focal", true, true),
    /** Lovasz hinge (binary, multilabel; from logits) or Lovasz-Softmax (multiclass), Berman et al. 2018. */
    LOVASZ("lovasz", false, false);

    private final String id;
    private final boolean pixelTerm;
    private final boolean regionTerm;

    Loss(String id, boolean pixelTerm, boolean regionTerm) {
        this.id = id;
        this.pixelTerm = pixelTerm;
        this.regionTerm = regionTerm;
    }

    /**
     * The name used by the command line and JSON output, e.g. {@code bce_logdice}.
     *
     * @return the lower-case name with underscores
     */
    public String id() {
        return id;
    }

    /**
     * True when the loss has a per-pixel term (bce, focal, ce; dice_ce: bce or ce by mode; dice_focal:
     * focal).
     *
     * @return whether {@link LossResult#pixelLoss()} can be non-zero
     */
    public boolean hasPixelTerm() {
        return pixelTerm;
    }

    /**
     * True when the loss has a region term (a Dice, IoU, Tversky, generalized Dice or MCC coefficient).
     *
     * @return whether {@link LossResult#meanCoefficient()} is defined
     */
    public boolean hasRegionTerm() {
        return regionTerm;
    }

    /**
     * True when this loss is defined for the given mode.
     *
     * @param mode the mode; null counts as not multiclass
     * @return false only for bce and bce_logdice in multiclass mode and for ce and ce_logdice outside it
     */
    public boolean supports(Mode mode) {
        switch (this) {
            case BCE:
            case BCE_LOGDICE:
                return mode != Mode.MULTICLASS;
            case CE:
            case CE_LOGDICE:
                return mode == Mode.MULTICLASS;
            default:
                return true;
        }
    }

    /**
     * Parses a loss name such as {@code dice} or {@code bce_logdice}.
     *
     * @param name a loss name such as {@code dice}, any case, hyphens read as underscores, surrounding blanks
     *     ignored; null is refused
     * @return the loss
     * @throws InvalidInputException when name is null or not a loss, naming the value and the losses
     */
    public static Loss parse(String name) {
        if (name != null) {
            String key = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
            for (Loss loss : values()) {
                if (loss.id.equals(key)) {
                    return loss;
                }
            }
        }
        throw new InvalidInputException("loss must be one of bce, dice, iou, focal, tversky, bce_logdice, ce, ce_logdice, generalized_dice, mcc,"
                + " dice_ce, dice_focal, lovasz, was " + name);
    }

    @Override
    public String toString() {
        return id;
    }
}
