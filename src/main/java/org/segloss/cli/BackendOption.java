package org.segloss.cli;

import org.segloss.LossEngine;
import picocli.CommandLine.Option;

/** {@code --backend} and {@code --device} of the commands that run one engine (loss, demo). */
final class BackendOption {
    @Option(names = "--backend", paramLabel = "B", converter = Converters.BackendConverter.class,
            description = "auto, cpu, opencl or cuda (default: segloss.backend / SEGLOSS_BACKEND, else auto).")
    String backend;

    @Option(names = "--device", paramLabel = "D", description = "OpenCL device (sets segloss.opencl.device).")
    String device;

    /** Sets {@code segloss.opencl.device} when {@code --device} was given (before any engine is created). */
    void applyDevice() {
        if (device != null) {
            System.setProperty("segloss.opencl.device", device);
        }
    }

    /** The engine of {@code --backend}, or the default one. */
    LossEngine createEngine() {
        return backend == null ? LossEngine.create() : LossEngine.create(backend);
    }
}
