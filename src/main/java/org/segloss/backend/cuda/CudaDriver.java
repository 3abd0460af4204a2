package org.segloss.backend.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import org.segloss.BackendException;
import org.segloss.BackendUnavailableException;

/**
 * Driver-API helpers shared by the provider and the backend: status checks, the shipped PTX, device
 * description. Touches JCuda classes, so callers catch {@link LinkageError} around it.
 */
final class CudaDriver {
    /** Resource of the PTX built by {@code ci/build-ptx.sh} from {@code kernels-cu/segloss.cu}. */
    static final String PTX_RESOURCE = "/ptx/segloss.ptx";
    /** Resource of the PTX built from {@code kernels-cu/edt.cu} (its own module). */
    static final String EDT_PTX_RESOURCE = "/ptx/edt.ptx";
    /**
     * PTX ISA of the shipped PTX (nvcc 13.0 output restamped by ci/build-ptx.sh) and the first driver API
     * version that loads it (CUDA 12.0, r525).
     */
    static final String PTX_ISA = "8.0";
    static final int DRIVER_API_FOR_PTX = 12000;
    static final String DRIVER_FOR_PTX = "r525";

    private CudaDriver() {
    }

    /** Throws {@link BackendException} naming the operation and the CUresult when {@code status} is not success. */
    static void check(int status, String operation) {
        if (status != CUresult.CUDA_SUCCESS) {
            throw new BackendException("cuda " + operation + " failed: " + CUresult.stringFor(status));
        }
    }

    /** Like {@link #check} for the steps of opening: the backend is then unavailable, not broken. */
    static void checkOpen(int status, String operation) {
        if (status != CUresult.CUDA_SUCCESS) {
            throw new BackendUnavailableException(operation + " failed: " + CUresult.stringFor(status));
        }
    }

    /** The shipped PTX, NUL-terminated as cuModuleLoadData expects. */
    static byte[] ptx() {
        return ptx(PTX_RESOURCE);
    }

    /** A PTX resource (e.g. {@link #EDT_PTX_RESOURCE}), NUL-terminated for cuModuleLoadData. */
    static byte[] ptx(String resource) {
        try (InputStream in = CudaDriver.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new BackendUnavailableException("PTX resource " + resource + " missing from the class path");
            }
            byte[] text = in.readAllBytes();
            byte[] z = new byte[text.length + 1];
            System.arraycopy(text, 0, z, 0, text.length);
            return z;
        } catch (IOException e) {
            throw new BackendUnavailableException("cannot read PTX resource " + resource + ": " + e.getMessage(), e);
        }
    }

    /**
     * cuInit, then the device of {@code ordinal}; throws {@link BackendUnavailableException} with the
     * reason when there is none. Only cuInit and cuDeviceGetCount are called before a device is known.
     */
    static CUdevice initDevice(int ordinal) {
        checkOpen(cuInit(0), "cuInit");
        int[] count = {0};
        checkOpen(cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) {
            throw new BackendUnavailableException("no CUDA device (cuDeviceGetCount returned 0)");
        }
        if (ordinal < 0 || ordinal >= count[0]) {
            throw new BackendUnavailableException("CUDA device " + ordinal + " asked for, devices are 0.." + (count[0] - 1));
        }
        CUdevice device = new CUdevice();
        checkOpen(cuDeviceGet(device, ordinal), "cuDeviceGet");
        return device;
    }

    static int driverVersion() {
        int[] v = {0};
        return cuDriverGetVersion(v) == CUresult.CUDA_SUCCESS ? v[0] : 0;
    }

    /** {@code 13.0} from 13000. */
    static String versionString(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }

    /** e.g. {@code "NVIDIA H200 (sm_90, 132 SMs, 139.8 GiB, driver API 13.0)"}. */
    static String describe(CUdevice device) {
        byte[] name = new byte[256];
        check(cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int len = 0;
        while (len < name.length && name[len] != 0) {
            len++;
        }
        long[] bytes = {0};
        check(cuDeviceTotalMem(bytes, device), "cuDeviceTotalMem");
        return String.format(Locale.ROOT, "%s (sm_%d%d, %d SMs, %.1f GiB, driver API %s)",
                new String(name, 0, len, StandardCharsets.UTF_8),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
                bytes[0] / (double) (1L << 30), versionString(driverVersion()));
    }

    static int attribute(CUdevice device, int attribute) {
        int[] v = {0};
        check(cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute");
        return v[0];
    }

    /** Why the driver refused the PTX, with the driver requirement when the driver is older than it. */
    static String ptxRefused(int status) {
        int v = driverVersion();
        String why = "the driver refused the shipped PTX (ISA " + PTX_ISA + ", compute_75): "
                + CUresult.stringFor(status);
        if (v != 0 && v < DRIVER_API_FOR_PTX) {
            why += "; this driver supports CUDA " + versionString(v) + ", the PTX needs CUDA "
                    + versionString(DRIVER_API_FOR_PTX) + " (driver " + DRIVER_FOR_PTX + " or newer)";
        }
        return why;
    }
}
