package org.segloss.backend;

import java.util.List;

/**
 * Result of probing one backend.
 *
 * @param backend the backend name
 * @param usable  whether it can be opened
 * @param device  the device it would use (when usable)
 * @param reason  why it is not usable (when not), else empty
 * @param details further lines for {@code segloss info}: platforms, devices, versions
 */
public record Probe(String backend, boolean usable, String device, String reason, List<String> details) {
    /** A usable backend and its device. */
    public static Probe usable(String backend, String device, List<String> details) {
        return new Probe(backend, true, device, "", List.copyOf(details));
    }

    /** An unusable backend and why. */
    public static Probe unusable(String backend, String reason, List<String> details) {
        return new Probe(backend, false, "", reason, List.copyOf(details));
    }
}
