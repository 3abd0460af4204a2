package org.segloss.backend.cpu;

import java.util.List;
import org.segloss.backend.Backend;
import org.segloss.backend.BackendProvider;
import org.segloss.backend.Probe;

/** The Java CPU backend is always usable. */
public final class CpuProvider implements BackendProvider {
    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Probe probe(boolean forAuto) {
        boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        return Probe.usable("cpu", "Java " + Runtime.version().feature() + ", "
                + Runtime.getRuntime().availableProcessors() + " threads",
                List.of("kernels: " + (vector ? "Vector API (jdk.incubator.vector)" : "scalar (jdk.incubator.vector not enabled)")));
    }

    @Override
    public Backend open(boolean forAuto) {
        return new CpuBackend();
    }
}
