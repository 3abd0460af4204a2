package org.segloss.backend.opencl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Looks for the OpenCL ICD loader library ({@code libOpenCL.so.1}) before JOCL is touched. JOCL's
 * native part prints {@code Could not load libOpenCL.so.1 ...} straight to the process's stdout
 * when it is missing, which would end up in every command's output (even {@code --json}); so on
 * Linux the probe first looks for a loadable-looking file (a regular ELF file) where the dynamic
 * loader would look, and reports the absence as a reason instead of loading JOCL.
 *
 * <p>The directories searched are {@code LD_LIBRARY_PATH}, those of {@code /etc/ld.so.conf} (with
 * its includes) and the system library directories; the system property
 * {@value #DIRS_PROPERTY} (a path list) replaces them all. On other systems the check is skipped.
 */
final class OpenClLibrary {
    /** System property: the directories to search for the OpenCL library, separated by {@code :}. */
    static final String DIRS_PROPERTY = "segloss.opencl.libraryDirs";

    /** File names the ICD loader goes by, in the order JOCL tries them. */
    private static final List<String> NAMES = List.of("libOpenCL.so.1", "libOpenCL.so");

    private static final byte[] ELF = {0x7F, 'E', 'L', 'F'};

    private OpenClLibrary() {
    }

    /** Null when an OpenCL library was found (or the check does not apply), else why not. */
    static String missingReason() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String override = System.getProperty(DIRS_PROPERTY);
        if (!os.contains("linux") && override == null) {
            return null;
        }
        List<Path> dirs = override != null ? split(override) : defaultDirs();
        for (Path d : dirs) {
            for (String name : NAMES) {
                if (isElf(d.resolve(name))) {
                    return null;
                }
            }
        }
        return "no OpenCL library: " + NAMES.get(0) + " not found in " + dirs.size()
                + " library directories" + (override != null ? " (" + DIRS_PROPERTY + " = " + override + ")" : "")
                + "; install ocl-icd-libopencl1 and an ICD such as pocl-opencl-icd";
    }

    private static boolean isElf(Path file) {
        if (!Files.isRegularFile(file)) { // follows symbolic links
            return false;
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(ELF.length);
            return java.util.Arrays.equals(head, ELF);
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    private static List<Path> split(String pathList) {
        List<Path> out = new ArrayList<>();
        for (String s : pathList.split(":")) {
            if (!s.isEmpty()) {
                out.add(Paths.get(s));
            }
        }
        return out;
    }

    private static List<Path> defaultDirs() {
        Set<Path> dirs = new LinkedHashSet<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            dirs.addAll(split(ld));
        }
        confDirs(Paths.get("/etc/ld.so.conf"), dirs, 0);
        String arch = System.getProperty("os.arch", "");
        String triple = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64-linux-gnu"
                : arch.equals("aarch64") ? "aarch64-linux-gnu" : null;
        for (String base : List.of("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib")) {
            if (triple != null) {
                dirs.add(Paths.get(base, triple));
            }
            dirs.add(Paths.get(base));
        }
        return new ArrayList<>(dirs);
    }

    /** The directories a {@code ld.so.conf} file lists, following {@code include} lines (depth-limited). */
    private static void confDirs(Path conf, Set<Path> dirs, int depth) {
        if (depth > 4 || !Files.isRegularFile(conf)) {
            return;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(conf);
        } catch (IOException | RuntimeException e) {
            return;
        }
        for (String raw : lines) {
            String line = raw.replaceAll("#.*", "").trim();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("include ")) {
                String pattern = line.substring("include ".length()).trim();
                Path p = Paths.get(pattern);
                Path parent = p.isAbsolute() ? p.getParent() : conf.getParent().resolve(p).getParent();
                if (parent == null || !Files.isDirectory(parent)) {
                    continue;
                }
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, p.getFileName().toString())) {
                    List<Path> files = new ArrayList<>();
                    ds.forEach(files::add);
                    files.sort(null);
                    for (Path f : files) {
                        confDirs(f, dirs, depth + 1);
                    }
                } catch (IOException | RuntimeException e) {
                    // an unreadable include adds nothing
                }
            } else {
                dirs.add(Paths.get(line));
            }
        }
    }
}
