/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng over MMIO (program `virtio-rng`; virtio 1.1 §5.4), on the
 * transport of coco/virtio.h: one queue, no features besides VERSION_1 and
 * no configuration; every device-writable byte of a chain is filled with
 * random bytes.
 *
 *   argv:    virtio-rng vcpus=N ram=BYTES [ram_at=GPA] base=GPA [irq=GSI]
 *   handles: [0] the MMIO range, [1] guest RAM, [2] the line when irq=
 *
 * The source: neither the kernel nor the ABI offers randomness (no syscall,
 * no boot-time seed), so the bytes come from the CPU's RDRAND (Intel SDM
 * vol. 1 §7.3.17; AMD has it since family 17h), which executes in ring 3
 * without a VM exit: on a confidential VM the host cannot see or choose
 * them.  RDRAND may transiently fail (CF = 0); it is retried 10 times as
 * the SDM's guidance suggests (vol. 1 §7.3.17.1).
 *
 * Without RDRAND (CPUID.1:ECX[30] clear), or if it keeps failing, the
 * model falls back to a documented weak source and says so in its log
 * once: RDTSC jitter (the low bits of 64 TSC reads around CLOCK syscalls,
 * whose timing varies with caches, interrupts and the other VCPUs) mixed
 * by the splitmix64 finaliser.  That is not a cryptographic generator; the
 * guest's kernel mixes what it gets into its own pool, and credits it
 * according to the `rng_core.default_quality` it was told, so the VM
 * description should not offer virtio-rng as a trusted source on such a CPU.
 */
#include <coco/coco.h>
#include <coco/virtio.h>

#define RDRAND_RETRIES    10u
#define JITTER_READS      64u
/* Most bytes one chain gets: the device may write less than offered
 * (§5.4.6.2), and a guest offering a gigabyte must not stall the loop. */
#define CHAIN_BYTES_MAX   65536u

struct rng_model {
    struct virtio_mmio dev;
    bool rdrand;
    bool fallback_logged;
    uint64_t jitter_state;
    uint64_t bytes;
};

static bool cpu_has_rdrand(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    return (c >> 30) & 1u;
}

static bool rdrand64(uint64_t *value)
{
    for (unsigned i = 0; i < RDRAND_RETRIES; i++) {
        uint8_t ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*value), "=qm"(ok) : : "cc");
        if (ok)
            return true;
    }
    return false;
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* splitmix64's finaliser (Steele, Lea, Flood 2014): a bijective mixer. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The weak fallback (see the file's comment). */
static uint64_t jitter64(struct rng_model *m)
{
    if (!m->fallback_logged) {
        coco_printf("no working RDRAND: serving RDTSC-jitter bytes, which are NOT cryptographically random\n");
        m->fallback_logged = true;
    }
    for (unsigned i = 0; i < JITTER_READS; i++) {
        uint64_t t0 = rdtsc();
        if (i % 16 == 0)
            (void)coco_clock();   /* a kernel entry: more timing noise */
        m->jitter_state = mix64(m->jitter_state ^ ((rdtsc() - t0) << (i % 57)) ^ t0);
    }
    return m->jitter_state;
}

static uint64_t rng_next(struct rng_model *m)
{
    uint64_t v;
    if (m->rdrand && rdrand64(&v))
        return v;
    return jitter64(m);
}

static void rng_notify(struct virtio_mmio *dev, unsigned queue)
{
    static struct virtio_chain chain;
    struct rng_model *m = dev->state;

    while (virtio_mmio_pop(dev, queue, &chain) == VIRTIO_POP_CHAIN) {
        uint32_t written = 0;
        uint8_t block[8];
        /* Bytes go into the writable segments in order, as the used
         * ring's len says (§2.6.8.1). */
        while (chain.error == 0 && written < CHAIN_BYTES_MAX && written < chain.writable) {
            uint64_t v = rng_next(m);
            memcpy(block, &v, sizeof block);
            uint32_t n = (uint32_t)virtio_chain_write(&chain, written, block, sizeof block);
            if (n == 0)
                break;
            written += n;
        }
        m->bytes += written;
        virtio_mmio_push(dev, queue, chain.head, written);
    }
}

static const struct virtio_mmio_ops rng_ops = { .notify = rng_notify };

int main(int argc, char **argv)
{
    static struct rng_model m;

    if (virtio_model_map_ram(&m.dev, argc, argv) < 0)
        return 1;
    m.rdrand = cpu_has_rdrand();
    m.jitter_state = mix64(rdtsc());
    coco_printf("random bytes from %s\n", m.rdrand ? "RDRAND" : "RDTSC jitter (weak: no RDRAND)");
    m.dev.device_id = VIRTIO_ID_RNG;
    m.dev.nqueues = 1;
    m.dev.queue_num_max = VIRTIO_QUEUE_NUM_MAX;
    m.dev.ops = &rng_ops;
    m.dev.state = &m;
    return virtio_model_run(&m.dev, argc, argv);
}
