package org.segloss.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.segloss.BackendUnavailableException;
import org.segloss.InvalidInputException;

/**
 * Chooses a backend. {@code auto} tries CUDA, then an OpenCL GPU or accelerator, then the Java CPU
 * backend; an OpenCL CPU device (PoCL) only when {@code opencl} is asked for. Probes once per
 * process and caches the answers with the reason each backend was skipped.
 *
 * <p>The requested name comes from the caller, else the system property {@code segloss.backend},
 * else the environment variable {@code SEGLOSS_BACKEND}, else {@code auto}.
 */
public final class Dispatcher {
    /** Backend names in the order auto tries them. */
    public static final List<String> BACKENDS = List.of("cuda", "opencl", "cpu");

    private static final Map<String, String> PROVIDER_CLASSES = Map.of(
            "cpu", "org.segloss.backend.cpu.CpuProvider",
            "opencl", "org.segloss.backend.opencl.OpenClProvider",
            "cuda", "org.segloss.backend.cuda.CudaProvider");

    private static final Map<String, Probe> PROBES = new ConcurrentHashMap<>();

    private Dispatcher() {
    }

    /** The backend name asked for: {@code explicit} if not null/blank, else property, else environment, else auto. */
    public static String requested(String explicit) {
        String name = explicit;
        if (name == null || name.isBlank()) {
            name = System.getProperty("segloss.backend");
        }
        if (name == null || name.isBlank()) {
            name = System.getenv("SEGLOSS_BACKEND");
        }
        if (name == null || name.isBlank()) {
            name = "auto";
        }
        String key = name.trim().toLowerCase(Locale.ROOT);
        if (!key.equals("auto") && !BACKENDS.contains(key)) {
            throw new InvalidInputException("backend must be one of auto, cpu, opencl, cuda, was " + name);
        }
        return key;
    }

    /** Opens the backend asked for (see {@link #requested}). */
    public static Backend open(String explicit) {
        String name = requested(explicit);
        if (!name.equals("auto")) {
            return provider(name).open(false);
        }
        for (String candidate : BACKENDS) {
            Probe probe = probe(candidate, true);
            if (probe.usable()) {
                try {
                    return provider(candidate).open(true);
                } catch (BackendUnavailableException | LinkageError e) {
                    PROBES.put(candidate + "/auto", Probe.unusable(candidate, "open failed: " + e.getMessage(), probe.details()));
                }
            }
        }
        throw new BackendUnavailableException("no backend is usable: " + describe(probeAll(true)));
    }

    /** Probes one backend (cached). */
    public static Probe probe(String name, boolean forAuto) {
        return PROBES.computeIfAbsent(name + (forAuto ? "/auto" : "/explicit"), k -> {
            try {
                return provider(name).probe(forAuto);
            } catch (BackendUnavailableException e) {
                return Probe.unusable(name, e.getMessage(), List.of());
            } catch (RuntimeException | LinkageError e) {
                return Probe.unusable(name, e.getClass().getSimpleName() + ": " + e.getMessage(), List.of());
            }
        });
    }

    /** Probes every backend, in auto order. */
    public static List<Probe> probeAll(boolean forAuto) {
        List<Probe> out = new ArrayList<>();
        for (String name : BACKENDS) {
            out.add(probe(name, forAuto));
        }
        return out;
    }

    /** The backend auto picks, without opening it. */
    public static String autoChoice() {
        for (String candidate : BACKENDS) {
            if (probe(candidate, true).usable()) {
                return candidate;
            }
        }
        return "none";
    }

    private static String describe(List<Probe> probes) {
        StringBuilder b = new StringBuilder();
        for (Probe p : probes) {
            b.append(p.backend()).append(": ").append(p.usable() ? "usable" : p.reason()).append("; ");
        }
        return b.toString();
    }

    static BackendProvider provider(String name) {
        String cls = PROVIDER_CLASSES.get(name);
        try {
            return (BackendProvider) Class.forName(cls).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new BackendUnavailableException("backend " + name + " is not available in this build (" + e + ")", e);
        }
    }

    /** Forgets cached probes (tests). */
    public static void resetForTests() {
        PROBES.clear();
    }
}
