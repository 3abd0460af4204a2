package org.segloss;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.segloss.backend.Dispatcher;
import org.segloss.backend.Probe;

/**
 * Opens a backend for a test, or skips the test with the reason when the backend is absent. When
 * the environment says the backend must be there ({@code -Dsegloss.requireOpencl=true} or
 * {@code SEGLOSS_REQUIRE_OPENCL=1}; likewise {@code requireCuda} / {@code SEGLOSS_REQUIRE_CUDA}),
 * an absent backend fails the test instead.
 */
public final class TestBackends {
    private TestBackends() {
    }

    /** True when the environment requires {@code backend} to be present. */
    public static boolean required(String backend) {
        String cap = Character.toUpperCase(backend.charAt(0)) + backend.substring(1);
        String prop = System.getProperty("segloss.require" + cap, "");
        String env = System.getenv("SEGLOSS_REQUIRE_" + backend.toUpperCase(Locale.ROOT));
        return Boolean.parseBoolean(prop) || "1".equals(env) || "true".equalsIgnoreCase(env);
    }

    /** Opens an engine on {@code backend}, or skips (fails when required) with the probe's reason. */
    public static LossEngine openOrSkip(String backend) {
        Probe probe = Dispatcher.probe(backend, false);
        if (!probe.usable()) {
            String why = backend + " backend absent: " + probe.reason();
            if (required(backend)) {
                fail(why + " (required by the environment)");
            }
            Assumptions.abort(why);
        }
        return LossEngine.create(backend);
    }
}
