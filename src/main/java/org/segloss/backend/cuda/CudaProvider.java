package org.segloss.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import org.segloss.BackendUnavailableException;
import org.segloss.backend.Backend;
import org.segloss.backend.BackendProvider;
import org.segloss.backend.Probe;

/**
 * Finds the CUDA backend. The probe loads the driver (through JCuda's {@code libJCudaDriver}, which
 * needs {@code libcuda.so.1}), runs {@code cuInit}, looks for device {@link CudaBackend#deviceOrdinal()}
 * and loads the shipped PTX; each failure becomes an unusable probe with its reason. This class has
 * no JCuda type in its signatures, so it loads even when JCuda or the driver is missing.
 */
public final class CudaProvider implements BackendProvider {
    /** Why JCuda's driver binding first failed to load in this process (later attempts only say "Could not initialize"). */
    private static volatile String firstLinkageReason;

    /** The provider the dispatcher loads by name. */
    public CudaProvider() {
        // found by class name by the dispatcher
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Probe probe(boolean forAuto) {
        try {
            return CudaBackend.probe(CudaBackend.deviceOrdinal());
        } catch (LinkageError e) {
            return Probe.unusable("cuda", linkageReason(e), List.of());
        } catch (BackendUnavailableException e) {
            return Probe.unusable("cuda", e.getMessage(), List.of());
        } catch (RuntimeException e) {
            return Probe.unusable("cuda", e.getClass().getSimpleName() + ": " + e.getMessage(), List.of());
        }
    }

    @Override
    public Backend open(boolean forAuto) {
        try {
            return CudaBackend.open(CudaBackend.deviceOrdinal());
        } catch (LinkageError e) {
            throw new BackendUnavailableException(linkageReason(e), e);
        }
    }

    /**
     * The reason a JCuda class or native library could not be loaded, in one line: the missing
     * library (usually {@code libcuda.so.1}) rather than JCuda's nested stack traces.
     */
    static String linkageReason(LinkageError e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("Could not initialize") && firstLinkageReason != null) {
            // JCudaDriver's static initialiser failed before: repeat why, not the JVM's follow-up error
            return firstLinkageReason;
        }
        String reason = describe(e, message);
        if (firstLinkageReason == null) {
            firstLinkageReason = reason;
        }
        return reason;
    }

    private static String describe(LinkageError e, String message) {
        if (e instanceof NoClassDefFoundError && !message.contains("Could not initialize")) {
            return "JCuda is not on the class path (" + message + ")";
        }
        List<String> hints = new ArrayList<>();
        for (String line : message.split("\\R")) {
            String l = line.trim();
            if (l.contains("cannot open shared object") || l.contains("undefined symbol")
                    || l.contains("wrong ELF class")) {
                hints.add(l.replaceFirst("^(java\\.lang\\.)?UnsatisfiedLinkError: ", ""));
            }
        }
        String detail = hints.isEmpty() ? message.split("\\R")[0] : hints.get(hints.size() - 1);
        return "CUDA driver library not loadable (JCuda's libJCudaDriver needs the NVIDIA driver's libcuda.so.1): "
                + detail;
    }
}
