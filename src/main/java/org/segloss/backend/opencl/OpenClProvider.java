package org.segloss.backend.opencl;

import static org.jocl.CL.CL_DEVICE_DOUBLE_FP_CONFIG;
import static org.jocl.CL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_OPENCL_C_VERSION;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.jocl.CL.CL_DEVICE_VERSION;
import static org.jocl.CL.CL_DEVICE_NOT_FOUND;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_PLATFORM_VERSION;
import static org.jocl.CL.CL_SUCCESS;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;
import org.segloss.BackendException;
import org.segloss.BackendUnavailableException;
import org.segloss.backend.Backend;
import org.segloss.backend.BackendProvider;
import org.segloss.backend.Probe;

/**
 * Finds OpenCL devices. {@code auto} may pick only a GPU or an accelerator; an explicit {@code opencl}
 * also takes a CPU device such as PoCL. The system property {@code segloss.opencl.device} chooses a
 * device by its index in the probe's list (counting over every platform) or by a case-insensitive
 * substring of its name; otherwise the first eligible device is used, GPUs and accelerators first.
 */
public final class OpenClProvider implements BackendProvider {
    /** System property choosing the device: an index or a name substring. */
    public static final String DEVICE_PROPERTY = "segloss.opencl.device";

    /** The provider the dispatcher loads by name. */
    public OpenClProvider() {
    }

    @Override
    public String name() {
        return "opencl";
    }

    /** One device found by the probe. */
    static final class Found {
        final int index;
        final cl_device_id id;
        final String name;
        final long type;
        final String line;

        Found(int index, cl_device_id id, String name, long type, String line) {
            this.index = index;
            this.id = id;
            this.name = name;
            this.type = type;
            this.line = line;
        }

        boolean autoEligible() {
            return (type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR)) != 0;
        }
    }

    /** Every device of every platform, with the lines for {@code segloss info}. */
    static List<Found> devices(List<String> details) {
        List<Found> found = new ArrayList<>();
        int[] count = new int[1];
        int status = CL.clGetPlatformIDs(0, null, count);
        if (status != CL_SUCCESS || count[0] == 0) {
            details.add("no OpenCL platform (clGetPlatformIDs: " + CL.stringFor_errorCode(status) + ", "
                    + count[0] + " platforms); install an ICD such as pocl-opencl-icd with ocl-icd-libopencl1");
            return found;
        }
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        Cl.check(CL.clGetPlatformIDs(platforms.length, platforms, null), "clGetPlatformIDs");
        for (int pi = 0; pi < platforms.length; pi++) {
            cl_platform_id platform = platforms[pi];
            details.add("platform " + pi + ": " + Cl.platformString(platform, CL_PLATFORM_NAME) + " ("
                    + Cl.platformString(platform, CL_PLATFORM_VERSION) + ")");
            int[] n = new int[1];
            status = CL.clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, null, n);
            if (status == CL_DEVICE_NOT_FOUND || n[0] == 0) {
                details.add("  no devices");
                continue;
            }
            Cl.check(status, "clGetDeviceIDs");
            cl_device_id[] ids = new cl_device_id[n[0]];
            Cl.check(CL.clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, ids.length, ids, null), "clGetDeviceIDs");
            for (cl_device_id id : ids) {
                int index = found.size();
                String name = Cl.deviceString(id, CL_DEVICE_NAME);
                long type = Cl.deviceLong(id, CL_DEVICE_TYPE);
                boolean fp64 = Cl.deviceLong(id, CL_DEVICE_DOUBLE_FP_CONFIG) != 0;
                String line = String.format(Locale.ROOT,
                        "  device %d: %s (%s, %d compute units, %.1f GiB global memory, %s, %s, fp64 %s)",
                        index, name, Cl.typeName(type), Cl.deviceInt(id, CL_DEVICE_MAX_COMPUTE_UNITS),
                        Cl.deviceLong(id, CL_DEVICE_GLOBAL_MEM_SIZE) / (1024.0 * 1024 * 1024),
                        Cl.deviceString(id, CL_DEVICE_VERSION), Cl.deviceString(id, CL_DEVICE_OPENCL_C_VERSION),
                        fp64 ? "yes" : "no");
                details.add(line);
                found.add(new Found(index, id, name, type, line));
            }
        }
        return found;
    }

    /**
     * The device to use among {@code found}, or null with the reason appended to {@code why}: by the
     * property when set (index or name substring), else the first GPU/accelerator, else (not for auto)
     * the first other device.
     */
    static Found choose(List<Found> found, boolean forAuto, String property, StringBuilder why) {
        List<Found> eligible = new ArrayList<>();
        for (Found f : found) {
            if (f.autoEligible()) {
                eligible.add(f);
            }
        }
        if (!forAuto) {
            for (Found f : found) {
                if (!f.autoEligible()) {
                    eligible.add(f);
                }
            }
        }
        String kinds = forAuto ? "GPU or accelerator devices (auto skips CPU devices such as PoCL; ask for --backend opencl)"
                : "devices";
        if (property != null && !property.isBlank()) {
            String want = property.trim();
            if (want.matches("\\d+")) {
                int index = Integer.parseInt(want);
                for (Found f : eligible) {
                    if (f.index == index) {
                        return f;
                    }
                }
                why.append(DEVICE_PROPERTY).append(" = ").append(want).append(" matches none of the ").append(eligible.size())
                        .append(" eligible ").append(kinds);
                return null;
            }
            for (Found f : eligible) {
                if (f.name.toLowerCase(Locale.ROOT).contains(want.toLowerCase(Locale.ROOT))) {
                    return f;
                }
            }
            why.append(DEVICE_PROPERTY).append(" = '").append(want).append("' matches no name of the ")
                    .append(eligible.size()).append(" eligible ").append(kinds);
            return null;
        }
        if (eligible.isEmpty()) {
            why.append("no eligible OpenCL ").append(kinds).append(" among ").append(found.size()).append(" found");
            return null;
        }
        return eligible.get(0);
    }

    @Override
    public Probe probe(boolean forAuto) {
        List<String> details = new ArrayList<>();
        String missing = OpenClLibrary.missingReason();
        if (missing != null) {
            return Probe.unusable("opencl", missing, details);
        }
        try {
            List<Found> found = devices(details);
            StringBuilder why = new StringBuilder();
            Found chosen = choose(found, forAuto, System.getProperty(DEVICE_PROPERTY), why);
            if (chosen == null) {
                return Probe.unusable("opencl", why.toString(), details);
            }
            details.add((forAuto ? "auto picks" : "opencl uses") + " device " + chosen.index + ": " + chosen.name);
            return Probe.usable("opencl", OpenClBackend.describe(chosen.id), details);
        } catch (LinkageError e) {
            return Probe.unusable("opencl", "the OpenCL library could not be loaded (" + e + "); install "
                    + "ocl-icd-libopencl1 and an ICD such as pocl-opencl-icd", details);
        } catch (CLException | BackendException e) {
            return Probe.unusable("opencl", "OpenCL probe failed: " + e.getMessage(), details);
        } catch (RuntimeException e) {
            return Probe.unusable("opencl", "OpenCL probe failed: " + e, details);
        }
    }

    @Override
    public Backend open(boolean forAuto) {
        List<String> details = new ArrayList<>();
        String missing = OpenClLibrary.missingReason();
        if (missing != null) {
            throw new BackendUnavailableException("opencl: " + missing);
        }
        try {
            List<Found> found = devices(details);
            StringBuilder why = new StringBuilder();
            Found chosen = choose(found, forAuto, System.getProperty(DEVICE_PROPERTY), why);
            if (chosen == null) {
                throw new BackendUnavailableException("opencl: " + why);
            }
            return OpenClBackend.open(chosen.id);
        } catch (LinkageError e) {
            throw new BackendUnavailableException("opencl: the OpenCL library could not be loaded (" + e + ")", e);
        } catch (CLException | BackendException e) {
            throw new BackendUnavailableException("opencl: " + e.getMessage(), e);
        }
    }
}
