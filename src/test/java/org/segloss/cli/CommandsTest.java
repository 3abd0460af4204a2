package org.segloss.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.segloss.BackendException;
import org.segloss.CommandRun;
import org.segloss.backend.Dispatcher;
import picocli.CommandLine.Command;

/** {@code segloss} alone, {@code info}, {@code bench}, {@code demo}, and the error handlers. */
class CommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void noArgumentsIsAUsageErrorThatPrintsTheUsageWithEveryCommandOnStderr() {
        CommandRun r = Cli.run();
        assertEquals(2, r.code, r.toString());
        assertEquals("", r.out);
        for (String command : new String[] {"info", "loss", "bench", "demo", "score", "merge"}) {
            assertTrue(r.err.contains("  " + command + " "), command + " in:\n" + r.err);
        }
    }

    @Test
    void versionAndHelp() {
        assertTrue(Cli.run("--version").assertOk().out.startsWith("segloss "));
        assertTrue(Cli.run("loss", "--help").assertOk().out.contains("--grad-out"));
        Cli.run("frobnicate").assertUsageError("frobnicate");
    }

    @Test
    void everyCommandsHelpIsPrintedWithoutPicocliFormatWarnings() {
        // picocli passes help texts through String.format: a lone % (as in "%copy" or "2%") makes it print a
        // "[picocli WARN] Could not format" line on stderr and fall back to the raw text
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        List<String> helps = new ArrayList<>();
        System.setErr(new java.io.PrintStream(err, true));
        try {
            picocli.CommandLine root = Main.commandLine(new java.io.PrintWriter(java.io.Writer.nullWriter()),
                    new java.io.PrintWriter(java.io.Writer.nullWriter()));
            helps.add(root.getUsageMessage());
            for (picocli.CommandLine sub : root.getSubcommands().values()) {
                helps.add(sub.getUsageMessage());
            }
        } finally {
            System.setErr(saved);
        }
        assertEquals("", err.toString(), "stderr while printing every command's help");
        assertTrue(helps.stream().anyMatch(h -> h.contains("%copy: that over")), "bench's help names the %copy column");
    }

    @Test
    void infoJsonListsEveryBackendWithTheAutoChoice() throws IOException {
        JsonNode o = JSON.readTree(Cli.run("info", "--json").assertOk().out);
        assertEquals(Dispatcher.autoChoice(), o.get("auto").asText());
        assertTrue(o.get("vector_api").isBoolean());
        assertTrue(o.get("java").asText().startsWith(String.valueOf(Runtime.version().feature())));
        List<String> names = new ArrayList<>();
        for (JsonNode b : o.get("backends")) {
            names.add(b.get("name").asText());
            for (String view : new String[] {"auto", "explicit"}) {
                JsonNode p = b.get(view);
                assertTrue(p.get("usable").isBoolean(), b.toString());
                assertTrue(p.get("usable").asBoolean() ? !p.get("device").asText().isEmpty()
                        : !p.get("reason").asText().isEmpty(), "device when usable, reason when not: " + b);
                assertTrue(p.get("details").isArray());
            }
            assertEquals(b.get("name").asText().equals(o.get("auto").asText()), b.get("auto_pick").asBoolean());
        }
        assertEquals(Dispatcher.BACKENDS, names);
        JsonNode cpu = o.get("backends").get(2);
        assertTrue(cpu.get("explicit").get("usable").asBoolean(), "the cpu backend is always usable");
    }

    @Test
    void infoTextNamesEveryBackendAndWhyNot() {
        CommandRun r = Cli.run("info").assertOk();
        for (String name : Dispatcher.BACKENDS) {
            assertTrue(r.out.contains("\n" + name), name + " in:\n" + r.out);
            String line = r.out.lines().filter(l -> l.startsWith(name + " ")).findFirst().orElse("");
            if (!Dispatcher.probe(name, false).usable()) {
                assertTrue(line.contains("not usable: " + Dispatcher.probe(name, false).reason()),
                        "the reason on the backend's own line: " + line + " in:\n" + r.out);
            } else {
                assertTrue(line.contains("usable, "), line);
            }
        }
        assertTrue(r.out.contains("auto picks  " + Dispatcher.autoChoice()), r.out);
        assertTrue(r.out.contains("Vector API"), r.out);
    }

    @Test
    void benchJsonHasOneRowPerLossModeAndPass() throws IOException {
        CommandRun r = Cli.run("bench", "--backend", "cpu", "--shape", "2,3,16,16", "--losses", "dice,ce", "--repeat", "3",
                "--warmup", "0", "--warmup-seconds", "0", "--json").assertOk();
        JsonNode rows = JSON.readTree(r.out);
        Set<String> seen = new HashSet<>();
        for (JsonNode row : rows) {
            assertEquals("cpu", row.get("backend").asText());
            assertEquals(2 * 3 * 16 * 16, row.get("elements").asLong());
            double ms = row.get("ms").asDouble();
            double floor = row.get("floor_ms").asDouble();
            double computeFloor = row.get("compute_floor_ms").asDouble();
            assertTrue(ms > 0 && floor > 0 && computeFloor > 0, row.toString());
            double ratio = ms / Math.max(floor, computeFloor);
            assertEquals(ratio, row.get("ratio").asDouble(), 1e-9 * ratio);
            assertTrue(row.get("runs").asInt() >= 1 && row.get("runs").asInt() <= 3, row.toString());
            // the floor's bytes: pred 4 bytes x 1536, target float (binary) or one uint8 per pixel (multiclass, 512)
            long predBytes = 4L * 2 * 3 * 16 * 16;
            long targetBytes = row.get("mode").asText().equals("multiclass") ? 2 * 16 * 16 : predBytes;
            long bytes = row.get("pass").asText().equals("forward") ? predBytes + targetBytes : 3 * predBytes + 2 * targetBytes;
            assertEquals(bytes, row.get("bytes").asLong(), row.toString());
            double gbps = bytes / (ms * 1e6);
            assertEquals(gbps, row.get("gbps").asDouble(), 1e-9 * gbps, row.toString());
            double copy = row.get("copy_gbps").asDouble();
            assertTrue(copy > 0, row.toString());
            assertEquals(gbps / copy, row.get("of_copy").asDouble(), 1e-9 * gbps / copy, row.toString());
            assertTrue(row.get("warmup_runs").asInt() >= 1 && row.get("stable").isBoolean(), row.toString());
            seen.add(row.get("loss").asText() + "/" + row.get("mode").asText() + "/" + row.get("pass").asText());
        }
        assertEquals(Set.of("dice/binary/forward", "dice/binary/forward_backward", "dice/multiclass/forward",
                "dice/multiclass/forward_backward", "ce/multiclass/forward", "ce/multiclass/forward_backward"), seen);
        assertEquals(6, rows.size());
    }

    @Test
    void benchThreadsRunsTheCpuPassesOnThatManyThreadsAndRefusesZero() throws IOException {
        CommandRun r = Cli.run("bench", "--backend", "cpu", "--shape", "1,2,8,8", "--losses", "bce", "--repeat", "1",
                "--warmup", "0", "--warmup-seconds", "0", "--threads", "1", "--json").assertOk();
        JsonNode rows = JSON.readTree(r.out);
        assertEquals(2, rows.size());
        for (JsonNode row : rows) {
            assertTrue(row.get("device").asText().contains(", 1 threads, "), row.toString());
            assertTrue(row.get("below_floor").isBoolean(), row.toString());
        }
        Cli.run("bench", "--backend", "cpu", "--threads", "0").assertUsageError("--threads must be >= 1, was 0");
    }

    @Test
    void benchTimesTheCatalogueLossesByName() throws IOException {
        CommandRun r = Cli.run("bench", "--backend", "cpu", "--shape", "1,3,8,8", "--losses",
                "generalized_dice,mcc,dice_ce,dice_focal", "--repeat", "1", "--warmup", "0", "--warmup-seconds", "0",
                "--json").assertOk();
        Set<String> seen = new HashSet<>();
        for (JsonNode row : JSON.readTree(r.out)) {
            seen.add(row.get("loss").asText() + "/" + row.get("mode").asText() + "/" + row.get("pass").asText());
        }
        Set<String> want = new HashSet<>();
        for (String c : new String[] {"generalized_dice/binary", "mcc/binary", "dice_ce/binary", "dice_focal/binary",
                "generalized_dice/multiclass", "dice_ce/multiclass"}) {
            want.add(c + "/forward");
            want.add(c + "/forward_backward");
        }
        assertEquals(want, seen);
    }

    @Test
    void benchTextShowsTheFloorDefinition() {
        CommandRun r = Cli.run("bench", "--backend", "cpu", "--shape", "1,2,8,8", "--losses", "bce", "--repeat", "1").assertOk();
        assertTrue(r.out.contains("floor: forward = read(pred) + read(target)"), r.out);
        assertTrue(r.out.contains("bce") && r.out.contains("forward_backward"), r.out);
        assertTrue(r.out.contains("%copy") && r.out.contains("GB/s"), r.out);
        assertTrue(r.out.matches("(?s).*\\(cpu: .*; copy [0-9.]+ GB/s\\).*"), r.out);
    }

    @Test
    void benchColdTimesTheFirstCallsOfEachKernelChoiceInFreshJvms() {
        CommandRun r = Cli.run("bench", "--cold", "--shape", "1,2,8,8", "--losses", "dice").assertOk();
        assertTrue(r.out.contains("cold start (cpu), shape [1, 2, 8, 8]"), r.out);
        for (String kernels : new String[] {"scalar", "vector", "default"}) {
            // dice in both of its modes, one row per kernel choice: create, first, first 10, next 50 per step, hot, ratios,
            // process CPU time of the first call and of the first 10, their ratios
            assertTrue(r.out.matches("(?s).*\\ndice +binary +" + kernels + "( +[0-9.]+){11}\\n.*"), r.out);
            assertTrue(r.out.matches("(?s).*\\ndice +multiclass +" + kernels + "( +[0-9.]+){11}\\n.*"), r.out);
        }
    }

    @Test
    void benchRefusesBadArguments() {
        Cli.run("bench", "--shape", "5").assertUsageError("--shape", "5");
        Cli.run("bench", "--shape", "2,0,4").assertUsageError("--shape", "2,0,4");
        Cli.run("bench", "--shape", "2,x").assertUsageError("--shape", "x");
        Cli.run("bench", "--losses", "dice,hinge").assertUsageError("--losses", "hinge");
        Cli.run("bench", "--backend", "gpu").assertUsageError("--backend", "gpu", "all");
        Cli.run("bench", "--repeat", "0").assertUsageError("--repeat", "0");
        Cli.run("bench", "--cold", "--backend", "opencl").assertUsageError("--cold", "cpu", "opencl");
    }

    private static final Pattern TRAIN_ROW = Pattern.compile("(?m)^\\s+(\\d+)\\s+([0-9.]+)\\s+\\S+\\s+\\S+\\s+([0-9.]+)\\s");

    @Test
    void demoRunsEveryLossAndTrainingLowersTheLossAndRaisesDice() {
        CommandRun r = Cli.run("demo", "--backend", "cpu", "--images", "2", "--size", "32", "--steps", "40").assertOk();
        for (String loss : new String[] {"bce", "bce_logdice", "dice", "iou", "focal", "tversky", "ce", "ce_logdice",
                "generalized_dice", "mcc", "dice_ce", "dice_focal"}) {
            assertTrue(r.out.contains("\n" + loss + " "), loss + " in:\n" + r.out);
        }
        assertTrue(r.out.contains("triangle"), r.out);
        String training = r.out.substring(r.out.indexOf("training a per-pixel linear classifier"));
        Matcher m = TRAIN_ROW.matcher(training);
        List<double[]> rows = new ArrayList<>();
        while (m.find()) {
            rows.add(new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)),
                    Double.parseDouble(m.group(3))});
        }
        assertTrue(rows.size() >= 3, training);
        double[] first = rows.get(0);
        double[] last = rows.get(rows.size() - 1);
        assertEquals(1, first[0]);
        assertEquals(40, last[0]);
        assertTrue(last[1] < first[1], "loss falls: " + training);
        assertTrue(last[2] > first[2], "mean dice rises: " + training);
    }

    @Test
    void demoRefusesBadArguments() {
        Cli.run("demo", "--train-loss", "bce").assertUsageError("--train-loss", "bce");
        Cli.run("demo", "--size", "3").assertUsageError("--size", "3");
        Cli.run("demo", "--steps", "-1").assertUsageError("--steps", "-1");
    }

    @Command(name = "boom")
    static final class DeviceFailure implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new BackendException("clEnqueueNDRangeKernel failed: CL_OUT_OF_RESOURCES");
        }
    }

    @Command(name = "bug")
    static final class InternalBug implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new IllegalStateException("unexpected");
        }
    }

    @Command(name = "hog")
    static final class MemoryHog implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new OutOfMemoryError("Java heap space");
        }
    }

    @Test
    void anOutOfMemoryErrorIsOneErrorLineSayingHowToRaiseTheHeap() {
        Cli.run(new MemoryHog(), "hog").assertUsageError("out of memory", "Java heap space", "raise -Xmx with SEGLOSS_JAVA_OPTS");
    }

    @Test
    void deviceFailuresAndInternalErrorsExitWith1() {
        Cli.run(new DeviceFailure(), "boom").assertError(1, "CL_OUT_OF_RESOURCES");
        Cli.run(new InternalBug(), "bug").assertError(1, "internal error", "unexpected", "--debug");
    }
}
