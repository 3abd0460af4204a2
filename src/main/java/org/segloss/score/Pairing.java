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
 * Pairs prediction and target files. Two directories: every {@code .png} / {@code .npy} file
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
    /** Files below the directories that are neither .png nor .npy (not scored, not listed). */
    int otherFiles;

    private Pairing() {
    }

    static boolean scorable(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".npy");
    }

    static Pairing of(Path pred, Path target) throws IOException {
        Pairing out = new Pairing();
        if (!Files.isDirectory(pred)) {
            String name = pred.getFileName().toString();
            int dot = name.lastIndexOf('.');
            out.pairs.add(new Pair(dot > 0 ? name.substring(0, dot) : name, pred, target));
            return out;
        }
        Map<String, List<Path>> p = out.index(pred);
        Map<String, List<Path>> t = out.index(target);
        for (Map.Entry<String, List<Path>> e : p.entrySet()) {
            List<Path> tp = t.get(e.getKey());
            if (e.getValue().size() > 1) {
                for (Path f : e.getValue()) {
                    out.unpaired.add(new Tally.Skipped(f.toString(), "ambiguous: " + e.getValue().size()
                            + " prediction files share the name stem " + e.getKey()));
                }
            } else if (tp == null) {
                out.unpaired.add(new Tally.Skipped(e.getValue().get(0).toString(), "unpaired: no target file with this name stem"));
            } else if (tp.size() > 1) {
                for (Path f : tp) {
                    out.unpaired.add(new Tally.Skipped(f.toString(), "ambiguous: " + tp.size()
                            + " target files share the name stem " + e.getKey()));
                }
            } else {
                out.pairs.add(new Pair(e.getKey(), e.getValue().get(0), tp.get(0)));
            }
        }
        for (Map.Entry<String, List<Path>> e : t.entrySet()) {
            if (!p.containsKey(e.getKey())) {
                for (Path f : e.getValue()) {
                    out.unpaired.add(new Tally.Skipped(f.toString(), "unpaired: no prediction file with this name stem"));
                }
            }
        }
        return out;
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
                String stem = rel.substring(0, rel.lastIndexOf('.'));
                m.computeIfAbsent(stem, k -> new ArrayList<>()).add(f);
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return m;
    }
}
