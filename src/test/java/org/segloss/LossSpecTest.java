package org.segloss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link LossSpec} alone, no backend: the defaults and accessors of the options of the MONAI / smp catalogue
 * ({@code shared/spec/losses.md}, "More region losses and options" and "More pixel options"), and every refusal
 * that the spec object decides by itself, with its exact message, at {@code build()} time.
 */
class LossSpecTest {
    private static LossSpec.Builder spec(Loss loss, Mode mode) {
        return LossSpec.builder(loss, mode);
    }

    // ---- defaults -----------------------------------------------------------------------------------

    @Test
    void generalizedDiceSmoothsWith1e5InNumeratorAndDenominatorByDefault() {
        LossSpec s = LossSpec.of(Loss.GENERALIZED_DICE, Mode.MULTICLASS);
        assertEquals(1e-5, s.smoothNr(), 0);
        assertEquals(1e-5, s.smoothDr(), 0);
        assertEquals(1e-5, s.smooth(), 0);
        assertEquals(GdWeight.SQUARE, s.gdWeight());
    }

    @Test
    void mccSmoothsWith1e5ByDefault() {
        LossSpec s = LossSpec.of(Loss.MCC, Mode.BINARY);
        assertEquals(1e-5, s.smooth(), 0);
        assertEquals(1e-5, s.smoothNr(), 0);
        assertEquals(1e-5, s.smoothDr(), 0);
    }

    @Test
    void theOtherRegionLossesSmoothWith1ByDefault() {
        for (Loss loss : new Loss[] {Loss.DICE, Loss.IOU, Loss.TVERSKY, Loss.BCE_LOGDICE, Loss.DICE_CE, Loss.DICE_FOCAL}) {
            LossSpec s = LossSpec.of(loss, Mode.BINARY);
            assertEquals(1.0, s.smoothNr(), 0, loss.id());
            assertEquals(1.0, s.smoothDr(), 0, loss.id());
        }
    }

    @Test
    void smoothSetsBothNumeratorAndDenominator() {
        LossSpec s = spec(Loss.GENERALIZED_DICE, Mode.BINARY).smooth(0.25).build();
        assertEquals(0.25, s.smoothNr(), 0);
        assertEquals(0.25, s.smoothDr(), 0);
    }

    @Test
    void smoothNrAndSmoothDrAreSeparateAndSmoothIsNaNWhenTheyDiffer() {
        LossSpec s = spec(Loss.DICE, Mode.BINARY).smoothNr(0).smoothDr(1e-3).build();
        assertEquals(0.0, s.smoothNr(), 0);
        assertEquals(1e-3, s.smoothDr(), 0);
        assertTrue(Double.isNaN(s.smooth()));
        LossSpec onlyNr = spec(Loss.TVERSKY, Mode.BINARY).smoothNr(0.5).build();
        assertEquals(0.5, onlyNr.smoothNr(), 0);
        assertEquals(1.0, onlyNr.smoothDr(), 0, "the denominator keeps the loss's default");
        LossSpec gd = spec(Loss.GENERALIZED_DICE, Mode.BINARY).smoothDr(0).build();
        assertEquals(1e-5, gd.smoothNr(), 0);
        assertEquals(0.0, gd.smoothDr(), 0);
    }

    @Test
    void tverskyGammaDefaultsTo1AndFocalGammaTo2() {
        assertEquals(1.0, LossSpec.of(Loss.TVERSKY, Mode.BINARY).gamma(), 0);
        assertEquals(2.0, LossSpec.of(Loss.FOCAL, Mode.BINARY).gamma(), 0);
        assertEquals(2.0, LossSpec.of(Loss.DICE_FOCAL, Mode.MULTICLASS).gamma(), 0);
        assertEquals(0.75, spec(Loss.TVERSKY, Mode.BINARY).gamma(0.75).build().gamma(), 0);
    }

    @Test
    void diceFocalUsesTheFocalAlphaAndTverskyItsOwn() {
        assertEquals(0.25, LossSpec.of(Loss.DICE_FOCAL, Mode.BINARY).alpha(), 0);
        assertTrue(spec(Loss.DICE_FOCAL, Mode.BINARY).alphaNone().build().alphaNone());
        assertEquals(0.5, LossSpec.of(Loss.TVERSKY, Mode.BINARY).alpha(), 0);
    }

    @Test
    void theNewOptionsAreOffByDefault() {
        LossSpec s = LossSpec.of(Loss.DICE_CE, Mode.MULTILABEL);
        assertFalse(s.squaredPred());
        assertFalse(s.logLoss());
        assertEquals(1.0, s.lambdaPixel(), 0);
        assertEquals(1.0, s.lambdaRegion(), 0);
        assertEquals(0.0, s.labelSmoothing(), 0);
        assertNull(s.posWeight());
        assertEquals(GdWeight.SQUARE, s.gdWeight());
    }

    @Test
    void accessorsReturnWhatWasGivenAndCopies() {
        double[] pw = {1, 3};
        LossSpec s = spec(Loss.DICE_CE, Mode.MULTILABEL).squaredPred(true).lambdaPixel(0.25).lambdaRegion(2)
                .labelSmoothing(0.1).posWeight(pw).ignoreIndex(255).smoothNr(0).smoothDr(2).build();
        pw[0] = 7;
        assertTrue(s.squaredPred());
        assertEquals(0.25, s.lambdaPixel(), 0);
        assertEquals(2.0, s.lambdaRegion(), 0);
        assertEquals(0.1, s.labelSmoothing(), 0);
        assertArrayEquals(new double[] {1, 3}, s.posWeight(), "the spec keeps its own copy");
        s.posWeight()[1] = 9;
        assertArrayEquals(new double[] {1, 3}, s.posWeight(), "the accessor returns a copy");
        assertEquals(255, s.ignoreIndex());
        assertTrue(spec(Loss.IOU, Mode.BINARY).logLoss(true).build().logLoss());
        assertEquals(GdWeight.UNIFORM, spec(Loss.GENERALIZED_DICE, Mode.BINARY).gdWeight(GdWeight.UNIFORM).build().gdWeight());
    }

    @Test
    void ignoreIndexIsAcceptedInBinaryAndMultilabelMode() {
        assertEquals(255, spec(Loss.BCE, Mode.BINARY).ignoreIndex(255).build().ignoreIndex());
        assertEquals(-1, spec(Loss.DICE, Mode.MULTILABEL).ignoreIndex(-1).build().ignoreIndex());
    }

    @Test
    void classWeightsAreAcceptedForFocalInEveryMode() {
        for (Mode mode : Mode.values()) {
            assertArrayEquals(new double[] {1, 2}, spec(Loss.FOCAL, mode).classWeights(1, 2).build().classWeights());
        }
    }

    @Test
    void everyNewLossIsDefinedInEveryMode() {
        for (Loss loss : new Loss[] {Loss.GENERALIZED_DICE, Loss.MCC, Loss.DICE_CE, Loss.DICE_FOCAL}) {
            assertTrue(loss.hasRegionTerm(), loss.id());
            for (Mode mode : Mode.values()) {
                assertTrue(loss.supports(mode), loss.id() + " " + mode);
            }
        }
        assertTrue(Loss.DICE_CE.hasPixelTerm());
        assertTrue(Loss.DICE_FOCAL.hasPixelTerm());
        assertFalse(Loss.GENERALIZED_DICE.hasPixelTerm());
        assertFalse(Loss.MCC.hasPixelTerm());
    }

    @Test
    void theNewNamesParse() {
        assertEquals(Loss.GENERALIZED_DICE, Loss.parse("generalized_dice"));
        assertEquals(Loss.MCC, Loss.parse("MCC"));
        assertEquals(Loss.DICE_CE, Loss.parse("dice-ce"));
        assertEquals(Loss.DICE_FOCAL, Loss.parse("dice_focal"));
        assertEquals(GdWeight.SIMPLE, GdWeight.parse(" Simple "));
        assertEquals("simple", GdWeight.SIMPLE.id());
    }

    @Test
    void toBuilderRebuildsAnEqualSpec() {
        LossSpec[] specs = {
            spec(Loss.DICE_CE, Mode.BINARY).fromLogits(true).smoothNr(0).smoothDr(0.5).squaredPred(true)
                    .lambdaPixel(0.5).lambdaRegion(1.5).labelSmoothing(0.2).posWeight(2).ignoreIndex(255).build(),
            spec(Loss.GENERALIZED_DICE, Mode.MULTICLASS).gdWeight(GdWeight.SIMPLE).includeBackground(false).batch(true).build(),
            spec(Loss.TVERSKY, Mode.MULTILABEL).alpha(0.3).beta(0.7).gamma(0.75).logLoss(true).smooth(0.1).build(),
            spec(Loss.DICE_FOCAL, Mode.MULTICLASS).gamma(1.5).classWeights(1, 2, 3).lambdaRegion(0).build(),
            spec(Loss.MCC, Mode.BINARY).smooth(0.01).build(),
        };
        for (LossSpec s : specs) {
            assertEquals(s.toString(), s.toBuilder().build().toString());
        }
    }

    // ---- refusals -----------------------------------------------------------------------------------

    /** A spec that build() refuses, and the exact message. */
    record Refused(String name, Supplier<LossSpec> build, String message) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Refused> refusals() {
        return Stream.of(
            new Refused("smooth together with smooth_nr", () -> spec(Loss.DICE, Mode.BINARY).smooth(1).smoothNr(0.5).build(),
                    "smooth and smooth_nr must not be given together (smooth sets both smooth_nr and smooth_dr), was smooth 1.0 and smooth_nr 0.5"),
            new Refused("smooth together with smooth_dr", () -> spec(Loss.GENERALIZED_DICE, Mode.BINARY).smoothDr(0).smooth(0).build(),
                    "smooth and smooth_dr must not be given together (smooth sets both smooth_nr and smooth_dr), was smooth 0.0 and smooth_dr 0.0"),
            new Refused("a negative smooth_nr", () -> spec(Loss.DICE, Mode.BINARY).smoothNr(-1e-5).build(),
                    "smooth_nr must be >= 0 and finite, was -1.0E-5"),
            new Refused("a negative smooth_dr", () -> spec(Loss.IOU, Mode.MULTICLASS).smoothDr(-2).build(),
                    "smooth_dr must be >= 0 and finite, was -2.0"),
            new Refused("an infinite smooth_dr", () -> spec(Loss.IOU, Mode.BINARY).smoothDr(Double.POSITIVE_INFINITY).build(),
                    "smooth_dr must be >= 0 and finite, was Infinity"),
            new Refused("a negative smooth for generalized_dice", () -> spec(Loss.GENERALIZED_DICE, Mode.BINARY).smooth(-1).build(),
                    "smooth must be >= 0 and finite, was -1.0"),
            new Refused("a negative smooth for mcc", () -> spec(Loss.MCC, Mode.BINARY).smooth(-0.5).build(),
                    "smooth must be >= 0 and finite, was -0.5"),
            new Refused("smooth_nr for mcc", () -> spec(Loss.MCC, Mode.BINARY).smoothNr(0.1).build(),
                    "smooth_nr does not apply to mcc (its smoothing is smooth), was 0.1"),
            new Refused("smooth_dr for mcc", () -> spec(Loss.MCC, Mode.MULTICLASS).smoothDr(0.1).build(),
                    "smooth_dr does not apply to mcc (its smoothing is smooth), was 0.1"),
            new Refused("smooth_nr for bce", () -> spec(Loss.BCE, Mode.BINARY).smoothNr(0.1).build(),
                    "smooth_nr applies to dice, iou, tversky, generalized_dice, bce_logdice, ce_logdice, dice_ce, dice_focal only, was 0.1 for bce"),
            new Refused("label_smoothing 1.5", () -> spec(Loss.BCE, Mode.BINARY).labelSmoothing(1.5).build(),
                    "label_smoothing must be in [0, 1), was 1.5"),
            new Refused("label_smoothing 1", () -> spec(Loss.CE, Mode.MULTICLASS).labelSmoothing(1).build(),
                    "label_smoothing must be in [0, 1), was 1.0"),
            new Refused("a negative label_smoothing", () -> spec(Loss.DICE_CE, Mode.MULTICLASS).labelSmoothing(-0.1).build(),
                    "label_smoothing must be in [0, 1), was -0.1"),
            new Refused("a NaN label_smoothing", () -> spec(Loss.CE, Mode.MULTICLASS).labelSmoothing(Double.NaN).build(),
                    "label_smoothing must be in [0, 1), was NaN"),
            new Refused("label_smoothing for focal", () -> spec(Loss.FOCAL, Mode.BINARY).labelSmoothing(0.1).build(),
                    "label_smoothing applies to bce, ce, bce_logdice, ce_logdice, dice_ce only, was 0.1 for focal"),
            new Refused("label_smoothing for dice_focal", () -> spec(Loss.DICE_FOCAL, Mode.MULTICLASS).labelSmoothing(0.1).build(),
                    "label_smoothing applies to bce, ce, bce_logdice, ce_logdice, dice_ce only, was 0.1 for dice_focal"),
            new Refused("a negative pos_weight", () -> spec(Loss.BCE, Mode.MULTILABEL).posWeight(1, -1).build(),
                    "pos_weight[1] must be >= 0 and finite, was -1.0"),
            new Refused("a NaN pos_weight", () -> spec(Loss.BCE, Mode.BINARY).posWeight(Double.NaN).build(),
                    "pos_weight[0] must be >= 0 and finite, was NaN"),
            new Refused("an empty pos_weight", () -> spec(Loss.BCE, Mode.BINARY).posWeight().build(),
                    "pos_weight must have one weight per class, was empty"),
            new Refused("pos_weight for dice", () -> spec(Loss.DICE, Mode.BINARY).posWeight(2).build(),
                    "pos_weight applies to bce, bce_logdice, dice_ce only, was [2.0] for dice"),
            new Refused("pos_weight for dice_ce in multiclass mode", () -> spec(Loss.DICE_CE, Mode.MULTICLASS).posWeight(1, 2).build(),
                    "pos_weight applies to the bce term of binary and multilabel mode, was [1.0, 2.0] in multiclass mode"),
            new Refused("class_weights for generalized_dice", () -> spec(Loss.GENERALIZED_DICE, Mode.MULTICLASS).classWeights(1, 2).build(),
                    "class_weights do not apply to generalized_dice (its class weights come from gd_weight), was [1.0, 2.0]"),
            new Refused("a negative lambda_pixel", () -> spec(Loss.DICE_CE, Mode.BINARY).lambdaPixel(-1).build(),
                    "lambda_pixel must be >= 0 and finite, was -1.0"),
            new Refused("a negative lambda_region", () -> spec(Loss.DICE_FOCAL, Mode.BINARY).lambdaRegion(-0.5).build(),
                    "lambda_region must be >= 0 and finite, was -0.5"),
            new Refused("both lambdas 0", () -> spec(Loss.BCE_LOGDICE, Mode.BINARY).lambdaPixel(0).lambdaRegion(0).build(),
                    "lambda_pixel and lambda_region must not both be 0, was 0.0 and 0.0"),
            new Refused("lambda_pixel for dice", () -> spec(Loss.DICE, Mode.BINARY).lambdaPixel(0.5).build(),
                    "lambda_pixel applies to bce_logdice, ce_logdice, dice_ce, dice_focal only, was 0.5 for dice"),
            new Refused("lambda_region for generalized_dice", () -> spec(Loss.GENERALIZED_DICE, Mode.BINARY).lambdaRegion(2).build(),
                    "lambda_region applies to bce_logdice, ce_logdice, dice_ce, dice_focal only, was 2.0 for generalized_dice"),
            new Refused("tversky gamma 0", () -> spec(Loss.TVERSKY, Mode.BINARY).gamma(0).build(),
                    "gamma must be > 0 and finite for tversky, was 0.0"),
            new Refused("a negative tversky gamma", () -> spec(Loss.TVERSKY, Mode.MULTICLASS).gamma(-1).build(),
                    "gamma must be > 0 and finite for tversky, was -1.0"),
            new Refused("a negative dice_focal gamma", () -> spec(Loss.DICE_FOCAL, Mode.BINARY).gamma(-1).build(),
                    "gamma must be >= 0 and finite, was -1.0"),
            new Refused("gamma for dice", () -> spec(Loss.DICE, Mode.BINARY).gamma(2).build(),
                    "gamma applies to focal, dice_focal, tversky only, was 2.0 for dice"),
            new Refused("an unknown gd_weight", () -> spec(Loss.GENERALIZED_DICE, Mode.BINARY).gdWeight(GdWeight.parse("cubic")).build(),
                    "gd_weight must be one of square, simple, uniform, was cubic"),
            new Refused("a null gd_weight", () -> spec(Loss.GENERALIZED_DICE, Mode.BINARY).gdWeight(null).build(),
                    "gd_weight must be one of square, simple, uniform, was null"),
            new Refused("gd_weight for dice", () -> spec(Loss.DICE, Mode.BINARY).gdWeight(GdWeight.SIMPLE).build(),
                    "gd_weight applies to generalized_dice only, was simple for dice"),
            new Refused("squared_pred for tversky", () -> spec(Loss.TVERSKY, Mode.BINARY).squaredPred(true).build(),
                    "squared_pred applies to dice, iou, generalized_dice, bce_logdice, ce_logdice, dice_ce, dice_focal only, was true for tversky"),
            new Refused("squared_pred for mcc", () -> spec(Loss.MCC, Mode.BINARY).squaredPred(true).build(),
                    "squared_pred applies to dice, iou, generalized_dice, bce_logdice, ce_logdice, dice_ce, dice_focal only, was true for mcc"),
            new Refused("log_loss for generalized_dice", () -> spec(Loss.GENERALIZED_DICE, Mode.BINARY).logLoss(true).build(),
                    "log_loss applies to dice, iou, tversky only, was true for generalized_dice"),
            new Refused("log_loss for dice_ce", () -> spec(Loss.DICE_CE, Mode.BINARY).logLoss(true).build(),
                    "log_loss applies to dice, iou, tversky only, was true for dice_ce"),
            new Refused("an unknown loss name", () -> LossSpec.of(Loss.parse("dice_bce"), Mode.BINARY),
                    "loss must be one of bce, dice, iou, focal, tversky, bce_logdice, ce, ce_logdice, generalized_dice, mcc,"
                            + " dice_ce, dice_focal, was dice_bce"));
    }

    @ParameterizedTest(name = "{0} is refused when the spec is built")
    @MethodSource("refusals")
    void refusedOptionsThrowAMessageNamingTheOptionAndTheValue(Refused r) {
        InvalidInputException e = assertThrows(InvalidInputException.class, r.build::get, r.name);
        assertEquals(r.message, e.getMessage(), r.name);
    }
}
