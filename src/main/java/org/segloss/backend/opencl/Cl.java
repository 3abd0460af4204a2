package org.segloss.backend.opencl;

import static org.jocl.CL.CL_SUCCESS;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;
import org.segloss.BackendException;

/** Status checks and info queries over JOCL; every failure names the operation and the OpenCL status. */
final class Cl {
    private Cl() {
    }

    /** Throws {@link BackendException} naming {@code operation} and the status unless it is CL_SUCCESS. */
    static void check(int status, String operation) {
        if (status != CL_SUCCESS) {
            throw failure(operation, status);
        }
    }

    static BackendException failure(String operation, int status) {
        return new BackendException("OpenCL " + operation + " failed: " + CL.stringFor_errorCode(status)
                + " (" + status + ")");
    }

    static String deviceString(cl_device_id device, int param) {
        long[] size = new long[1];
        check(CL.clGetDeviceInfo(device, param, 0, null, size), "clGetDeviceInfo");
        byte[] buffer = new byte[(int) size[0]];
        check(CL.clGetDeviceInfo(device, param, buffer.length, Pointer.to(buffer), null), "clGetDeviceInfo");
        return text(buffer);
    }

    static long deviceLong(cl_device_id device, int param) {
        long[] value = new long[1];
        check(CL.clGetDeviceInfo(device, param, Sizeof.cl_ulong, Pointer.to(value), null), "clGetDeviceInfo");
        return value[0];
    }

    static int deviceInt(cl_device_id device, int param) {
        int[] value = new int[1];
        check(CL.clGetDeviceInfo(device, param, Sizeof.cl_uint, Pointer.to(value), null), "clGetDeviceInfo");
        return value[0];
    }

    /** A size_t device property (e.g. CL_DEVICE_MAX_WORK_GROUP_SIZE). */
    static long deviceSize(cl_device_id device, int param) {
        ByteBuffer b = ByteBuffer.allocateDirect(Sizeof.size_t).order(ByteOrder.nativeOrder());
        check(CL.clGetDeviceInfo(device, param, Sizeof.size_t, Pointer.to(b), null), "clGetDeviceInfo");
        return Sizeof.size_t == 8 ? b.getLong(0) : b.getInt(0) & 0xFFFFFFFFL;
    }

    static String platformString(cl_platform_id platform, int param) {
        long[] size = new long[1];
        check(CL.clGetPlatformInfo(platform, param, 0, null, size), "clGetPlatformInfo");
        byte[] buffer = new byte[(int) size[0]];
        check(CL.clGetPlatformInfo(platform, param, buffer.length, Pointer.to(buffer), null), "clGetPlatformInfo");
        return text(buffer);
    }

    static String text(byte[] buffer) {
        int end = buffer.length;
        while (end > 0 && buffer[end - 1] == 0) {
            end--;
        }
        return new String(buffer, 0, end, StandardCharsets.UTF_8).trim();
    }

    /** CL_DEVICE_TYPE as a word: GPU, CPU, ACCELERATOR, or the bits. */
    static String typeName(long type) {
        if ((type & CL.CL_DEVICE_TYPE_GPU) != 0) {
            return "GPU";
        }
        if ((type & CL.CL_DEVICE_TYPE_ACCELERATOR) != 0) {
            return "ACCELERATOR";
        }
        if ((type & CL.CL_DEVICE_TYPE_CPU) != 0) {
            return "CPU";
        }
        return "type " + type;
    }
}
