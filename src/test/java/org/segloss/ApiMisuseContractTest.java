package org.segloss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * API misuse is refused with an {@link InvalidInputException} naming the argument, and the same
 * message on every backend: null arrays, buffers of another engine or closed ones, read-only
 * gradients, negative lengths, shapes whose element count overflows. One subclass per backend.
 */
public abstract class ApiMisuseContractTest {
    /** Opens an engine of the backend under test (skips with the reason when it is absent). */
    protected abstract LossEngine open();

    private LossEngine engine;
    private LossEngine other;

    @BeforeEach
    void openTwoEngines() {
        engine = open();
        other = open();
    }

    @AfterEach
    void closeEngines() {
        if (engine != null) {
            engine.close();
        }
        if (other != null) {
            other.close();
        }
    }

    private static final LossSpec DICE = LossSpec.of(Loss.DICE, Mode.BINARY);
    private static final long[] SHAPE = {1, 1, 2};

    /** A misuse, what it must name, and the message on the cpu backend (every backend gives the same). */
    static Stream<Arguments> misuses() {
        return Stream.of(
                Arguments.of("a null pred array", (Consumer<LossEngine[]>) e -> e[0].forward(DICE, (float[]) null, SHAPE, new float[2]),
                        "pred must not be null"),
                Arguments.of("a null target array", (Consumer<LossEngine[]>) e -> e[0].forward(DICE, new float[2], SHAPE, (float[]) null),
                        "target must not be null"),
                Arguments.of("a null gradient array", (Consumer<LossEngine[]>) e -> e[0].forwardBackward(DICE, new float[2], SHAPE,
                        new float[2], (float[]) null), "grad must not be null"),
                Arguments.of("a null spec", (Consumer<LossEngine[]>) e -> e[0].forward(null, new float[2], SHAPE, new float[2]),
                        "spec must not be null"),
                Arguments.of("a null upload", (Consumer<LossEngine[]>) e -> e[0].upload((float[]) null), "data must not be null"),
                Arguments.of("a negative allocation", (Consumer<LossEngine[]>) e -> e[0].allocateFloats(-5), "length must be >= 0, was -5"),
                Arguments.of("a read-only gradient buffer", (Consumer<LossEngine[]>) e -> e[0].forwardBackward(DICE,
                        FloatBuffer.wrap(new float[2]), SHAPE, FloatBuffer.wrap(new float[2]),
                        FloatBuffer.wrap(new float[2]).asReadOnlyBuffer()), "grad must be a writable buffer, was read-only"),
                Arguments.of("a shape whose element count overflows", (Consumer<LossEngine[]>) e -> e[0].forward(DICE, new float[2],
                        new long[] {1L << 32, 1, 1L << 32}, new float[2]), "shape [4294967296, 1, 4294967296] is too large: 4294967296 x 4294967296 overflows 64 bits"),
                Arguments.of("a pred buffer of another engine", (Consumer<LossEngine[]>) e -> {
                    try (DeviceBuffer p = e[1].upload(new float[2]); DeviceBuffer t = e[0].upload(new float[2])) {
                        e[0].forward(DICE, p, SHAPE, t);
                    }
                }, "pred must be a buffer of this " + "%s engine (from its upload, allocateFloats or wrap), was a buffer of another %s engine"),
                Arguments.of("a gradient buffer of another engine", (Consumer<LossEngine[]>) e -> {
                    try (DeviceBuffer p = e[0].upload(new float[2]); DeviceBuffer t = e[0].upload(new float[2]);
                         DeviceBuffer g = e[1].allocateFloats(2)) {
                        e[0].forwardBackward(DICE, p, SHAPE, t, g);
                    }
                }, "grad must be a buffer of this %s engine (from its upload, allocateFloats or wrap), was a buffer of another %s engine"),
                Arguments.of("a buffer of an engine that was closed", (Consumer<LossEngine[]>) e -> {
                    DeviceBuffer p = e[1].upload(new float[2]);
                    e[1].close();
                    try (DeviceBuffer t = e[0].upload(new float[2])) {
                        e[0].forward(DICE, p, SHAPE, t);
                    }
                }, "pred must be a buffer of this %s engine (from its upload, allocateFloats or wrap), was a buffer of another %s engine"),
                Arguments.of("a closed target buffer", (Consumer<LossEngine[]>) e -> {
                    DeviceBuffer t = e[0].upload(new float[2]);
                    t.close();
                    try (DeviceBuffer p = e[0].upload(new float[2])) {
                        e[0].forward(DICE, p, SHAPE, t);
                    }
                }, "target was closed: its memory is released"),
                Arguments.of("a download of another engine's buffer", (Consumer<LossEngine[]>) e -> {
                    try (DeviceBuffer b = e[1].upload(new float[2])) {
                        e[0].download(b, new float[2]);
                    }
                }, "src must be a buffer of this %s engine (from its upload, allocateFloats or wrap), was a buffer of another %s engine"),
                Arguments.of("a download into a null array", (Consumer<LossEngine[]>) e -> {
                    try (DeviceBuffer b = e[0].upload(new float[2])) {
                        e[0].download(b, null);
                    }
                }, "dst must not be null"),
                Arguments.of("a null float buffer given to the backend's upload", (Consumer<LossEngine[]>) e ->
                        e[0].backend().upload((FloatBuffer) null), "data must not be null"),
                Arguments.of("a null byte buffer given to the backend's upload", (Consumer<LossEngine[]>) e ->
                        e[0].backend().upload((ByteBuffer) null), "data must not be null"),
                Arguments.of("a null int buffer given to the backend's upload", (Consumer<LossEngine[]>) e ->
                        e[0].backend().upload((IntBuffer) null), "data must not be null"),
                Arguments.of("a null long buffer given to the backend's upload", (Consumer<LossEngine[]>) e ->
                        e[0].backend().upload((LongBuffer) null), "data must not be null"),
                Arguments.of("a null array given to the backend's download", (Consumer<LossEngine[]>) e -> {
                    try (DeviceBuffer b = e[0].upload(new float[2])) {
                        e[0].backend().download(b, (float[]) null);
                    }
                }, "dst must not be null"),
                Arguments.of("a null float buffer given to the backend's download", (Consumer<LossEngine[]>) e -> {
                    try (DeviceBuffer b = e[0].upload(new float[2])) {
                        e[0].backend().download(b, (FloatBuffer) null);
                    }
                }, "dst must not be null"),
                Arguments.of("a download of a uint8 class map into floats", (Consumer<LossEngine[]>) e -> {
                    try (DeviceBuffer b = e[0].upload(new byte[2])) {
                        e[0].download(b, new float[2]);
                    }
                }, "src must be a float32 buffer to download into floats, was UINT8"),
                Arguments.of("a download into an array of the wrong length", (Consumer<LossEngine[]>) e -> {
                    try (DeviceBuffer b = e[0].upload(new float[2])) {
                        e[0].download(b, new float[3]);
                    }
                }, "dst must hold 2 floats, had 3"),
                Arguments.of("a download into a float buffer of the wrong length", (Consumer<LossEngine[]>) e -> {
                    try (DeviceBuffer b = e[0].upload(new float[2])) {
                        e[0].backend().download(b, FloatBuffer.allocate(1));
                    }
                }, "dst must hold 2 floats, had 1"),
                Arguments.of("a null confusion spec", (Consumer<LossEngine[]>) e -> e[0].confusion((ConfusionSpec) null,
                        new float[2], SHAPE, new float[2]), "spec must not be null"));
    }

    @ParameterizedTest(name = "{0} is refused naming the argument")
    @MethodSource("misuses")
    void misuseIsRefusedWithTheSameMessageOnEveryBackend(String name, Consumer<LossEngine[]> call, String message) {
        String backend = engine.backendName();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> call.accept(new LossEngine[] {engine, other}));
        assertEquals(String.format(message, backend, backend), e.getMessage());
    }

    @Test
    void aClosedEngineRefusesEveryCallAlike() {
        LossEngine e = open();
        e.close();
        for (Runnable call : List.<Runnable>of(() -> e.upload(new float[1]), () -> e.allocateFloats(1),
                () -> e.forward(DICE, new float[2], SHAPE, new float[2]))) {
            IllegalStateException x = assertThrows(IllegalStateException.class, call::run);
            assertEquals("engine is closed", x.getMessage());
        }
    }

    @Test
    void confusionSpecGivesTheCountsOfThePositionalCall() {
        float[] p = {0.2f, 0.7f, 0.5f, 0.9f};
        float[] t = {0, 1, 1, 0};
        long[] shape = {1, 1, 4};
        ConfusionCounts k = engine.confusion(ConfusionSpec.builder(Mode.BINARY).threshold(0.6).build(), p, shape, t);
        // by hand: positive where p >= 0.6: px1 (t 1) TP, px3 (t 0) FP; px2 (t 1) FN; px0 TN
        assertEquals(1, k.tp(0));
        assertEquals(1, k.fp(0));
        assertEquals(1, k.fn(0));
        assertEquals(1, k.tn(0));
        InvalidInputException bad = assertThrows(InvalidInputException.class,
                () -> ConfusionSpec.builder(Mode.BINARY).threshold(1.5).build());
        assertTrue(bad.getMessage().contains("threshold") && bad.getMessage().contains("1.5"), bad.getMessage());
        bad = assertThrows(InvalidInputException.class, () -> ConfusionSpec.builder(Mode.BINARY).ignoreIndex(255).build());
        assertTrue(bad.getMessage().contains("ignore_index") && bad.getMessage().contains("255"), bad.getMessage());
    }
}
