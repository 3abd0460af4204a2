package org.segloss.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A default CPU backend loads nothing of the Vector API before its background warm-up starts (call
 * {@code warmupCall() + 1}): its first calls cost, and give, exactly what a scalar backend's do. Checked in a
 * fresh JVM ({@link ColdStartProbe}), since the test JVM has long loaded the vector kernels.
 */
class CpuColdStartTest {
    private static Map<String, String> facts;

    @BeforeAll
    static void runProbe() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-Dsegloss.quiet=true", "-cp", System.getProperty("java.class.path"), ColdStartProbe.class.getName()))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe did not end");
        assertEquals(0, p.exitValue(), out);
        facts = new HashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                facts.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
    }

    @Test
    void theFirstTenCallsRunAloneAndTheEleventhStartsTheWarmUp() {
        assertEquals("10", facts.get("aloneCalls"));
    }

    @Test
    void creatingAndDescribingADefaultEngineLoadsNoVectorKernels() {
        assertEquals("false", facts.get("loadedAfterCreate"), facts.toString());
        assertTrue(facts.get("device").contains("loaded at call 11"), facts.get("device"));
    }

    @Test
    void aDefaultEngineDescribesItsJavaThreadsKernelsAndScalarFirstCalls() {
        String expected = "Java " + Runtime.version().feature() + ", \\d+ threads, Vector API kernels \\(loaded at call 11\\), "
                + "scalar kernels for the first " + CpuBackend.DEFAULT_SCALAR_CALLS + " calls";
        assertTrue(facts.get("device").matches(expected), facts.get("device") + " must match " + expected);
    }

    @Test
    void theFirstTenCallsLoadNoVectorKernelsAndStartNoDirectiveOrWarmUpThread() {
        assertEquals("false", facts.get("loadedAfterAloneCalls"), facts.toString());
        assertEquals("false", facts.get("directivesThreadAfterAloneCalls"), facts.toString());
        assertEquals("false", facts.get("warmupThreadAfterAloneCalls"), facts.toString());
    }

    @Test
    void theFirstElevenCallsGiveTheScalarBackendsBits() {
        assertEquals("true", facts.get("sameBitsAsScalar"), facts.toString());
        assertEquals("true", facts.get("nextCallSameBitsAsScalar"), facts.toString());
    }

    @Test
    void theEleventhCallStartsTheWarmUpThreadWhichLoadsTheVectorKernels() {
        assertEquals("true", facts.get("warmupThreadAfterNextCall"), facts.toString());
        assertEquals("true", facts.get("loadedByTheWarmUp"), facts.toString());
    }
}
