/* SPDX-License-Identifier: MIT */
/*
 * Producer/consumer stress across CPUs, all threads of one process.
 *
 * Phase 1: PAIRS producer/consumer pairs, thread i pinned to CPU
 * i % ncpus (producer 2k, consumer 2k+1), move ITEMS items in all through
 * single-producer single-consumer rings in process memory.  The producer
 * SIGNALs "items" after every push, the consumer SIGNALs "space" after
 * every pop, and each side WAITs only after finding the ring empty/full.
 * With counting events that protocol cannot lose a wake-up, so a WAIT that
 * times out is a kernel bug.  The consumer checks it gets exactly the
 * sequence 0, 1, ... of its producer, and the counts its WAITs report plus
 * what is still pending add up to exactly the signals sent.
 *
 * Phase 2: SIGNALERS threads, one per CPU round robin, SIGNAL one event
 * SIGNALS_EACH times at once while the main thread WAITs and sums the
 * counts: the sum must come to exactly SIGNALERS * SIGNALS_EACH.
 */
#include <coco/coco.h>
#include <coco/test.h>

#define ITEMS         100000u
#define PAIRS         2u
#define RING_SLOTS    64u
#define SIGNALERS     4u
#define SIGNALS_EACH  10000u
#define WAIT_LIMIT    (10ull * 1000 * 1000 * 1000)   /* 10 s: a lost wake-up */

struct ring {
    /* head: next slot to pop (consumer writes); tail: next to push (producer). */
    uint64_t head __attribute__((aligned(64)));
    uint64_t tail __attribute__((aligned(64)));
    uint64_t slot[RING_SLOTS];
};

struct pair {
    struct ring ring;
    copra_handle_t items, space;   /* events */
    uint64_t count;                /* items this pair moves */
    uint64_t producer_cpu, consumer_cpu;
    /* Results, read by main after the joins. */
    uint64_t received, out_of_order, first_bad;
    uint64_t items_signalled, items_counted;   /* signals sent / WAIT values summed */
    int64_t producer_cpu_seen, consumer_cpu_seen;
    int64_t producer_error, consumer_error;
};

static struct pair pairs[PAIRS];
COPRA_STATIC_ASSERT(ITEMS % PAIRS == 0, "the pairs share the items evenly");

/* WAIT for `event`; returns the count it reports or an error. */
static int64_t wait_event(copra_handle_t event, uint64_t timeout_ns)
{
    struct copra_wait_item item = { .handle = event };
    int64_t ready = coco_wait(&item, 1, timeout_ns);
    if (ready < 0)
        return ready;
    return item.ready ? (int64_t)item.value : COPRA_EINVAL;
}

static int producer(void *arg)
{
    struct pair *p = arg;
    struct ring *r = &p->ring;

    p->producer_cpu_seen = coco_cpu_current();
    for (uint64_t n = 0; n < p->count; n++) {
        while (n - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) >= RING_SLOTS) {
            int64_t got = wait_event(p->space, WAIT_LIMIT);
            if (got < 0) {
                p->producer_error = got;
                return 1;
            }
        }
        r->slot[n % RING_SLOTS] = n;
        __atomic_store_n(&r->tail, n + 1, __ATOMIC_RELEASE);
        int error = coco_signal(p->items);
        if (error != 0) {
            p->producer_error = error;
            return 2;
        }
        p->items_signalled++;
    }
    return 0;
}

static int consumer(void *arg)
{
    struct pair *p = arg;
    struct ring *r = &p->ring;

    p->consumer_cpu_seen = coco_cpu_current();
    for (uint64_t n = 0; n < p->count; n++) {
        while (__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == n) {
            int64_t got = wait_event(p->items, WAIT_LIMIT);
            if (got < 0) {
                p->consumer_error = got;
                return 1;
            }
            p->items_counted += (uint64_t)got;
        }
        uint64_t value = r->slot[n % RING_SLOTS];
        __atomic_store_n(&r->head, n + 1, __ATOMIC_RELEASE);
        int error = coco_signal(p->space);
        if (error != 0) {
            p->consumer_error = error;
            return 2;
        }
        if (value != n && p->out_of_order++ == 0)
            p->first_bad = n;
        p->received++;
    }
    return 0;
}

static uint32_t ncpus(void)
{
    struct copra_sysinfo info;
    return coco_sysinfo(&info, sizeof(info)) == 0 && info.ncpus > 0 ? info.ncpus : 1;
}

static void test_pairs(uint32_t cpus)
{
    int64_t threads[2 * PAIRS];

    for (unsigned k = 0; k < PAIRS; k++) {
        struct pair *p = &pairs[k];
        int64_t items = coco_event_create(0), space = coco_event_create(0);
        if (!CHECK("create the pair's events", items > 0 && space > 0))
            return;
        p->items = (copra_handle_t)items;
        p->space = (copra_handle_t)space;
        p->count = ITEMS / PAIRS;
        p->producer_cpu = (2 * k) % cpus;
        p->consumer_cpu = (2 * k + 1) % cpus;
        p->producer_cpu_seen = p->consumer_cpu_seen = -1;
    }
    int64_t start = coco_clock();
    for (unsigned k = 0; k < PAIRS; k++) {
        /* The consumer first, so that it usually finds the ring empty. */
        threads[2 * k + 1] = coco_thread_spawn(consumer, &pairs[k], 0, pairs[k].consumer_cpu);
        threads[2 * k] = coco_thread_spawn(producer, &pairs[k], 0, pairs[k].producer_cpu);
    }
    for (unsigned i = 0; i < 2 * PAIRS; i++) {
        if (threads[i] < 0) {
            coco_printf("  thread %u: %s\n", i, coco_strerror(threads[i]));
            CHECK("spawn producer and consumer threads", false);
            return;
        }
    }
    CHECK("spawn producer and consumer threads", true);

    unsigned failed_threads = 0;
    for (unsigned i = 0; i < 2 * PAIRS; i++) {
        int64_t status = -1;
        int error = coco_thread_join((copra_handle_t)threads[i], &status);
        if (error != 0 || status != 0) {
            failed_threads++;
            coco_printf("  thread %u: join %s, status %ld\n", i, coco_strerror(error), (long)status);
        }
        coco_close((copra_handle_t)threads[i]);
    }
    int64_t elapsed = coco_clock() - start;
    coco_printf("%u items through %u rings on %u CPUs in %ld us\n", ITEMS, PAIRS, cpus,
                (long)(elapsed / 1000));
    CHECK("every producer and consumer ended with status 0", failed_threads == 0);

    uint64_t received = 0, out_of_order = 0;
    bool pinned = true, counted = true, errors = false;
    for (unsigned k = 0; k < PAIRS; k++) {
        struct pair *p = &pairs[k];
        received += p->received;
        out_of_order += p->out_of_order;
        if (p->producer_error || p->consumer_error) {
            errors = true;
            coco_printf("  pair %u: producer %s, consumer %s (after %lu of %lu items)\n", k,
                        coco_strerror(p->producer_error), coco_strerror(p->consumer_error),
                        (unsigned long)p->received, (unsigned long)p->count);
        }
        if (p->out_of_order)
            coco_printf("  pair %u: %lu items out of order, first at %lu\n", k,
                        (unsigned long)p->out_of_order, (unsigned long)p->first_bad);
        if (p->producer_cpu_seen != (int64_t)p->producer_cpu ||
            p->consumer_cpu_seen != (int64_t)p->consumer_cpu) {
            pinned = false;
            coco_printf("  pair %u: producer on CPU %ld (want %lu), consumer on %ld (want %lu)\n",
                        k, (long)p->producer_cpu_seen, (unsigned long)p->producer_cpu,
                        (long)p->consumer_cpu_seen, (unsigned long)p->consumer_cpu);
        }
        /* Signals the consumer's WAITs did not take are still pending. */
        int64_t pending = wait_event(p->items, 0);
        uint64_t total = p->items_counted + (pending > 0 ? (uint64_t)pending : 0);
        if (total != p->items_signalled) {
            counted = false;
            coco_printf("  pair %u: %lu signals sent, %lu counted by WAITs + %ld pending\n", k,
                        (unsigned long)p->items_signalled, (unsigned long)p->items_counted,
                        (long)pending);
        }
        coco_close(p->items);
        coco_close(p->space);
    }
    CHECK("no WAIT timed out and no SIGNAL failed", !errors);
    CHECK_EQUAL("the consumers received every item", received, ITEMS);
    CHECK_EQUAL("every item arrived in order", out_of_order, 0);
    CHECK("each thread ran on the CPU it was pinned to", pinned);
    CHECK("event counts: WAIT values + pending == signals sent", counted);
}

struct signaler {
    copra_handle_t event;
    int64_t error;
    uint64_t sent;
};

static int signal_loop(void *arg)
{
    struct signaler *s = arg;
    for (unsigned i = 0; i < SIGNALS_EACH; i++) {
        int error = coco_signal(s->event);
        if (error != 0) {
            s->error = error;
            return 1;
        }
        s->sent++;
    }
    return 0;
}

static void test_many_signalers(uint32_t cpus)
{
    static struct signaler signalers[SIGNALERS];
    int64_t threads[SIGNALERS];
    int64_t event = coco_event_create(0);
    if (!CHECK("create the shared event", event > 0))
        return;

    for (unsigned i = 0; i < SIGNALERS; i++) {
        signalers[i] = (struct signaler){ .event = (copra_handle_t)event };
        threads[i] = coco_thread_spawn(signal_loop, &signalers[i], 0, i % cpus);
    }
    uint64_t counted = 0;
    int64_t last = 0;
    while (counted < SIGNALERS * SIGNALS_EACH) {
        last = wait_event((copra_handle_t)event, WAIT_LIMIT);
        if (last < 0)
            break;
        counted += (uint64_t)last;
    }
    unsigned failed_threads = 0;
    uint64_t sent = 0;
    for (unsigned i = 0; i < SIGNALERS; i++) {
        int64_t status = -1;
        if (threads[i] < 0 || coco_thread_join((copra_handle_t)threads[i], &status) != 0 ||
            status != 0)
            failed_threads++;
        if (threads[i] > 0)
            coco_close((copra_handle_t)threads[i]);
        sent += signalers[i].sent;
    }
    int64_t extra = wait_event((copra_handle_t)event, 0);
    coco_printf("%lu signals sent, %lu counted, then %s\n", (unsigned long)sent,
                (unsigned long)counted, coco_strerror(extra));
    CHECK("every signaler ran to the end", failed_threads == 0);
    CHECK_EQUAL("WAIT values sum to the signals sent", counted, SIGNALERS * SIGNALS_EACH);
    CHECK_EQUAL("nothing is left pending", extra, COPRA_ETIMEOUT);
    coco_close((copra_handle_t)event);
}

int main(void)
{
    uint32_t cpus = ncpus();
    coco_printf("%u CPUs\n", cpus);
    test_pairs(cpus);
    test_many_signalers(cpus);
    return coco_test_finish();
}
