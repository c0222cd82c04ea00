/* SPDX-License-Identifier: MIT */
/* Host unit tests (Check) for microkernel/core/handle.c, the per-process handle table. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/handle.h"

#define CAPACITY 8u

/* A test object that counts how often its destroy function ran. */
struct test_object {
    struct kobject obj;
    int destroyed;
};

static void test_object_destroy(struct kobject *o)
{
    ((struct test_object *)o)->destroyed++;
}

static struct handle_table table;
static struct handle_entry slots[CAPACITY];

static void setup(void)
{
    handle_table_init(&table, slots, CAPACITY);
}

static void object_init(struct test_object *t, uint32_t type)
{
    kobject_init(&t->obj, type, test_object_destroy);
    t->destroyed = 0;
}

static copra_handle_t make_handle(uint32_t gen, uint32_t slot)
{
    return (gen << HANDLE_SLOT_BITS) | slot;
}

static copra_handle_t install(struct test_object *t, uint32_t rights)
{
    int64_t h = handle_install(&table, &t->obj, rights);
    ck_assert_int_gt(h, 0);
    ck_assert_int_le(h, INT32_MAX);
    return (copra_handle_t)h;
}

START_TEST(test_init)
{
    for (uint32_t i = 0; i < CAPACITY; i++)
        slots[i].gen = 0xdead;
    setup();
    ck_assert_uint_eq(table.capacity, CAPACITY);
    ck_assert_uint_eq(table.used, 0);
    for (uint32_t i = 0; i < CAPACITY; i++) {
        ck_assert_ptr_null(slots[i].obj);
        ck_assert_uint_eq(slots[i].gen, 1);
        /* A never-used slot with the right generation is still no handle. */
        ck_assert_int_eq(handle_get(&table, make_handle(1, i), COPRA_OBJ_NONE, 0, NULL, NULL), COPRA_EBADH);
    }
}
END_TEST

START_TEST(test_lookup_any_type)
{
    struct test_object a;
    struct kobject *o = NULL;
    uint32_t rights = 0xffff;
    object_init(&a, COPRA_OBJ_EVENT);
    copra_handle_t h = install(&a, COPRA_RIGHT_WAIT | COPRA_RIGHT_MAP);
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_NONE, 0, &o, &rights), COPRA_OK);
    ck_assert_ptr_eq(o, &a.obj);
    ck_assert_uint_eq(rights, COPRA_RIGHT_WAIT | COPRA_RIGHT_MAP);
    ck_assert_uint_eq(a.obj.refs, 2);                  /* the lookup took a reference */
    kobject_put(o);
    /* A handle with no rights is still a handle. */
    copra_handle_t z = install(&a, 0);
    ck_assert_int_eq(handle_get(&table, z, COPRA_OBJ_NONE, 0, &o, &rights), COPRA_OK);
    ck_assert_uint_eq(rights, 0);
    kobject_put(o);
    o = NULL;
    ck_assert_int_eq(handle_get(&table, make_handle(7, 3), COPRA_OBJ_NONE, 0, &o, &rights), COPRA_EBADH);
    ck_assert_ptr_null(o);
    handle_table_clear(&table);
}
END_TEST

START_TEST(test_install_get_remove)
{
    struct test_object a;
    object_init(&a, COPRA_OBJ_EVENT);
    copra_handle_t h = install(&a, COPRA_RIGHT_SIGNAL | COPRA_RIGHT_WAIT);
    /* Generations start at 1; the first handle goes in slot 0. */
    ck_assert_uint_eq(h, make_handle(1, 0));
    ck_assert_uint_eq(table.used, 1);
    ck_assert_uint_eq(a.obj.refs, 1); /* the table took over the caller's reference */

    struct kobject *out = NULL;
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_EVENT, COPRA_RIGHT_SIGNAL, &out, NULL), COPRA_OK);
    ck_assert_ptr_eq(out, &a.obj);
    ck_assert_uint_eq(a.obj.refs, 2);
    kobject_put(out);
    ck_assert_uint_eq(a.obj.refs, 1);

    /* Without `out`, handle_get() takes no reference. */
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_EVENT, COPRA_RIGHT_WAIT, NULL, NULL), COPRA_OK);
    ck_assert_uint_eq(a.obj.refs, 1);

    uint32_t rights = 0;
    out = NULL;
    ck_assert_int_eq(handle_remove(&table, h, &out, &rights), COPRA_OK);
    ck_assert_ptr_eq(out, &a.obj);
    ck_assert_uint_eq(rights, COPRA_RIGHT_SIGNAL | COPRA_RIGHT_WAIT);
    ck_assert_uint_eq(table.used, 0);
    ck_assert_uint_eq(a.obj.refs, 1); /* moved to us, not dropped */
    ck_assert_int_eq(a.destroyed, 0);

    /* Gone: every operation on it fails. */
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_NONE, 0, &out, NULL), COPRA_EBADH);
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_NONE, 0, NULL, NULL), COPRA_EBADH);
    ck_assert_int_eq(handle_remove(&table, h, &out, NULL), COPRA_EBADH);
    kobject_put(&a.obj);
    ck_assert_int_eq(a.destroyed, 1);
}
END_TEST

START_TEST(test_install_fills_lowest_free_slot)
{
    struct test_object o[4];
    copra_handle_t h[4];
    for (int i = 0; i < 4; i++) {
        object_init(&o[i], COPRA_OBJ_FILE);
        h[i] = install(&o[i], COPRA_RIGHT_READ);
        ck_assert_uint_eq(h[i] & 0xffffu, (uint32_t)i);
    }
    ck_assert_uint_eq(table.used, 4);
    /* Each handle reaches its own object. */
    for (int i = 0; i < 4; i++) {
        struct kobject *out;
        ck_assert_int_eq(handle_get(&table, h[i], COPRA_OBJ_FILE, 0, &out, NULL), COPRA_OK);
        ck_assert_ptr_eq(out, &o[i].obj);
        kobject_put(out);
    }
    struct kobject *out;
    ck_assert_int_eq(handle_remove(&table, h[1], &out, NULL), COPRA_OK);
    ck_assert_ptr_eq(out, &o[1].obj);
    struct test_object n;
    object_init(&n, COPRA_OBJ_FILE);
    copra_handle_t hn = install(&n, COPRA_RIGHT_READ);
    ck_assert_uint_eq(hn & 0xffffu, 1);
    ck_assert_uint_eq(hn >> HANDLE_SLOT_BITS, 2);
}
END_TEST

START_TEST(test_stale_handle_after_reuse)
{
    struct test_object a, b;
    object_init(&a, COPRA_OBJ_MEMORY);
    object_init(&b, COPRA_OBJ_MEMORY);
    copra_handle_t old = install(&a, COPRA_RIGHTS_ALL);
    struct kobject *out;
    ck_assert_int_eq(handle_remove(&table, old, &out, NULL), COPRA_OK);
    kobject_put(out);
    ck_assert_int_eq(a.destroyed, 1);

    copra_handle_t fresh = install(&b, COPRA_RIGHTS_ALL);
    /* Same slot, different generation. */
    ck_assert_uint_eq(fresh & 0xffffu, old & 0xffffu);
    ck_assert_uint_ne(fresh, old);

    /* The stale handle never reaches the new occupant. */
    out = NULL;
    ck_assert_int_eq(handle_get(&table, old, COPRA_OBJ_MEMORY, 0, &out, NULL), COPRA_EBADH);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(handle_get(&table, old, COPRA_OBJ_NONE, 0, NULL, NULL), COPRA_EBADH);
    ck_assert_int_eq(handle_remove(&table, old, &out, NULL), COPRA_EBADH);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(b.obj.refs, 1);
    ck_assert_uint_eq(table.used, 1);

    ck_assert_int_eq(handle_get(&table, fresh, COPRA_OBJ_MEMORY, 0, &out, NULL), COPRA_OK);
    ck_assert_ptr_eq(out, &b.obj);
    kobject_put(out);
}
END_TEST

START_TEST(test_generation_wraps_without_zero)
{
    struct test_object a;
    object_init(&a, COPRA_OBJ_TIMER);
    copra_handle_t first = 0, prev = 0;
    for (uint32_t i = 0; i < HANDLE_GEN_MAX + 2; i++) {
        kobject_get(&a.obj);
        copra_handle_t h = install(&a, COPRA_RIGHT_READ);
        uint32_t gen = h >> HANDLE_SLOT_BITS;
        ck_assert_uint_ge(gen, 1);
        ck_assert_uint_le(gen, HANDLE_GEN_MAX);
        ck_assert_uint_eq(h & 0xffffu, 0);
        if (i == 0)
            first = h;
        else
            ck_assert_uint_ne(h, prev);
        /* A generation sequence of exactly HANDLE_GEN_MAX values. */
        if (i == HANDLE_GEN_MAX)
            ck_assert_uint_eq(h, first);
        if (prev)
            ck_assert_int_eq(handle_get(&table, prev, COPRA_OBJ_NONE, 0, NULL, NULL), COPRA_EBADH);
        struct kobject *out;
        ck_assert_int_eq(handle_remove(&table, h, &out, NULL), COPRA_OK);
        kobject_put(out);
        prev = h;
    }
    ck_assert_uint_eq(a.obj.refs, 1);
    ck_assert_int_eq(a.destroyed, 0);
}
END_TEST

START_TEST(test_forged_handles)
{
    struct test_object a;
    object_init(&a, COPRA_OBJ_EVENT);
    copra_handle_t h = install(&a, COPRA_RIGHTS_ALL);
    ck_assert_uint_eq(h, make_handle(1, 0));

    const copra_handle_t forged[] = {
        0,                                     /* COPRA_HANDLE_NONE: gen 0 */
        make_handle(0, 0),                     /* gen 0, live slot */
        make_handle(2, 0),                     /* wrong generation */
        make_handle(HANDLE_GEN_MAX, 0),
        make_handle(HANDLE_GEN_MAX + 1, 0),    /* gen > max */
        make_handle(0xffff, 0),
        make_handle(1, 1),                     /* free slot */
        make_handle(1, CAPACITY),              /* slot out of range */
        make_handle(1, CAPACITY + 1),
        make_handle(1, 0xffff),
        0xffffffffu,
        0x80000000u,
        0x80010000u,                           /* negative as int32, slot 0 */
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        struct kobject *out = NULL;
        ck_assert_msg(handle_get(&table, forged[i], COPRA_OBJ_NONE, 0, &out, NULL) == COPRA_EBADH,
                      "handle %#x accepted", forged[i]);
        ck_assert_ptr_null(out);
        ck_assert_int_eq(handle_get(&table, forged[i], COPRA_OBJ_NONE, 0, NULL, NULL), COPRA_EBADH);
        ck_assert_int_eq(handle_remove(&table, forged[i], &out, NULL), COPRA_EBADH);
        ck_assert_ptr_null(out);
    }
    ck_assert_uint_eq(a.obj.refs, 1);
    ck_assert_uint_eq(table.used, 1);
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_NONE, 0, NULL, NULL), COPRA_OK);
}
END_TEST

START_TEST(test_type_mismatch)
{
    struct test_object f;
    object_init(&f, COPRA_OBJ_FILE);
    copra_handle_t h = install(&f, COPRA_RIGHTS_ALL);
    for (uint32_t type = 1; type < COPRA_OBJ_COUNT; type++) {
        struct kobject *out = NULL;
        int expect = type == COPRA_OBJ_FILE ? COPRA_OK : COPRA_ETYPE;
        ck_assert_int_eq(handle_get(&table, h, type, 0, &out, NULL), expect);
        ck_assert_int_eq(handle_get(&table, h, type, 0, NULL, NULL), expect);
        if (expect == COPRA_OK)
            kobject_put(out);
        else
            ck_assert_ptr_null(out);
    }
    /* COPRA_OBJ_NONE accepts any type. */
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_NONE, 0, NULL, NULL), COPRA_OK);
    /* The type is checked before the rights. */
    struct test_object g;
    object_init(&g, COPRA_OBJ_FILE);
    copra_handle_t hg = install(&g, 0);
    ck_assert_int_eq(handle_get(&table, hg, COPRA_OBJ_VM, COPRA_RIGHT_READ, NULL, NULL), COPRA_ETYPE);
    ck_assert_uint_eq(f.obj.refs, 1);
}
END_TEST

START_TEST(test_missing_rights)
{
    struct test_object m;
    object_init(&m, COPRA_OBJ_MEMORY);
    copra_handle_t h = install(&m, COPRA_RIGHT_READ | COPRA_RIGHT_MAP);
    struct kobject *out = NULL;
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_MEMORY, COPRA_RIGHT_WRITE, &out, NULL), COPRA_ERIGHTS);
    ck_assert_ptr_null(out);
    /* All of the requested rights are needed, not any one. */
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_MEMORY, COPRA_RIGHT_READ | COPRA_RIGHT_WRITE, NULL, NULL),
                     COPRA_ERIGHTS);
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_NONE, COPRA_RIGHTS_ALL, NULL, NULL), COPRA_ERIGHTS);
    ck_assert_uint_eq(m.obj.refs, 1);
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_MEMORY, COPRA_RIGHT_READ | COPRA_RIGHT_MAP, NULL, NULL),
                     COPRA_OK);
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_MEMORY, COPRA_RIGHT_MAP, NULL, NULL), COPRA_OK);
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_MEMORY, 0, NULL, NULL), COPRA_OK);
    /* Each single right, against a handle holding all but it. */
    for (uint32_t bit = 1; bit & COPRA_RIGHTS_ALL; bit <<= 1) {
        struct test_object o;
        object_init(&o, COPRA_OBJ_EVENT);
        copra_handle_t ho = install(&o, COPRA_RIGHTS_ALL & ~bit);
        ck_assert_int_eq(handle_get(&table, ho, COPRA_OBJ_EVENT, bit, NULL, NULL), COPRA_ERIGHTS);
        ck_assert_int_eq(handle_get(&table, ho, COPRA_OBJ_EVENT, COPRA_RIGHTS_ALL & ~bit, NULL, NULL), COPRA_OK);
        ck_assert_int_eq(handle_remove(&table, ho, &out, NULL), COPRA_OK);
    }
}
END_TEST

START_TEST(test_rights_masked_to_defined_bits)
{
    struct test_object o;
    object_init(&o, COPRA_OBJ_EVENT);
    copra_handle_t h = install(&o, 0xffffffffu);
    /* Undefined right bits are never granted, so asking for one fails. */
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_NONE, 0x80u, NULL, NULL), COPRA_ERIGHTS);
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_NONE, COPRA_RIGHTS_ALL, NULL, NULL), COPRA_OK);
    struct kobject *out;
    uint32_t rights;
    ck_assert_int_eq(handle_remove(&table, h, &out, &rights), COPRA_OK);
    ck_assert_uint_eq(rights, COPRA_RIGHTS_ALL);
}
END_TEST

START_TEST(test_full_table)
{
    struct test_object o[CAPACITY + 1];
    copra_handle_t h[CAPACITY];
    for (uint32_t i = 0; i < CAPACITY; i++) {
        object_init(&o[i], COPRA_OBJ_EVENT);
        h[i] = install(&o[i], COPRA_RIGHT_WAIT);
    }
    ck_assert_uint_eq(table.used, CAPACITY);
    object_init(&o[CAPACITY], COPRA_OBJ_EVENT);
    ck_assert_int_eq(handle_install(&table, &o[CAPACITY].obj, COPRA_RIGHT_WAIT), COPRA_EFULL);
    /* On failure the caller keeps its reference, nothing was dropped. */
    ck_assert_uint_eq(o[CAPACITY].obj.refs, 1);
    ck_assert_int_eq(o[CAPACITY].destroyed, 0);
    ck_assert_uint_eq(table.used, CAPACITY);
    /* Every existing handle is untouched. */
    for (uint32_t i = 0; i < CAPACITY; i++)
        ck_assert_int_eq(handle_get(&table, h[i], COPRA_OBJ_EVENT, COPRA_RIGHT_WAIT, NULL, NULL), COPRA_OK);
    /* A freed slot makes room again. */
    struct kobject *out;
    ck_assert_int_eq(handle_remove(&table, h[5], &out, NULL), COPRA_OK);
    kobject_put(out);
    ck_assert_int_eq(o[5].destroyed, 1);
    copra_handle_t hn = install(&o[CAPACITY], COPRA_RIGHT_WAIT);
    ck_assert_uint_eq(hn & 0xffffu, 5);
    ck_assert_int_eq(handle_install(&table, &o[0].obj, 0), COPRA_EFULL);
}
END_TEST

START_TEST(test_empty_table)
{
    struct handle_table empty;
    handle_table_init(&empty, NULL, 0);
    struct test_object o;
    object_init(&o, COPRA_OBJ_EVENT);
    ck_assert_int_eq(handle_install(&empty, &o.obj, 0), COPRA_EFULL);
    ck_assert_int_eq(handle_get(&empty, make_handle(1, 0), COPRA_OBJ_NONE, 0, NULL, NULL), COPRA_EBADH);
    handle_table_clear(&empty);
    ck_assert_uint_eq(o.obj.refs, 1);
}
END_TEST

START_TEST(test_destroy_once_on_last_reference)
{
    struct test_object o;
    object_init(&o, COPRA_OBJ_THREAD);
    copra_handle_t h = install(&o, COPRA_RIGHTS_ALL);
    struct kobject *r1, *r2;
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_THREAD, 0, &r1, NULL), COPRA_OK);
    ck_assert_int_eq(handle_get(&table, h, COPRA_OBJ_THREAD, 0, &r2, NULL), COPRA_OK);
    ck_assert_uint_eq(o.obj.refs, 3);
    struct kobject *table_ref;
    ck_assert_int_eq(handle_remove(&table, h, &table_ref, NULL), COPRA_OK);
    kobject_put(table_ref);
    ck_assert_int_eq(o.destroyed, 0);
    kobject_put(r1);
    ck_assert_int_eq(o.destroyed, 0);
    kobject_put(r2);
    ck_assert_int_eq(o.destroyed, 1);
    ck_assert_uint_eq(o.obj.refs, 0);
    /* kobject_put(NULL) is a no-op. */
    kobject_put(NULL);
}
END_TEST

START_TEST(test_same_object_twice)
{
    struct test_object o;
    object_init(&o, COPRA_OBJ_EVENT);
    copra_handle_t h1 = install(&o, COPRA_RIGHT_SIGNAL);
    kobject_get(&o.obj); /* the second handle's reference */
    copra_handle_t h2 = install(&o, COPRA_RIGHT_WAIT);
    ck_assert_uint_ne(h1, h2);
    /* Rights are per handle, not per object. */
    ck_assert_int_eq(handle_get(&table, h1, COPRA_OBJ_EVENT, COPRA_RIGHT_WAIT, NULL, NULL), COPRA_ERIGHTS);
    ck_assert_int_eq(handle_get(&table, h2, COPRA_OBJ_EVENT, COPRA_RIGHT_WAIT, NULL, NULL), COPRA_OK);
    struct kobject *out;
    ck_assert_int_eq(handle_remove(&table, h1, &out, NULL), COPRA_OK);
    kobject_put(out);
    ck_assert_int_eq(o.destroyed, 0);
    ck_assert_int_eq(handle_get(&table, h2, COPRA_OBJ_EVENT, 0, NULL, NULL), COPRA_OK);
    handle_table_clear(&table);
    ck_assert_int_eq(o.destroyed, 1);
}
END_TEST

START_TEST(test_clear_drops_all_references)
{
    struct test_object o[5];
    copra_handle_t h[5];
    for (int i = 0; i < 5; i++) {
        object_init(&o[i], COPRA_OBJ_EVENT);
        h[i] = install(&o[i], COPRA_RIGHTS_ALL);
    }
    /* Leave a hole, and hold an extra reference to one object. */
    struct kobject *out;
    ck_assert_int_eq(handle_remove(&table, h[2], &out, NULL), COPRA_OK);
    kobject_get(&o[4].obj);

    handle_table_clear(&table);
    ck_assert_uint_eq(table.used, 0);
    for (int i = 0; i < 5; i++) {
        if (i == 2) {
            ck_assert_int_eq(o[i].destroyed, 0);   /* we hold the removed reference */
            continue;
        }
        ck_assert_int_eq(o[i].destroyed, i == 4 ? 0 : 1);
        ck_assert_int_eq(handle_get(&table, h[i], COPRA_OBJ_NONE, 0, NULL, NULL), COPRA_EBADH);
    }
    ck_assert_uint_eq(o[4].obj.refs, 1);
    kobject_put(&o[4].obj);
    ck_assert_int_eq(o[4].destroyed, 1);
    kobject_put(out);
    ck_assert_int_eq(o[2].destroyed, 1);
    for (uint32_t i = 0; i < CAPACITY; i++)
        ck_assert_ptr_null(slots[i].obj);

    /* A second clear is harmless, and the table is usable afterwards with
     * new generations. */
    handle_table_clear(&table);
    struct test_object n;
    object_init(&n, COPRA_OBJ_EVENT);
    copra_handle_t hn = install(&n, 0);
    ck_assert_uint_eq(hn & 0xffffu, 0);
    ck_assert_uint_ne(hn, h[0]);
    ck_assert_int_eq(n.destroyed, 0);
}
END_TEST

/* The rights `h` holds, through handle_get(); 0 if it is no handle. */
static uint32_t rights_of(copra_handle_t h)
{
    struct kobject *o;
    uint32_t r;
    if (handle_get(&table, h, COPRA_OBJ_NONE, 0, &o, &r) != COPRA_OK)
        return 0;
    kobject_put(o);
    return r;
}

START_TEST(test_handle_rights)
{
    struct test_object o;
    object_init(&o, COPRA_OBJ_EVENT);
    copra_handle_t h = install(&o, COPRA_RIGHT_SIGNAL | COPRA_RIGHT_WAIT | 0x100u);
    /* Masked to the defined rights, as installed. */
    ck_assert_uint_eq(rights_of(h), COPRA_RIGHT_SIGNAL | COPRA_RIGHT_WAIT);
    ck_assert_uint_eq(rights_of(0), 0);
    ck_assert_uint_eq(rights_of(make_handle(2, 0)), 0);
    ck_assert_uint_eq(rights_of(make_handle(1, CAPACITY)), 0);
    ck_assert_uint_eq(o.obj.refs, 1);
    struct kobject *out;
    ck_assert_int_eq(handle_remove(&table, h, &out, NULL), COPRA_OK);
    /* Stale after removal, and after the slot is reused. */
    ck_assert_uint_eq(rights_of(h), 0);
    kobject_get(&o.obj);
    copra_handle_t again = install(&o, COPRA_RIGHT_READ);
    ck_assert_uint_eq(again & 0xffffu, h & 0xffffu);
    ck_assert_uint_eq(rights_of(h), 0);
    ck_assert_uint_eq(rights_of(again), COPRA_RIGHT_READ);
}
END_TEST

static Suite *handle_suite(void)
{
    Suite *s = suite_create("handle");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_init);
    tcase_add_test(tc, test_lookup_any_type);
    tcase_add_test(tc, test_install_get_remove);
    tcase_add_test(tc, test_install_fills_lowest_free_slot);
    tcase_add_test(tc, test_stale_handle_after_reuse);
    tcase_add_test(tc, test_generation_wraps_without_zero);
    tcase_add_test(tc, test_forged_handles);
    tcase_add_test(tc, test_type_mismatch);
    tcase_add_test(tc, test_missing_rights);
    tcase_add_test(tc, test_rights_masked_to_defined_bits);
    tcase_add_test(tc, test_full_table);
    tcase_add_test(tc, test_empty_table);
    tcase_add_test(tc, test_destroy_once_on_last_reference);
    tcase_add_test(tc, test_same_object_twice);
    tcase_add_test(tc, test_clear_drops_all_references);
    tcase_add_test(tc, test_handle_rights);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(handle_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
