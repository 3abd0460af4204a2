/*
 * The benchmark floor: a plain streaming read. sum = sum_i data[i] (target_t read as stored), each
 * work-item adding ITEMS elements at g * WG_SIZE * ITEMS + k * WG_SIZE + lid (the access pattern of the
 * loss kernels), a fixed-order tree in local memory, one float partial per work-group (summed on the host).
 */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void stream_read(__global const target_t *data, __global float *part, ulong length) {
    __local float l[WG_SIZE];
    uint lid = get_local_id(0);
    uint g = get_group_id(0);
    ulong i0 = (ulong) g * WG_SIZE * ITEMS + lid;
    float sum = 0.0f;
    for (uint k = 0; k < ITEMS; k++) {
        ulong i = i0 + (ulong) k * WG_SIZE;
        if (i < length) {
            sum += (float) data[i];
        }
    }
    l[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint slots = WG_SIZE; slots > 1;) {
        uint h = (slots + 1) >> 1;
        if (lid < h && lid + h < slots) {
            l[lid] += l[lid + h];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        slots = h;
    }
    if (lid == 0) {
        part[g] = l[0];
    }
}
