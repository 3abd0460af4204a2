package org.segloss.backend.cpu;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.segloss.ElementType;
import org.segloss.backend.Problem;

/**
 * Copies between CPU buffers and the scratch arrays of the Vector API kernels: used when a buffer has no
 * accessible array (direct or read-only NIO buffers), when a target must be widened to float, and to
 * transpose NHWC chunks into per-channel rows and back.
 */
final class VectorIo {
    private VectorIo() {
    }

    /** Class marker of an ignored pixel (and of padding lanes). */
    static final float IGNORED = -1f;
    /** Class marker of a refused class index (outside [0, C) and not the ignore index). */
    static final float REFUSED = -2f;

    private static final VectorSpecies<Float> FS = VectorKernels.FS;
    private static final int L = VectorKernels.L;
    /** Ints of the float lanes' shape (int32 targets widen to float lane by lane). */
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    /**
     * Bytes that widen to one float vector (uint8 targets); null where that would be under 64 bits (128-bit float
     * vectors, as NEON's: no 32-bit byte vector exists), and then uint8 targets widen by plain loops.
     */
    private static final VectorSpecies<Byte> BS = FS.vectorBitSize() / 4 >= 64
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(FS.vectorBitSize() / 4)) : null;

    /** dst[off + j] = pred[index + j] for j < len. */
    static void readFloats(CpuBuffer b, int index, int len, float[] dst, int off) {
        FloatBuffer f = b.floats;
        if (f.hasArray()) {
            System.arraycopy(f.array(), f.arrayOffset() + index, dst, off, len);
        } else {
            f.get(index, dst, off, len);
        }
    }

    /** grad[index + j] = src[off + j] for j < len. */
    static void writeFloats(CpuBuffer b, int index, int len, float[] src, int off) {
        FloatBuffer f = b.floats;
        if (f.hasArray()) {
            System.arraycopy(src, off, f.array(), f.arrayOffset() + index, len);
        } else {
            f.put(index, src, off, len);
        }
    }

    /**
     * The bytes [index, index + len) of bb: its backing array (from {@link #sourceOffset}) or, when it has
     * none, a scratch copy (from 0).
     */
    private static byte[] byteSource(ByteBuffer bb, int index, int len, VectorScratch sc) {
        if (bb.hasArray()) {
            return bb.array();
        }
        byte[] copy = sc.bytes(len);
        bb.get(index, copy, 0, len);
        return copy;
    }

    /** The ints [index, index + len) of ib, as {@link #byteSource}. */
    private static int[] intSource(IntBuffer ib, int index, int len, VectorScratch sc) {
        if (ib.hasArray()) {
            return ib.array();
        }
        int[] copy = sc.ints(len);
        ib.get(index, copy, 0, len);
        return copy;
    }

    /** The longs [index, index + len) of lb, as {@link #byteSource}. */
    private static long[] longSource(LongBuffer lb, int index, int len, VectorScratch sc) {
        if (lb.hasArray()) {
            return lb.array();
        }
        long[] copy = sc.longs(len);
        lb.get(index, copy, 0, len);
        return copy;
    }

    /** Where element index stands in the array of {@link #byteSource} / {@link #intSource}. */
    private static int sourceOffset(Buffer buf, int index) {
        return buf.hasArray() ? buf.arrayOffset() + index : 0;
    }

    /** dst[off + j] = target value at index + j as float (uint8 unsigned; int32 may round, staying out of [0, 1]). */
    static void readTargets(CpuBuffer b, int index, int len, float[] dst, int off, VectorScratch sc) {
        switch (b.type) {
            case FLOAT32:
                readFloats(b, index, len, dst, off);
                return;
            case UINT8: {
                byte[] src = byteSource(b.bytes, index, len, sc);
                int so = sourceOffset(b.bytes, index);
                int j = 0;
                for (; BS != null && j + L <= len; j += L) {
                    // unsigned: widen to int lanes, keep the low byte, then to float (exact below 2^24)
                    ((IntVector) ByteVector.fromArray(BS, src, so + j).convertShape(VectorOperators.B2I, IS, 0))
                            .and(0xFF).convert(VectorOperators.I2F, 0).reinterpretAsFloats().intoArray(dst, off + j);
                }
                for (; j < len; j++) {
                    dst[off + j] = src[so + j] & 0xFF;
                }
                return;
            }
            case INT64: {
                long[] src = longSource(b.longs, index, len, sc);
                int so = sourceOffset(b.longs, index);
                for (int j = 0; j < len; j++) {
                    dst[off + j] = src[so + j];
                }
                return;
            }
            default: {
                int[] src = intSource(b.ints, index, len, sc);
                int so = sourceOffset(b.ints, index);
                int j = 0;
                for (; j + L <= len; j += L) {
                    IntVector.fromArray(IS, src, so + j).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                            .intoArray(dst, off + j);
                }
                for (; j < len; j++) {
                    dst[off + j] = src[so + j];
                }
            }
        }
    }

    /**
     * NHWC chunk in: the {@code m * c} values from {@code base} (m pixels of c channels) into per-channel
     * rows, {@code dst[ci * m + j] = src[base + j * c + ci]}.
     */
    static void transposeIn(CpuBuffer b, int base, int m, int c, float[] dst, float[] linear, VectorScratch sc,
                            boolean target) {
        float[] src;
        int so;
        if (b.type == ElementType.FLOAT32 && b.floats.hasArray()) {
            src = b.floats.array();
            so = b.floats.arrayOffset() + base;
        } else {
            if (target) {
                readTargets(b, base, m * c, linear, 0, sc);
            } else {
                readFloats(b, base, m * c, linear, 0);
            }
            src = linear;
            so = 0;
        }
        if (c == 1) {
            System.arraycopy(src, so, dst, 0, m);
            return;
        }
        int[] map = sc.laneMap(c);
        int whole = m - m % L;
        for (int ci = 0; ci < c; ci++) {
            // gathers: lane j reads pixel j's channel ci
            for (int j = 0; j < whole; j += L) {
                FloatVector.fromArray(FS, src, so + j * c + ci, map, 0).intoArray(dst, ci * m + j);
            }
            for (int j = whole; j < m; j++) {
                dst[ci * m + j] = src[so + j * c + ci];
            }
        }
    }

    /**
     * NHWC chunk in for the multiclass passes: the {@code m * c} floats from {@code base} (m pixels of c classes)
     * into class rows {@code stride} apart, {@code dst[ci * stride + j] = src[base + j * c + ci]}; a buffer without an
     * array is first copied into {@code linear} (m * c floats).
     */
    static void pixelsToRows(CpuBuffer b, int base, int m, int c, float[] dst, int stride, float[] linear) {
        FloatBuffer f = b.floats;
        if (f.hasArray()) {
            deinterleave(f.array(), f.arrayOffset() + base, m, c, dst, stride);
        } else {
            f.get(base, linear, 0, m * c);
            deinterleave(linear, 0, m, c, dst, stride);
        }
    }

    /** Fewest classes whose chunks go out by gathers ({@link #interleaveGathers}). */
    static final int GATHER_MIN_CLASSES = 5;

    /**
     * Plain loops but for 4 classes (shuffles). Gathers from the chunk ({@code map[j] = j c}, L pixels at a time, with
     * or without reading the next blocks' cache lines ahead) were measured slower at c = 19 in the passes (1.04-1.06x
     * the forward of plain loops), though faster in a loop of transposes alone.
     */
    private static void deinterleave(float[] src, int so, int m, int c, float[] dst, int stride) {
        if (c == 4 && L >= 4) {
            int whole = m - m % L;
            deinterleave4(src, so, whole, dst, stride);
            deinterleaveTail(src, so, whole, m, c, dst, stride);
            return;
        }
        deinterleavePlain(src, so, 0, m, c, dst, stride);
    }

    /**
     * The pixels [from, m) after the shuffles: a method of its own, apart from {@link #deinterleavePlain}, whose
     * compiled loops must keep the profile of whole chunks (with this tail's short loops in it, C2 compiled the
     * 19-class chunks 2-3x slower at one thread in a JVM that had run 4 classes first).
     */
    private static void deinterleaveTail(float[] src, int so, int from, int m, int c, float[] dst, int stride) {
        for (int ci = 0; ci < c; ci++) {
            int row = ci * stride;
            for (int j = from, at = so + from * c + ci; j < m; j++, at += c) {
                dst[row + j] = src[at];
            }
        }
    }

    /**
     * {@link #deinterleave} of pixels [from, m) by plain loops, rows outer (its own method: compiled apart from the
     * 4-class shuffles' path).
     */
    private static void deinterleavePlain(float[] src, int so, int from, int m, int c, float[] dst, int stride) {
        for (int ci = 0; ci < c; ci++) {
            int row = ci * stride;
            for (int j = from, at = so + from * c + ci; j < m; j++, at += c) {
                dst[row + j] = src[at];
            }
        }
    }

    /**
     * NHWC chunk out, the inverse of {@link #pixelsToRows}: {@code grad[base + j * c + ci] = src[ci * stride + j]}; a
     * buffer without an array through {@code linear}.
     */
    static void rowsToPixels(CpuBuffer b, int base, int m, int c, float[] src, int stride, float[] linear,
                             VectorScratch sc) {
        FloatBuffer f = b.floats;
        if (f.hasArray()) {
            interleave(src, stride, m, c, f.array(), f.arrayOffset() + base, sc);
        } else {
            interleave(src, stride, m, c, linear, 0, sc);
            f.put(base, linear, 0, m * c);
        }
    }

    private static void interleave(float[] src, int stride, int m, int c, float[] dst, int dof, VectorScratch sc) {
        int whole = m - m % L;
        if (c == 4 && L >= 4) {
            interleave4(src, stride, whole, dst, dof);
            interleaveTail(src, stride, whole, m, c, dst, dof);
        } else if (c >= GATHER_MIN_CLASSES) {
            interleaveGathers(src, stride, whole, c, dst, dof, sc.pixelsMap(c, stride));
            interleaveTail(src, stride, whole, m, c, dst, dof);
        } else {
            interleavePlain(src, stride, 0, m, c, dst, dof);
        }
    }

    /** The pixels [from, m) after the shuffles or gathers (its own method, as {@link #deinterleaveTail}). */
    private static void interleaveTail(float[] src, int stride, int from, int m, int c, float[] dst, int dof) {
        for (int ci = 0; ci < c; ci++) {
            int row = ci * stride;
            for (int j = from, at = dof + from * c + ci; j < m; j++, at += c) {
                dst[at] = src[row + j];
            }
        }
    }

    /** {@link #interleave} of pixels [from, m) by plain loops (its own method, as {@link #deinterleavePlain}). */
    private static void interleavePlain(float[] src, int stride, int from, int m, int c, float[] dst, int dof) {
        for (int ci = 0; ci < c; ci++) {
            int row = ci * stride;
            for (int j = from, at = dof + from * c + ci; j < m; j++, at += c) {
                dst[at] = src[row + j];
            }
        }
    }

    /**
     * {@link #interleave} of m pixels (a multiple of L) by gathers from the rows (in L1 or L2) and whole-vector stores:
     * the c vectors of L pixels, element e of the block gathered from row e % c at pixel e / c
     * ({@link VectorScratch#pixelsMap}). Measured at c = 19, m = 512, into memory: 0.7x the time of the plain loops.
     */
    private static void interleaveGathers(float[] src, int stride, int m, int c, float[] dst, int dof, int[] map) {
        for (int j = 0, at = dof; j < m; j += L, at += L * c) {
            for (int k = 0; k < c; k++) {
                FloatVector.fromArray(FS, src, j, map, k * L).intoArray(dst, at + k * L);
            }
        }
    }

    /**
     * One-vector shuffles and blend masks for {@link #interleave4}, for any power-of-two lane count L >= 4 (with 8
     * lanes: 0 0 1 1 2 2 3 3, 4 4 5 5 6 6 7 7, 0 1 0 1 2 3 2 3, 4 5 4 5 6 7 6 7): the lower (upper) half of the lanes
     * each doubled; the lane pairs of the lower (upper) half each doubled; odd lanes; odd lane pairs.
     */
    private static final VectorShuffle<Float> DOUBLE_LO = shuffle(i -> i / 2);
    private static final VectorShuffle<Float> DOUBLE_HI = shuffle(i -> L / 2 + i / 2);
    private static final VectorShuffle<Float> PAIRS_LO = shuffle(i -> 2 * (i / 4) + i % 2);
    private static final VectorShuffle<Float> PAIRS_HI = shuffle(i -> L / 2 + 2 * (i / 4) + i % 2);
    private static final VectorMask<Float> ODD_LANES = mask(i -> i % 2 == 1);
    private static final VectorMask<Float> ODD_PAIRS = mask(i -> (i / 2) % 2 == 1);

    private static VectorShuffle<Float> shuffle(java.util.function.IntUnaryOperator lane) {
        return L >= 4 ? VectorShuffle.fromOp(FS, lane) : null;
    }

    private static VectorMask<Float> mask(java.util.function.IntPredicate lane) {
        boolean[] bits = new boolean[L];
        for (int i = 0; i < L; i++) {
            bits[i] = lane.test(i);
        }
        return L >= 4 ? VectorMask.fromArray(FS, bits, 0) : null;
    }

    /**
     * {@link #interleave} of 4 rows, m a multiple of L: per L pixels, rows r0..r3 become 4 vectors of L/4 pixels x 4
     * classes: r0 and r1 (r2 and r3) alternated lane by lane, then those alternated by lane pairs, each alternation
     * two one-vector shuffles and a blend (a two-vector rearrange was 10x slower than plain loops on JDK 17; this,
     * 0.5x at 8 lanes).
     */
    private static void interleave4(float[] src, int stride, int m, float[] dst, int dof) {
        for (int j = 0, at = dof; j < m; j += L, at += 4 * L) {
            FloatVector r0 = FloatVector.fromArray(FS, src, j);
            FloatVector r1 = FloatVector.fromArray(FS, src, stride + j);
            FloatVector r2 = FloatVector.fromArray(FS, src, 2 * stride + j);
            FloatVector r3 = FloatVector.fromArray(FS, src, 3 * stride + j);
            FloatVector lo01 = r0.rearrange(DOUBLE_LO).blend(r1.rearrange(DOUBLE_LO), ODD_LANES);
            FloatVector hi01 = r0.rearrange(DOUBLE_HI).blend(r1.rearrange(DOUBLE_HI), ODD_LANES);
            FloatVector lo23 = r2.rearrange(DOUBLE_LO).blend(r3.rearrange(DOUBLE_LO), ODD_LANES);
            FloatVector hi23 = r2.rearrange(DOUBLE_HI).blend(r3.rearrange(DOUBLE_HI), ODD_LANES);
            lo01.rearrange(PAIRS_LO).blend(lo23.rearrange(PAIRS_LO), ODD_PAIRS).intoArray(dst, at);
            lo01.rearrange(PAIRS_HI).blend(lo23.rearrange(PAIRS_HI), ODD_PAIRS).intoArray(dst, at + L);
            hi01.rearrange(PAIRS_LO).blend(hi23.rearrange(PAIRS_LO), ODD_PAIRS).intoArray(dst, at + 2 * L);
            hi01.rearrange(PAIRS_HI).blend(hi23.rearrange(PAIRS_HI), ODD_PAIRS).intoArray(dst, at + 3 * L);
        }
    }

    /**
     * Shuffles and masks of {@link #deinterleave4}, for any power-of-two lane count L >= 4 (with 8 lanes:
     * 0 1 4 5 0 1 4 5, 2 3 6 7 2 3 6 7, 0 2 4 6 0 2 4 6, 1 3 5 7 1 3 5 7): classes 0 1 (2 3) of the vector's L/4
     * pixels, twice; even (odd) lanes, twice; the upper half.
     */
    private static final VectorShuffle<Float> PAIRS_0145 = shuffle(i -> 4 * ((i % (L / 2)) / 2) + i % 2);
    private static final VectorShuffle<Float> PAIRS_2367 = shuffle(i -> 4 * ((i % (L / 2)) / 2) + i % 2 + 2);
    private static final VectorShuffle<Float> EVEN_LANES = shuffle(i -> 2 * (i % (L / 2)));
    private static final VectorShuffle<Float> ODD_LANES_TWICE = shuffle(i -> 2 * (i % (L / 2)) + 1);
    private static final VectorMask<Float> UPPER_HALF = mask(i -> i >= L / 2);

    /**
     * {@link #deinterleave} of 4 classes, m a multiple of L, the inverse of {@link #interleave4}: per L pixels, the 4
     * vectors of L/4 pixels x 4 classes become lane pairs of classes 0 1 (2 3) over L/2 pixels, then the even and odd
     * lanes of those the 4 rows.
     */
    private static void deinterleave4(float[] src, int so, int m, float[] dst, int stride) {
        for (int j = 0, at = so; j < m; j += L, at += 4 * L) {
            FloatVector v0 = FloatVector.fromArray(FS, src, at);
            FloatVector v1 = FloatVector.fromArray(FS, src, at + L);
            FloatVector v2 = FloatVector.fromArray(FS, src, at + 2 * L);
            FloatVector v3 = FloatVector.fromArray(FS, src, at + 3 * L);
            FloatVector lo01 = v0.rearrange(PAIRS_0145).blend(v1.rearrange(PAIRS_0145), UPPER_HALF);
            FloatVector lo23 = v0.rearrange(PAIRS_2367).blend(v1.rearrange(PAIRS_2367), UPPER_HALF);
            FloatVector hi01 = v2.rearrange(PAIRS_0145).blend(v3.rearrange(PAIRS_0145), UPPER_HALF);
            FloatVector hi23 = v2.rearrange(PAIRS_2367).blend(v3.rearrange(PAIRS_2367), UPPER_HALF);
            lo01.rearrange(EVEN_LANES).blend(hi01.rearrange(EVEN_LANES), UPPER_HALF).intoArray(dst, j);
            lo01.rearrange(ODD_LANES_TWICE).blend(hi01.rearrange(ODD_LANES_TWICE), UPPER_HALF)
                    .intoArray(dst, stride + j);
            lo23.rearrange(EVEN_LANES).blend(hi23.rearrange(EVEN_LANES), UPPER_HALF).intoArray(dst, 2 * stride + j);
            lo23.rearrange(ODD_LANES_TWICE).blend(hi23.rearrange(ODD_LANES_TWICE), UPPER_HALF)
                    .intoArray(dst, 3 * stride + j);
        }
    }

    /** NHWC chunk out: {@code grad[base + j * c + ci] = src[ci * m + j]}. */
    static void transposeOut(CpuBuffer b, int base, int m, int c, float[] src, float[] linear, VectorScratch sc) {
        FloatBuffer f = b.floats;
        float[] dst;
        int dof;
        if (f.hasArray()) {
            dst = f.array();
            dof = f.arrayOffset() + base;
        } else {
            dst = linear;
            dof = 0;
        }
        int[] map = sc.laneMap(c);
        int whole = m - m % L;
        for (int ci = 0; ci < c; ci++) {
            // scatters: lane j writes pixel j's channel ci
            for (int j = 0; j < whole; j += L) {
                FloatVector.fromArray(FS, src, ci * m + j).intoArray(dst, dof + j * c + ci, map, 0);
            }
            for (int j = whole; j < m; j++) {
                dst[dof + j * c + ci] = src[ci * m + j];
            }
        }
        if (!f.hasArray()) {
            f.put(base, linear, 0, m * c);
        }
    }

    /**
     * The markers of {@link #classMarkers} for the whole vectors of len uint8 targets: y (unsigned) widened to int
     * lanes; returns how many targets were done (a multiple of the lane count).
     */
    private static int byteMarkers(byte[] src, int so, int len, int c, boolean hasIgnore, int ignore, float[] dst,
                                   int off) {
        if (BS == null) {
            return 0; // the caller's plain loop does them all
        }
        int whole = len - len % L;
        for (int j = 0; j < whole; j += L) {
            IntVector y = ((IntVector) ByteVector.fromArray(BS, src, so + j).convertShape(VectorOperators.B2I, IS, 0))
                    .and(0xFF);
            markers(y, c, hasIgnore, ignore).intoArray(dst, off + j);
        }
        return whole;
    }

    /** {@link #byteMarkers} for int32 targets. */
    private static int intMarkers(int[] src, int so, int len, int c, boolean hasIgnore, int ignore, float[] dst,
                                  int off) {
        int whole = len - len % L;
        for (int j = 0; j < whole; j += L) {
            markers(IntVector.fromArray(IS, src, so + j), c, hasIgnore, ignore).intoArray(dst, off + j);
        }
        return whole;
    }

    /**
     * Marker lanes of class indices y, compared in int lanes (exact): IGNORED where y is the ignore index (tested
     * first), else y when 0 <= y < c, else REFUSED.
     */
    private static FloatVector markers(IntVector y, int c, boolean hasIgnore, int ignore) {
        IntVector marked = y.blend((int) REFUSED, y.compare(VectorOperators.LT, 0).or(y.compare(VectorOperators.GE, c)));
        if (hasIgnore) {
            marked = marked.blend((int) IGNORED, y.compare(VectorOperators.EQ, ignore));
        }
        return (FloatVector) marked.convert(VectorOperators.I2F, 0);
    }

    /**
     * Whether the first m markers (from {@link #classMarkers}) are all class indices: no ignored pixel. Markers are
     * whole numbers, negative exactly when not a class, so their sign bits, or-ed as ints, tell.
     */
    static boolean allCounted(float[] markers, int m) {
        int whole = m - m % L;
        IntVector signs = IntVector.zero(IS);
        for (int j = 0; j < whole; j += L) {
            signs = signs.or(FloatVector.fromArray(FS, markers, j).reinterpretAsInts());
        }
        boolean counted = !signs.compare(VectorOperators.LT, 0).anyTrue();
        for (int j = whole; j < m; j++) {
            counted &= markers[j] >= 0f;
        }
        return counted;
    }

    /**
     * Multiclass targets of sample n, pixels [s, s + len), as float markers: the class index (exact in
     * float, < C), {@link #IGNORED} for the ignore index, {@link #REFUSED} for any other value. The same
     * decision as {@link CpuBuffer#classIndex} and {@link ScalarKernels}: the ignore index is tested first.
     * The markers from {@code off + len} up to {@code padTo} are set to {@link #IGNORED} (padding lanes).
     * Returns false when any marker is {@link #REFUSED}.
     */
    static boolean classMarkers(Problem p, CpuBuffer b, int n, int s, int len, float[] dst, int off, int padTo,
                             VectorScratch sc) {
        int index = (int) ((long) n * p.s + s);
        int c = (int) p.c;
        boolean hasIgnore = p.hasIgnoreIndex;
        long ignore = p.ignoreIndex;
        switch (b.type) {
            case UINT8: {
                byte[] src = byteSource(b.bytes, index, len, sc);
                int so = sourceOffset(b.bytes, index);
                int whole = byteMarkers(src, so, len, c, hasIgnore, p.ignoreIndex, dst, off);
                for (int j = whole; j < len; j++) {
                    int y = src[so + j] & 0xFF;
                    dst[off + j] = hasIgnore && y == ignore ? IGNORED : y < c ? y : REFUSED;
                }
                break;
            }
            case INT32: {
                int[] src = intSource(b.ints, index, len, sc);
                int so = sourceOffset(b.ints, index);
                int whole = intMarkers(src, so, len, c, hasIgnore, p.ignoreIndex, dst, off);
                for (int j = whole; j < len; j++) {
                    int y = src[so + j];
                    dst[off + j] = hasIgnore && y == ignore ? IGNORED : y >= 0 && y < c ? y : REFUSED;
                }
                break;
            }
            case INT64: {
                long[] src = longSource(b.longs, index, len, sc);
                int so = sourceOffset(b.longs, index);
                for (int j = 0; j < len; j++) {
                    long y = src[so + j];
                    dst[off + j] = hasIgnore && y == ignore ? IGNORED : y >= 0 && y < c ? y : REFUSED;
                }
                break;
            }
            default: {
                for (int j = 0; j < len; j++) {
                    long y = b.classIndex(index + j);
                    dst[off + j] = hasIgnore && y == ignore ? IGNORED : y >= 0 && y < c ? y : REFUSED;
                }
            }
        }
        boolean clean = true;
        int at = off;
        for (; at + L <= off + len; at += L) {
            clean &= !FloatVector.fromArray(FS, dst, at).compare(VectorOperators.EQ, REFUSED).anyTrue();
        }
        for (; at < off + len; at++) {
            clean &= dst[at] != REFUSED;
        }
        for (int j = off + len; j < padTo; j++) {
            dst[j] = IGNORED;
        }
        return clean;
    }
}
