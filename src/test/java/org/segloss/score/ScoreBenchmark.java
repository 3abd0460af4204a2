package org.segloss.score;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.segloss.ConfusionCounts;
import org.segloss.LossEngine;

/**
 * Throughput of the scoring job on 512x512 maps with 19 classes: decode and count measured apart,
 * then end to end. Run with {@code java -cp ... org.segloss.score.ScoreBenchmark [pngPairs] [npyPairs] [backend]}.
 */
final class ScoreBenchmark {
    private ScoreBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int pngPairs = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int npyPairs = args.length > 1 ? Integer.parseInt(args[1]) : 12;
        String backend = args.length > 2 ? args[2] : "cpu";
        int size = 512;
        int classes = 19;
        Path dir = Files.createTempDirectory("segloss-bench");
        try {
            Path png = dir.resolve("png");
            SyntheticDataset.writePng(png, pngPairs, size, classes, 1);
            List<Pairing.Pair> pairs = Pairing.of(png.resolve("pred"), png.resolve("target")).pairs;
            System.out.printf(Locale.ROOT, "PNG label maps: %d pairs of %dx%d, %d classes, %d cores%n", pairs.size(), size, size,
                    classes, Runtime.getRuntime().availableProcessors());
            // Warm up the decoders and the JIT on a few pairs.
            for (int i = 0; i < Math.min(10, pairs.size()); i++) {
                Counting.countLabels((Decoder.LabelMap) Decoder.read(pairs.get(i).pred), Decoder.readTarget(pairs.get(i).target), classes, null);
            }
            long t0 = 0;
            List<Decoder.LabelMap[]> decoded = new ArrayList<>();
            // Two rounds over every file; the first warms the page cache and the JIT, the second is timed.
            for (int round = 0; round < 2; round++) {
                t0 = System.nanoTime();
                for (Pairing.Pair p : pairs) {
                    Decoder.LabelMap[] m = {(Decoder.LabelMap) Decoder.read(p.pred), Decoder.readTarget(p.target)};
                    if (decoded.size() < 20) {
                        decoded.add(m);
                    }
                }
            }
            double decode = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "  decode (1 thread, both files): %.1f pairs/s (%.2f ms/pair)%n", pairs.size() / decode,
                    decode * 1e3 / pairs.size());
            int reps = 10;
            for (Decoder.LabelMap[] m : decoded) {
                Counting.countLabels(m[0], m[1], classes, null);
            }
            t0 = System.nanoTime();
            long guard = 0;
            for (int r = 0; r < reps; r++) {
                for (Decoder.LabelMap[] m : decoded) {
                    guard += Counting.countLabels(m[0], m[1], classes, null).tp(0);
                }
            }
            double count = (System.nanoTime() - t0) / 1e9;
            int counted = reps * decoded.size();
            System.out.printf(Locale.ROOT, "  host count (1 thread, exact integer): %.1f pairs/s (%.2f ms/pair, %.0f Mpixel/s) [%d]%n",
                    counted / count, count * 1e3 / counted, counted * (double) size * size / count / 1e6, guard);
            for (int threads : new int[] {1, Runtime.getRuntime().availableProcessors()}) {
                endToEnd(pairs, classes, threads, backend, "  end to end");
            }

            Path npy = dir.resolve("npy");
            SyntheticDataset.writeScores(npy, npyPairs, size, classes, 2);
            List<Pairing.Pair> scorePairs = Pairing.of(npy.resolve("pred"), npy.resolve("target")).pairs;
            System.out.printf(Locale.ROOT, "float32 (19, 512, 512) .npy scores: %d pairs, backend %s%n", scorePairs.size(), backend);
            try (LossEngine engine = LossEngine.create(backend)) {
                System.out.println("  device: " + engine.device());
                List<Counting.EngineJob> jobs = new ArrayList<>();
                t0 = System.nanoTime();
                for (Pairing.Pair p : scorePairs) {
                    Decoder.Scores s = (Decoder.Scores) Decoder.read(p.pred);
                    Decoder.LabelMap t = Decoder.readTarget(p.target);
                    Counting.EngineJob j = Counting.prepare(s, t, classes, null, 0.5, false, null);
                    if (jobs.size() < 4) {
                        jobs.add(j);
                    }
                }
                double dec = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "  decode (1 thread, 20 MB .npy + PNG target): %.1f pairs/s (%.1f ms/pair)%n",
                        scorePairs.size() / dec, dec * 1e3 / scorePairs.size());
                Counting.countOnEngine(engine, jobs.get(0), null, 0.5, false);
                t0 = System.nanoTime();
                int n = 0;
                for (int r = 0; r < 5; r++) {
                    for (Counting.EngineJob j : jobs) {
                        ConfusionCounts k = Counting.countOnEngine(engine, j, null, 0.5, false);
                        guard += k.tp(0);
                        n++;
                    }
                }
                double eng = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "  %s confusion (argmax over 19 channels): %.1f images/s (%.1f ms/image) [%d]%n",
                        engine.backendName(), n / eng, eng * 1e3 / n, guard);
            }
            endToEnd(scorePairs, classes, Runtime.getRuntime().availableProcessors(), backend, "  end to end");
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void endToEnd(List<Pairing.Pair> pairs, int classes, int threads, String backend, String label)
            throws InterruptedException {
        Scorer.Options o = new Scorer.Options();
        o.classes = classes;
        o.threads = threads;
        o.backend = backend;
        o.worstK = 8;
        Tally t = new Tally(new Tally.Settings(null, 0.5, false, false), classes, false, 8);
        Scorer.Outcome out = new Scorer(o).run(pairs, t, null);
        System.out.printf(Locale.ROOT, "%s (%d decode threads): %.1f pairs/s -- %s%n", label, threads,
                t.images() / (out.wallNanos / 1e9), ScoreCommand.timing(out));
    }
}
