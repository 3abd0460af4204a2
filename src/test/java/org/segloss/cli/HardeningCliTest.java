package org.segloss.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.segloss.io.NpyFixtures;

/**
 * Bad input at the command line: files that are not files, headers that do not fit the heap or each
 * other, overflowing sizes, values outside the float range; each one {@code error:} line and exit 2,
 * decided before any data is read. Some cases run the CLI in a child JVM with a small heap, so the
 * figures do not depend on this machine's memory.
 */
class HardeningCliTest {
    @TempDir
    Path dir;

    private String f4(String name, long[] shape, float... v) throws IOException {
        return NpyFixtures.write(dir.resolve(name), "<f4", shape, NpyFixtures.f4(v)).toString();
    }

    /** A float32 .npy of {@code shape} whose data is a hole (sparse file): huge on paper, nothing on disk. */
    private Path sparse(String name, long... shape) throws IOException {
        Path f = NpyFixtures.write(dir.resolve(name), "<f4", shape, new byte[0]);
        long elements = 1;
        for (long d : shape) {
            elements *= d;
        }
        long headerBytes = Files.size(f);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(headerBytes + 4 * elements);
        }
        return f;
    }

    private static String[] loss(String pred, String target, String... more) {
        List<String> a = new ArrayList<>(List.of("loss", "--loss", "dice", "--mode", "binary", "--pred", pred, "--target", target));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    @Test
    void aFifoADeviceOrADirectoryAsPredOrTargetIsRefusedAtOnce() throws Exception {
        String ok = f4("ok.npy", new long[] {1, 1, 2}, 0.5f, 0.5f);
        Path fifo = dir.resolve("fifo.npy");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assumeTrue(mk.waitFor() == 0, "mkfifo is not available here");
        long t0 = System.nanoTime();
        Cli.run(loss(fifo.toString(), ok)).assertUsageError("--pred", "fifo.npy", "not a regular file", "FIFO");
        Cli.run(loss(ok, fifo.toString())).assertUsageError("--target", "fifo.npy", "not a regular file");
        Cli.run(loss("/dev/zero", ok)).assertUsageError("--pred", "/dev/zero", "not a regular file");
        Cli.run(loss(ok, dir.toString())).assertUsageError("--target", "is a directory");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "refused at once, never a hang");
    }

    @Test
    void missingFilesAndDirectoriesAreNamedWithTheSystemsReason() throws Exception {
        String ok = f4("ok.npy", new long[] {1, 1, 2}, 0.5f, 0.5f);
        Cli.run(loss(dir.resolve("none.npy").toString(), ok)).assertUsageError("--pred", "none.npy", "no such file or directory");
        String into = dir.resolve("no/such/dir/g.npy").toString();
        Cli.run(loss(ok, ok, "--grad-out", into)).assertUsageError("--grad-out", into, "no such file or directory");
    }

    @Test
    void aWrongShapedTargetNextToAHugePredIsRefusedFromTheHeadersWithoutReadingData() throws Exception {
        // 4 GiB of pred on paper (a sparse file), a target of the wrong shape: refused before any data is read
        Path pred = sparse("huge.npy", 1, 1, 32768, 32768);
        String target = f4("small.npy", new long[] {1, 1, 2}, 0, 1);
        long t0 = System.nanoTime();
        Cli.run(loss(pred.toString(), target)).assertUsageError("--target", "small.npy", "[1, 1, 2]", "[1, 1, 32768, 32768]");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "decided from the headers");
    }

    @Test
    void inputsThatDoNotFitTheHeapAreRefusedWithTheNeedAndHowToRaiseIt() throws Exception {
        Path pred = sparse("p.npy", 1, 1, 8192, 8192); // 256 MiB each on paper
        Path target = sparse("t.npy", 1, 1, 8192, 8192);
        Child r = child("-Xmx128m", "loss", "--loss", "dice", "--mode", "binary", "--pred", pred.toString(),
                "--target", target.toString(), "--grad-out", dir.resolve("g.npy").toString());
        assertEquals(2, r.code, r.toString());
        assertTrue(r.err.startsWith("error: --pred ") && r.err.contains("needs 0.75 GiB")
                && r.err.contains("raise -Xmx with SEGLOSS_JAVA_OPTS"), r.toString());
        assertEquals(1, r.err.strip().lines().count(), r.toString());
        assertFalse(r.err.contains("OutOfMemoryError"), r.toString());
    }

    @Test
    void float64ValuesOutsideTheFloatRangeAreReportedAsSuch() throws Exception {
        String pred = NpyFixtures.write(dir.resolve("p64.npy"), "<f8", new long[] {1, 1, 2}, NpyFixtures.f8(0.5, 1e300)).toString();
        String target = f4("t.npy", new long[] {1, 1, 2}, 0, 1);
        Cli.run(loss(pred, target, "--from-logits")).assertUsageError("--pred", "float64 value 1.0E300", "index 1",
                "outside the float32 range");
    }

    @Test
    void apiMessagesNameTheCliFlagsAndSayFiniteValues() throws Exception {
        String pred = f4("p.npy", new long[] {1, 1, 2}, 0.5f, Float.POSITIVE_INFINITY);
        String target = f4("t.npy", new long[] {1, 1, 2}, 0, 1);
        Cli.run(loss(pred, target, "--from-logits")).assertUsageError("--pred", "pred must hold finite values", "Infinity");
        String probs = f4("q.npy", new long[] {1, 1, 2}, 0.5f, 3f);
        Cli.run(loss(probs, target)).assertUsageError("--pred", "set --from-logits for logits");
    }

    @Test
    void benchShapesThatOverflowOrDoNotFitAreRefusedNamingTheShape() {
        Cli.run("bench", "--shape", "4294967296,4294967296,4").assertUsageError("--shape 4294967296,4294967296,4",
                "overflows 64 bits");
        Cli.run("bench", "--shape", "9223372036854775807,2").assertUsageError("--shape", "9223372036854775807");
        Cli.run("bench", "--shape", "99999999999999999999,2").assertUsageError("--shape", "99999999999999999999");
    }

    @Test
    void withoutAnOpenClLibraryCommandsPrintNoNativeLoaderNoiseAndInfoSaysWhy() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("no-opencl"));
        Child info = child("-Dsegloss.opencl.libraryDirs=" + empty, "info");
        assertEquals(0, info.code, info.toString());
        assertTrue(info.out.contains("opencl  not usable: no OpenCL library: libOpenCL.so.1 not found"), info.out);
        Child loss = child("-Dsegloss.opencl.libraryDirs=" + empty, "loss", "--loss", "dice", "--mode", "binary",
                "--pred", f4("p.npy", new long[] {1, 1, 2}, 0.5f, 0.5f), "--target", f4("t.npy", new long[] {1, 1, 2}, 0, 1),
                "--json");
        assertEquals(0, loss.code, loss.toString());
        assertEquals("", loss.err, "nothing on stderr");
        assertEquals("dice", new com.fasterxml.jackson.databind.ObjectMapper().readTree(loss.out).get("loss").asText(),
                "stdout is the JSON alone: " + loss.out);
        assertFalse(loss.out.contains("Could not load"), loss.out);
    }

    /**
     * The real thing where it can be arranged: the system's libOpenCL hidden (a bind mount in a private
     * mount namespace, root only), {@code info} and {@code loss} print nothing from the native loader.
     */
    @Test
    void withTheSystemsOpenClLibraryHiddenNoNativeLoaderNoiseAppears() throws Exception {
        Path lib = Paths.get("/usr/lib/x86_64-linux-gnu/libOpenCL.so.1");
        assumeTrue(Files.exists(lib), "no system libOpenCL.so.1 to hide");
        Process probe = new ProcessBuilder("unshare", "-m", "true").redirectErrorStream(true).start();
        assumeTrue(probe.waitFor() == 0, "unshare -m is not allowed here (needs root)");
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        String cmd = "mount --bind /dev/null " + lib.toRealPath() + " && exec " + java
                + " --add-modules jdk.incubator.vector -cp '" + System.getProperty("java.class.path") + "' "
                + Main.class.getName() + " info";
        Process p = new ProcessBuilder("unshare", "-m", "sh", "-c", cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out + err);
        assertFalse((out + err).contains("Could not load"), out + err);
        assertTrue(out.contains("opencl  not usable:"), out);
    }

    /** A finished child JVM running the CLI. */
    static final class Child {
        final int code;
        final String out;
        final String err;

        Child(int code, String out, String err) {
            this.code = code;
            this.out = out;
            this.err = err;
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** Runs {@code Main} in a child JVM: the JVM options first (those starting with -), then the arguments. */
    static Child child(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector"));
        int i = 0;
        while (i < args.length && args[i].startsWith("-")) {
            cmd.add(args[i++]);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        for (; i < args.length; i++) {
            cmd.add(args[i]);
        }
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8)
                .replace("WARNING: Using incubator modules: jdk.incubator.vector\n", "");
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished");
        return new Child(p.exitValue(), new String(out, StandardCharsets.UTF_8), err);
    }
}
