package org.segloss.backend;

/**
 * Finds and opens one kind of backend. Implementations are found by class name so that a missing
 * native library of one backend never stops the others from loading.
 */
public interface BackendProvider {
    /** {@code cpu}, {@code opencl} or {@code cuda}. */
    String name();

    /**
     * Looks for a usable device; never throws (LinkageError, runtime exceptions and native
     * failures become an unusable {@link Probe} with the reason).
     *
     * @param forAuto true when probing for {@code auto}: only devices auto may pick (OpenCL: GPUs and accelerators)
     */
    Probe probe(boolean forAuto);

    /** Opens the backend; throws {@link org.segloss.BackendUnavailableException} with the reason when it cannot. */
    Backend open(boolean forAuto);
}
