package org.segloss.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./segloss} wrapper, run against a stand-in {@code java} (a shell script that prints what
 * a JVM would): stderr passes through byte for byte and unbuffered (control bytes, progress updates
 * without a newline), only the JVM's incubator notice is dropped, the exit code is the JVM's, and
 * {@code --enable-native-access=ALL-UNNAMED} is passed to runtimes that know it.
 */
class WrapperTest {
    @TempDir
    Path dir;

    private static final String NOTICE = "WARNING: Using incubator modules: jdk.incubator.vector\n";

    /** A fake JAVA_HOME whose java prints its arguments on stdout and runs {@code body} for stderr. */
    private Path fakeJava(String javaVersion, String body) throws IOException {
        Path home = Files.createDirectories(dir.resolve("jdk-" + javaVersion));
        Path bin = Files.createDirectories(home.resolve("bin"));
        if (javaVersion != null) {
            Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + javaVersion + ".0.1\"\n");
        }
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\necho \"args: $*\"\n" + body + "\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return home;
    }

    private Process start(Path javaHome) throws IOException {
        Path jar = Files.writeString(dir.resolve("fake.jar"), "not used by the fake java");
        ProcessBuilder pb = new ProcessBuilder("bash", Paths.get("segloss").toAbsolutePath().toString(), "info");
        pb.environment().put("JAVA_HOME", javaHome.toString());
        pb.environment().put("SEGLOSS_JAR", jar.toString());
        pb.environment().remove("SEGLOSS_JAVA_OPTS");
        return pb.start();
    }

    @Test
    void stderrPassesThroughByteForByteWithoutTheIncubatorNoticeAndTheExitCodeIsTheJvms() throws Exception {
        Path home = fakeJava("25", "printf '" + NOTICE.replace("\n", "\\n") + "' >&2; printf 'error: bad \\001\\002\\033[1m name\\n' >&2; "
                + "printf '\\rscore  50%%' >&2; exit 2");
        Process p = start(home);
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertEquals(2, p.waitFor());
        assertArrayEquals("error: bad \u0001\u0002\u001b[1m name\n\rscore  50%".getBytes(StandardCharsets.ISO_8859_1), err,
                new String(err, StandardCharsets.ISO_8859_1));
        String args = new String(out, StandardCharsets.UTF_8);
        assertTrue(args.contains("--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"), args);
        assertTrue(args.contains("-jar " + dir.resolve("fake.jar") + " info"), args);
    }

    @Test
    void anyOtherFirstLineIsKept() throws Exception {
        Path home = fakeJava("17", "printf 'WARNING: something else\\nerror: x\\n' >&2; exit 1");
        Process p = start(home);
        p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(1, p.waitFor());
        assertEquals("WARNING: something else\nerror: x\n", err);
    }

    @Test
    void aProgressUpdateWithoutANewlineArrivesWhileTheJvmStillRuns() throws Exception {
        Path home = fakeJava("21", "printf '" + NOTICE.replace("\n", "\\n") + "\\rscore  10%%' >&2; sleep 3; exit 0");
        Process p = start(home);
        InputStream err = p.getErrorStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        byte[] buf = new byte[64];
        while (System.nanoTime() < deadline && !got.toString(StandardCharsets.UTF_8).contains("10%")) {
            if (err.available() > 0) {
                got.write(buf, 0, err.read(buf));
            } else {
                Thread.sleep(20);
            }
        }
        assertTrue(p.isAlive(), "the fake JVM is still running");
        assertEquals("\rscore  10%", got.toString(StandardCharsets.UTF_8), "the update came through before the JVM ended");
        assertEquals(0, p.waitFor());
    }

    @Test
    void aRuntimeWithoutAReleaseFileGetsNoNativeAccessFlag() throws Exception {
        Path home = fakeJava(null, "exit 0");
        Process p = start(home);
        String args = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor());
        assertFalse(args.contains("--enable-native-access"), args);
    }
}
