/* SPDX-License-Identifier: MIT */
/*
 * hdm: the hostile device model of one hfuzz case (hfuzz.h).  It receives
 * from hvmm its MMIO and IOIO ranges, an event that says "stop", and one
 * IRQ handle per VCPU.  It answers requests with random data, late or
 * never, scribbles on every slot of its areas (states, fields, slots of
 * VCPUs that have no request), SIGNALs when there is nothing to complete,
 * injects random interrupts, and sometimes dies holding a request.  It
 * ends at the "stop" event or at its deadline, whichever comes first.
 *
 * Usage (from hvmm): hdm seed=S case=C flags=F deadline=NS ranges=N irqs=N;
 * handles: N ranges, the stop event, then the IRQs.
 */
#include "hfuzz.h"
#include <coco/vm.h>

#define RANGES_MAX 8

static void scribble(uint64_t *rng, struct copra_io_slot *s)
{
    static const uint32_t states[] = { COPRA_IO_FREE, COPRA_IO_REQUEST, COPRA_IO_DONE, COPRA_IO_DONE, 3, 77,
                                       0xFFFFFFFF };
    switch (hf_below(rng, 5)) {
    case 0: s->state = states[hf_below(rng, 7)]; break;
    case 1: s->data = hf_next(rng); s->state = COPRA_IO_DONE; break;
    case 2: s->size = (uint8_t)hf_next(rng); s->write = (uint8_t)hf_next(rng); s->kind = (uint8_t)hf_next(rng); break;
    case 3: s->addr = hf_next(rng); s->seq = hf_next(rng); s->vcpu = (uint32_t)hf_next(rng); break;
    default: memset(s, (int)hf_next(rng), sizeof(*s)); break;
    }
}

int main(int argc, char **argv)
{
    uint64_t seed = coco_arg_u64(argc, argv, "seed", 1), index = coco_arg_u64(argc, argv, "case", 0);
    uint32_t flags = (uint32_t)coco_arg_u64(argc, argv, "flags", HF_DEFAULT);
    uint64_t deadline = coco_arg_u64(argc, argv, "deadline", 0);
    unsigned nranges = (unsigned)coco_arg_u64(argc, argv, "ranges", 0), nirqs = (unsigned)coco_arg_u64(argc, argv, "irqs", 0);
    if (nranges > RANGES_MAX || coco_handle_count() != nranges + 1 + nirqs)
        return 10;
    uint64_t rng = hf_case_seed(seed, index, 20);
    copra_handle_t range[RANGES_MAX], stop = coco_handle(nranges), irq[2];
    struct copra_io_area *area[RANGES_MAX];
    for (unsigned i = 0; i < nranges; i++) {
        range[i] = coco_handle(i);
        int64_t a = coco_mmap(range[i], NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
        if (a < 0)
            return 11;
        area[i] = (struct copra_io_area *)a;
    }
    for (unsigned i = 0; i < nirqs && i < 2; i++)
        irq[i] = coco_handle(nranges + 1 + i);

    for (;;) {
        uint64_t now = hf_now();
        if (now >= deadline)
            return 0;
        struct copra_wait_item w[RANGES_MAX + 1];
        for (unsigned i = 0; i < nranges; i++)
            w[i] = (struct copra_wait_item){ .handle = range[i] };
        w[nranges] = (struct copra_wait_item){ .handle = stop };
        uint64_t timeout = hf_chance(&rng, 4) ? 0 : (1 + hf_below(&rng, 3)) * HF_MS;
        if (timeout > deadline - now)
            timeout = deadline - now;
        coco_wait(w, nranges + 1, timeout);
        if (w[nranges].ready)
            return 0;
        for (unsigned r = 0; r < nranges; r++) {
            for (unsigned i = 0; i < COPRA_VCPUS_MAX; i++) {
                struct copra_io_slot *s = &area[r]->slot[i];
                if (s->state != COPRA_IO_REQUEST)
                    continue;
                uint64_t act = hf_below(&rng, 20);
                if ((flags & HF_CRASH) && act == 0 && hf_chance(&rng, 100)) {
                    if (hf_chance(&rng, 2))
                        return 3;                  /* gone with a request outstanding */
                    __asm__ volatile("ud2");   /* killed with one (#UD) */
                }
                if (act == 1)
                    continue;                      /* late: maybe the next round */
                if ((flags & HF_SLOT) && act == 2) {
                    scribble(&rng, s);
                    continue;
                }
                if (!s->write)
                    s->data = hf_chance(&rng, 2) ? hf_next(&rng) : hf_chance(&rng, 2) ? 0 : ~0ull;
                if ((flags & HF_SLOT) && act == 3)
                    s->size = (uint8_t)hf_next(&rng);   /* only data counts: the rest is ignored */
                s->state = COPRA_IO_DONE;
            }
            if ((flags & HF_SLOT) && hf_chance(&rng, 30))
                scribble(&rng, &area[r]->slot[hf_below(&rng, COPRA_VCPUS_MAX)]);
            if (hf_chance(&rng, 2))
                coco_signal(range[r]);   /* or let the next WAIT complete them */
        }
        if ((flags & HF_IRQ) && nirqs && hf_chance(&rng, 8))
            coco_irq_inject(irq[hf_below(&rng, nirqs < 2 ? nirqs : 2)],
                            hf_chance(&rng, 8) ? COPRA_IRQ_NMI : 0x10 + (unsigned)hf_below(&rng, 0xF0));
        if ((flags & HF_SLOT) && hf_chance(&rng, 50)) {
            /* Unmap the area and map it again: requests must survive. */
            unsigned r = (unsigned)hf_below(&rng, nranges);
            coco_munmap(area[r], 4096);
            int64_t a = coco_mmap(range[r], NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
            if (a < 0)
                return 12;
            area[r] = (struct copra_io_area *)a;
        }
    }
}
