package org.segloss.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Runs a tool of the machine (gcc, nvcc, ptxas, a child JVM) for the CUDA tests that need no GPU. */
final class ToolRun {
    private ToolRun() {
    }

    /**
     * Runs {@code cmd} with {@code env} added to this process's environment and returns its output (stdout and
     * stderr). Skips the calling test, with {@code absent} and the error, when the command cannot start; fails
     * when it runs longer than 5 minutes or exits non-zero.
     */
    static String run(List<String> cmd, Map<String, String> env, String absent) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            Assumptions.abort(cmd.get(0) + " " + absent + ": " + e.getMessage());
            throw e;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), String.join(" ", cmd) + " did not finish:\n" + out);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
        return out;
    }
}
