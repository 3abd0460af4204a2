package org.segloss.djl;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;

/**
 * The DJL tests' engine: PyTorch on the CPU, libtorch unpacked from the native jars on the test class path
 * (Maven Central's pytorch-native-cpu and pytorch-jni) into target/djl-cache, never downloaded.
 */
final class Djl {
    private Djl() {
    }

    static {
        System.setProperty("ai.djl.offline", "true");
        if (System.getProperty("DJL_CACHE_DIR") == null && System.getenv("DJL_CACHE_DIR") == null) {
            System.setProperty("DJL_CACHE_DIR", Path.of("target", "djl-cache").toAbsolutePath().toString());
        }
    }

    static Engine engine() {
        return Engine.getEngine("PyTorch");
    }

    static NDManager manager() {
        return engine().newBaseManager(Device.cpu());
    }

    /** An int64, int32, uint8 or float32 array of the class map / mask values. */
    static NDArray labels(NDManager m, long[] values, Shape shape, DataType type) {
        switch (type) {
            case INT64:
                return m.create(values, shape);
            case INT32: {
                int[] v = new int[values.length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (int) values[i];
                }
                return m.create(v, shape);
            }
            case UINT8: {
                byte[] v = new byte[values.length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (byte) values[i];
                }
                return m.create(java.nio.ByteBuffer.wrap(v), shape, DataType.UINT8);
            }
            case FLOAT32: {
                float[] v = new float[values.length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = values[i];
                }
                return m.create(v, shape);
            }
            default:
                throw new IllegalArgumentException("label type " + type);
        }
    }
}
