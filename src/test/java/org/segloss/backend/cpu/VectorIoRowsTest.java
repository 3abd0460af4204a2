package org.segloss.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The NHWC transposes of the multiclass passes ({@link VectorIo#pixelsToRows}, {@link VectorIo#rowsToPixels}) against
 * plain index arithmetic: every class count (4 has its own shuffles; 5 and more go out by gathers), whole vectors and lane
 * tails, arrays with an offset and direct buffers, one scratch whose gather maps change from case to case;
 * rowsToPixels writes the chunk's floats and nothing around them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VectorIoRowsTest {
    private CpuBackend backend;

    @BeforeAll
    void open() {
        backend = CpuBackend.vector();
    }

    @AfterAll
    void close() {
        backend.close();
    }

    private static final int BASE = 5;
    private static final int AROUND = 40;

    /** A buffer of BASE + m c + AROUND floats, element i = value(i) (distinct, exact). */
    private static FloatBuffer buffer(int length, boolean direct) {
        FloatBuffer f = direct ? ByteBuffer.allocateDirect(4 * length).order(ByteOrder.nativeOrder()).asFloatBuffer()
                : FloatBuffer.wrap(new float[length + 3], 3, length).slice();
        for (int i = 0; i < length; i++) {
            f.put(i, value(i));
        }
        return f;
    }

    private static float value(int i) {
        return 0.25f * i - 7f;
    }

    /** One scratch for every case: its gather maps of a class count and stride must follow the next case's. */
    private final VectorScratch scratch = new VectorScratch();

    @ParameterizedTest(name = "c {0}, m {1}, direct {2}")
    @CsvSource({"4,512,false", "4,512,true", "4,517,false", "4,7,false", "4,8,true", "4,0,false", "1,37,false",
        "2,64,false", "3,41,true", "5,96,false", "8,33,false", "19,512,false", "19,77,true", "19,512,true",
        "19,531,false", "19,5,false", "5,3,true", "16,64,false", "17,200,false", "33,48,true", "6,1,false"})
    void pixelsToRowsAndBack(int c, int m, boolean direct) {
        int length = BASE + m * c + AROUND;
        int stride = m + 16 + 3 + c % 3;
        CpuBuffer in = CpuBuffer.of(backend, buffer(length, direct));
        float[] rows = new float[c * stride + 8];
        java.util.Arrays.fill(rows, Float.NaN);
        VectorIo.pixelsToRows(in, BASE, m, c, rows, stride, new float[m * c + 8]);
        for (int ci = 0; ci < c; ci++) {
            for (int j = 0; j < m; j++) {
                assertEquals(value(BASE + j * c + ci), rows[ci * stride + j], "row " + ci + " pixel " + j);
            }
        }

        FloatBuffer outFloats = direct ? ByteBuffer.allocateDirect(4 * length).order(ByteOrder.nativeOrder())
                .asFloatBuffer() : FloatBuffer.wrap(new float[length + 3], 3, length).slice();
        for (int i = 0; i < length; i++) {
            outFloats.put(i, -1f);
        }
        float[] src = new float[c * stride];
        for (int ci = 0; ci < c; ci++) {
            for (int j = 0; j < m; j++) {
                src[ci * stride + j] = 1000f * ci + j;
            }
        }
        VectorIo.rowsToPixels(CpuBuffer.of(backend, outFloats), BASE, m, c, src, stride, new float[m * c + 8],
                scratch);
        for (int i = 0; i < length; i++) {
            int e = i - BASE;
            float expected = e >= 0 && e < m * c ? 1000f * (e % c) + e / c : -1f;
            assertEquals(expected, outFloats.get(i), "element " + i);
        }
    }
}
