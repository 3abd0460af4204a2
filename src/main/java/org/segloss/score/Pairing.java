package org.segloss.score;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Pairs prediction and target files. Two directories: every {@code .png} / {@code .npy} / {@code .nii} / {@code .nii.gz} file
 * below each (recursively) keyed by its relative path without the extension; a key on one side
 * only, or twice on one side, is skipped with the reason. Two files: one pair.
 */
final class Pairing {
    /** One prediction and its target; {@code name} is the shared key (relative path stem). */
    static final class Pair {
        final String name;
        final Path pred;
        final Path target;

        Pair(String name, Path pred, Path target) {
            this.name = name;
            this.pred = pred;
            this.target = target;
        }
    }

    final List<Pair> pairs = new ArrayList<>();
    final List<Tally.Skipped> unpaired = new ArrayList<>();
    /** Files below the directories that are not .png, .npy, .nii or .nii.gz (not scored, not listed). */
    int otherFiles;

    private Pairing() {
    }

    static boolean scorable(Path p) {
        return scorable(p.getFileName().toString());
    }

    static boolean scorable(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".npy") || n.endsWith(".nii") || n.endsWith(".nii.gz");
    }

    /** Where the extension starts: {@code .nii.gz} counts as one extension. */
    private static int extension(String path) {
        String n = path.toLowerCase(Locale.ROOT);
        int slash = path.lastIndexOf('/');
        if (n.endsWith(".nii.gz") && path.length() - 7 > slash + 1) {
            return path.length() - 7;
        }
        return path.lastIndexOf('.');
    }

    static Pairing of(Path pred, Path target) throws IOException {
        Pairing out = new Pairing();
        if (!Files.isDirectory(pred)) {
            out.pairs.add(new Pair(fileStem(pred.getFileName().toString()), pred, target));
            return out;
        }
        Map<String, List<Path>> p = out.index(pred);
        Map<String, List<Path>> t = out.index(target);
        match(p, t, new Matches<Path>() {
            @Override
            public void pair(String stem, Path predFile, Path targetFile) {
                out.pairs.add(new Pair(stem, predFile, targetFile));
            }

            @Override
            public void unpaired(Path file, String reason) {
                out.unpaired.add(new Tally.Skipped(file.toString(), reason));
            }
        });
        return out;
    }

    /** Receives the outcome of {@link #match}: pairs, and files left out with the reason. */
    interface Matches<F> {
        void pair(String stem, F pred, F target);

        void unpaired(F file, String reason);
    }

    /**
     * Pairs files keyed by stem (both maps sorted by stem, files in each list sorted): a stem with one
     * file on each side is a pair; a stem twice on one side is ambiguous, on one side only unpaired.
     */
    static <F> void match(Map<String, List<F>> p, Map<String, List<F>> t, Matches<F> out) {
        for (Map.Entry<String, List<F>> e : p.entrySet()) {
            List<F> tp = t.get(e.getKey());
            if (e.getValue().size() > 1) {
                for (F f : e.getValue()) {
                    out.unpaired(f, "ambiguous: " + e.getValue().size()
                            + " prediction files share the name stem " + e.getKey());
                }
            } else if (tp == null) {
                out.unpaired(e.getValue().get(0), "unpaired: no target file with this name stem");
            } else if (tp.size() > 1) {
                for (F f : tp) {
                    out.unpaired(f, "ambiguous: " + tp.size() + " target files share the name stem " + e.getKey());
                }
            } else {
                out.pair(e.getKey(), e.getValue().get(0), tp.get(0));
            }
        }
        for (Map.Entry<String, List<F>> e : t.entrySet()) {
            if (!p.containsKey(e.getKey())) {
                for (F f : e.getValue()) {
                    out.unpaired(f, "unpaired: no prediction file with this name stem");
                }
            }
        }
    }

    /** The key of a file: its path relative to the directory, without the extension. */
    static String stem(String relativePath) {
        return relativePath.substring(0, extension(relativePath));
    }

    /** The key of a single file given on the command line: its name without the extension. */
    static String fileStem(String name) {
        int dot = extension(name);
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private Map<String, List<Path>> index(Path dir) throws IOException {
        Map<String, List<Path>> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(Files::isRegularFile).sorted().forEach(f -> {
                if (!scorable(f)) {
                    otherFiles++;
                    return;
                }
                String rel = dir.relativize(f).toString().replace('\\', '/');
                m.computeIfAbsent(stem(rel), k -> new ArrayList<>()).add(f);
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return m;
    }
}
