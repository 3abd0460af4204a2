package org.segloss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The test reference ({@link Reference}) itself, no backend: it reproduces the peer libraries' published values
 * ({@link PeerCases}), and its analytic gradient agrees with central finite differences of its value.
 */
class ReferenceTest {
    static List<PeerCases.Peer> peers() {
        return PeerCases.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("peers")
    void theReferenceReproducesThePeerLibrarysValue(PeerCases.Peer peer) {
        double actual = peer.input().referenceValue();
        assertTrue(Math.abs(actual - peer.expected()) <= peer.tolerance(),
                peer + ": reference " + actual + ", peer " + peer.expected() + ", allowed " + peer.tolerance());
        if (peer.grad() != null) {
            LossCase c = peer.input();
            double[] g = Reference.analyticGradient(c.spec, c.predValues(), c.shape, c.targetValues());
            for (int i = 0; i < g.length; i++) {
                assertEquals(peer.grad()[i], g[i], 1e-6, peer + ": gradient element " + i);
            }
        }
    }

    /** Every catalogue case, and every third case of the first catalogue's random table. */
    static Stream<LossCase> gradientCases() {
        List<LossCase> first = RandomCases.all();
        return Stream.concat(CatalogueCases.all().stream(),
                IntStream.range(0, first.size()).filter(i -> i % 3 == 0).mapToObj(first::get));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gradientCases")
    void theAnalyticGradientAgreesWithFiniteDifferencesOfTheValue(LossCase c) {
        double[] analytic = Reference.analyticGradient(c.spec, c.predValues(), c.shape, c.targetValues());
        double[] numeric = c.referenceGradient();
        assertEquals(numeric.length, analytic.length);
        double scale = 0;
        for (double v : numeric) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < numeric.length; i++) {
            // central differences in double: error ~ h^2 f''' + 1e-16 |f| / h, well below 1e-6 of the largest element
            if (!(Math.abs(analytic[i] - numeric[i]) <= 1e-6 * scale + 1e-9)) {
                fail(c.name + ": element " + i + " analytic " + analytic[i] + " vs finite differences " + numeric[i]
                        + " (max |grad| " + scale + ")");
            }
        }
    }
}
