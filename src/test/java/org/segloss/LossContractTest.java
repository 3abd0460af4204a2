package org.segloss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The contract of {@code shared/spec/losses.md}, run against every backend: one subclass per
 * backend supplies the engine. Expected values come from {@link Reference} (an independent
 * double-precision implementation in the tests) or from hand computation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class LossContractTest {
    protected LossEngine engine;

    /** Opens the engine under test (skip with a reason when the backend is absent, see {@link TestBackends}). */
    protected abstract LossEngine createEngine();

    @BeforeAll
    void openEngine() {
        engine = createEngine();
    }

    @AfterAll
    void closeEngine() {
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void diceOfAHandComputedBinaryCaseIsOneSixth() {
        // I = 0.9 + 0.6 = 1.5, P = 1.8, T = 2: D = (3 + 1) / (3.8 + 1) = 5/6
        float[] p = {0.9f, 0.2f, 0.6f, 0.1f};
        float[] t = {1, 0, 1, 0};
        LossResult r = engine.forward(LossSpec.of(Loss.DICE, Mode.BINARY), p, new long[] {1, 1, 4}, t);
        assertEquals(1.0 / 6.0, r.value(), 1e-6);
    }
}
