package org.segloss.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The kernels and Java agree by test: the generated header, and no hand-written copy of its numbers. */
class KernelHeaderTest {
    private static String read(String path) throws IOException {
        return new String(Files.readAllBytes(Path.of(path)), StandardCharsets.UTF_8);
    }

    @Test
    void theCheckedInHeaderIsWhatJavaGenerates() throws IOException {
        assertEquals(KernelHeader.text(), read("kernels-cl/segloss_gen.h"),
                "kernels-cl/segloss_gen.h is stale: java -cp target/classes org.segloss.backend.KernelHeader > kernels-cl/segloss_gen.h");
    }

    @Test
    void statSlotsFollowTheEnumOrder() {
        assertEquals(Stat.values().length, Problem.STATS);
        assertEquals(0, Stat.I.slot());
        for (Stat s : Stat.values()) {
            assertTrue(KernelHeader.text().contains("#define STAT_" + s.name() + " " + s.ordinal() + " "), s.name());
        }
    }

    @Test
    void noKernelSourceDefinesTheGeneratedNumbersItself() throws IOException {
        Pattern own = Pattern.compile("#define\\s+(STATS?|STAT_\\w+|TERM_\\w+|TARGET_\\w+)\\s");
        for (String file : new String[] {"kernels-cl/common.cl", "kernels-cl/stats.cl", "kernels-cl/grad.cl",
                "kernels-cl/confusion.cl", "kernels-cl/segloss_terms.h", "kernels-cu/segloss.cu"}) {
            Matcher m = own.matcher(read(file));
            assertTrue(!m.find(), file + " defines " + (m.hitEnd() ? "" : m.group(1)) + " itself instead of including segloss_gen.h");
        }
    }
}
