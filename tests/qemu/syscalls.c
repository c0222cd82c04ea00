/* SPDX-License-Identifier: MIT */
/*
 * Syscall conformance: every syscall with valid arguments, then with a bad
 * handle, a closed handle, a kernel pointer, an unmapped pointer, a huge
 * length and other out-of-range values, each expecting the error that
 * abi/README.md documents.
 */
#include <coco/coco.h>
#include <coco/test.h>

#define KPTR      0xFFFFFFFFC0010000ull   /* kernel text */
#define KPTR_DMAP 0xFFFF800000100000ull   /* kernel direct map */
#define UNMAPPED  0x00007f0000000000ull   /* user range, nothing mapped */
#define NOT_USER  0x0000800000000000ull   /* first non-canonical address */
#define HUGE      (1ull << 62)
#define FORGED    0x7fff00ffu             /* slot 255, generation never issued */

static int64_t sys(uint64_t nr, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
    return coco_syscall6(nr, a, b, c, d, e, 0);
}

static const char data_path[] = "data.txt";
static const char data_head[] = "copra test data";

#define EXPECT(name, expr, want) do { \
        int64_t got_ = (expr); \
        if (!CHECK(name, got_ == (int64_t)(want))) \
            coco_printf("  %s: got %ld, want %ld\n", name, (long)got_, (long)(want)); \
    } while (0)

static copra_handle_t open_data(void)
{
    return (copra_handle_t)coco_open(data_path, sizeof(data_path) - 1);
}

static void test_open_close(void)
{
    int64_t h = coco_open(data_path, sizeof(data_path) - 1);
    CHECK("open valid", h > 0);
    EXPECT("close valid", coco_close((copra_handle_t)h), 0);
    EXPECT("close closed handle", coco_close((copra_handle_t)h), COPRA_EBADH);
    EXPECT("close forged handle", coco_close(FORGED), COPRA_EBADH);
    EXPECT("close handle 0", coco_close(0), COPRA_EBADH);
    EXPECT("close >32-bit handle", sys(COPRA_SYS_CLOSE, 1ull << 40, 0, 0, 0, 0), COPRA_EBADH);

    int64_t h2 = coco_open("/data.txt", 9);
    CHECK("open with leading slash", h2 > 0);
    CHECK("closed slot reused with a new generation", h2 > 0 && h2 != h);
    EXPECT("stale handle after slot reuse", coco_close((copra_handle_t)h), COPRA_EBADH);
    coco_close((copra_handle_t)h2);

    EXPECT("open empty path", coco_open(data_path, 0), COPRA_EINVAL);
    EXPECT("open path too long", coco_open(data_path, COPRA_PATH_MAX + 1), COPRA_ERANGE);
    EXPECT("open kernel pointer", sys(COPRA_SYS_OPEN, KPTR, 8, 0, 0, 0), COPRA_EFAULT);
    EXPECT("open unmapped pointer", sys(COPRA_SYS_OPEN, UNMAPPED, 8, 0, 0, 0), COPRA_EFAULT);
    EXPECT("open null pointer", sys(COPRA_SYS_OPEN, 0, 8, 0, 0, 0), COPRA_EFAULT);
    EXPECT("open huge length", coco_open(data_path, HUGE), COPRA_ERANGE);
    EXPECT("open missing file", coco_open("nope", 4), COPRA_ENOENT);
}

static void test_read(void)
{
    char buf[64];
    copra_handle_t h = open_data();
    memset(buf, 0, sizeof(buf));
    EXPECT("read valid", coco_read(h, buf, sizeof(data_head) - 1, 0), sizeof(data_head) - 1);
    CHECK("read returns the file's bytes", !memcmp(buf, data_head, sizeof(data_head) - 1));
    EXPECT("read at offset", coco_read(h, buf, 4, 6), 4);
    CHECK("read at offset gives those bytes", !memcmp(buf, "test", 4));
    EXPECT("read past end of file", coco_read(h, buf, 4, 1u << 30), 0);
    EXPECT("read kernel pointer", coco_read(h, (void *)KPTR, 4, 0), COPRA_EFAULT);
    EXPECT("read direct-map pointer", coco_read(h, (void *)KPTR_DMAP, 4, 0), COPRA_EFAULT);
    EXPECT("read unmapped pointer", coco_read(h, (void *)UNMAPPED, 4, 0), COPRA_EFAULT);
    EXPECT("read into read-only text", coco_read(h, (void *)(uintptr_t)&test_read, 4, 0), COPRA_EFAULT);
    EXPECT("read huge length", coco_read(h, buf, HUGE, 0), COPRA_EFAULT);
    EXPECT("read wrapping range", coco_read(h, (void *)(NOT_USER - 8), 64, 0), COPRA_EFAULT);
    EXPECT("read forged handle", coco_read(FORGED, buf, 4, 0), COPRA_EBADH);
    EXPECT("read >32-bit handle", sys(COPRA_SYS_READ, (1ull << 33) | h, (uint64_t)buf, 4, 0, 0), COPRA_EBADH);
    coco_close(h);
    EXPECT("read closed handle", coco_read(h, buf, 4, 0), COPRA_EBADH);

    const char *argv[] = { "child", "exit", "0" };
    int64_t p = coco_spawn("child", 3, argv, NULL, 0);
    EXPECT("read on a process handle", coco_read((copra_handle_t)p, buf, 4, 0), COPRA_ETYPE);
    coco_wait_process((copra_handle_t)p, NULL);
    coco_close((copra_handle_t)p);
}

static void test_mmap(void)
{
    int64_t a = coco_mmap(COPRA_HANDLE_NONE, NULL, 3 * 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0);
    CHECK("mmap anonymous", a > 0 && (a & 4095) == 0);
    if (a > 0) {
        volatile uint8_t *p = (uint8_t *)a;
        bool zero = p[0] == 0 && p[3 * 4096 - 1] == 0;
        p[0] = 1;
        p[3 * 4096 - 1] = 2;
        CHECK("mmap memory is zeroed and writable", zero && p[0] == 1 && p[3 * 4096 - 1] == 2);
        EXPECT("munmap middle page", coco_munmap((void *)(a + 4096), 4096), 0);
        p[0] = 3;
        p[2 * 4096] = 4;
        CHECK("pages around a partial unmap stay mapped", p[0] == 3 && p[2 * 4096] == 4);
        char buf[4];
        copra_handle_t h = open_data();
        EXPECT("the unmapped middle page faults in the kernel as EFAULT",
               coco_read(h, (void *)(a + 4096), 4, 0), COPRA_EFAULT);
        coco_close(h);
        EXPECT("mmap fixed on a free range", coco_mmap(COPRA_HANDLE_NONE, (void *)(a + 4096), 4096,
                                                       COPRA_PROT_READ, 0), a + 4096);
        EXPECT("mmap fixed over a mapping", coco_mmap(COPRA_HANDLE_NONE, (void *)a, 4096,
                                                      COPRA_PROT_READ, 0), COPRA_EEXIST);
        EXPECT("munmap whole range", coco_munmap((void *)a, 3 * 4096), 0);
        (void)buf;
    }
    EXPECT("mmap zero length", coco_mmap(0, NULL, 0, COPRA_PROT_READ, 0), COPRA_EINVAL);
    EXPECT("mmap huge length", coco_mmap(0, NULL, HUGE, COPRA_PROT_READ, 0), COPRA_ERANGE);
    EXPECT("mmap write+exec", coco_mmap(0, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE | COPRA_PROT_EXEC, 0),
           COPRA_EPERM);
    EXPECT("mmap no read", coco_mmap(0, NULL, 4096, COPRA_PROT_WRITE, 0), COPRA_EINVAL);
    EXPECT("mmap unknown prot bit", coco_mmap(0, NULL, 4096, COPRA_PROT_READ | 0x80, 0), COPRA_EINVAL);
    EXPECT("mmap unaligned address", coco_mmap(0, (void *)0x10000001ull, 4096, COPRA_PROT_READ, 0),
           COPRA_EALIGN);
    EXPECT("mmap kernel address", coco_mmap(0, (void *)KPTR, 4096, COPRA_PROT_READ, 0), COPRA_EINVAL);
    EXPECT("mmap range past user end", coco_mmap(0, (void *)(NOT_USER - 4096), 8192, COPRA_PROT_READ, 0),
           COPRA_EINVAL);
    EXPECT("mmap anonymous with offset", coco_mmap(0, NULL, 4096, COPRA_PROT_READ, 4096), COPRA_EINVAL);

    copra_handle_t h = open_data();
    int64_t f = coco_mmap(h, NULL, 4096, COPRA_PROT_READ, 0);
    CHECK("mmap file read-only", f > 0 && !memcmp((void *)f, data_head, sizeof(data_head) - 1));
    if (f > 0)
        coco_munmap((void *)f, 4096);
    EXPECT("mmap file writable", coco_mmap(h, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_WRITE, 0), COPRA_EPERM);
    EXPECT("mmap file executable", coco_mmap(h, NULL, 4096, COPRA_PROT_READ | COPRA_PROT_EXEC, 0), COPRA_EPERM);
    EXPECT("mmap file unaligned offset", coco_mmap(h, NULL, 4096, COPRA_PROT_READ, 100), COPRA_EALIGN);
    EXPECT("mmap file offset past end", coco_mmap(h, NULL, 4096, COPRA_PROT_READ, 1u << 20), COPRA_EINVAL);
    EXPECT("mmap forged handle", coco_mmap(FORGED, NULL, 4096, COPRA_PROT_READ, 0), COPRA_EBADH);
    coco_close(h);
    EXPECT("mmap closed handle", coco_mmap(h, NULL, 4096, COPRA_PROT_READ, 0), COPRA_EBADH);

    EXPECT("munmap unaligned", coco_munmap((void *)0x10000001ull, 4096), COPRA_EALIGN);
    EXPECT("munmap zero length", coco_munmap((void *)0x10000000ull, 0), COPRA_EINVAL);
    EXPECT("munmap kernel address", coco_munmap((void *)KPTR, 4096), COPRA_EINVAL);
    EXPECT("munmap huge length", coco_munmap((void *)0x10000000ull, HUGE), COPRA_EINVAL);
    EXPECT("munmap nothing mapped", coco_munmap((void *)UNMAPPED, 4096), 0);
}

static void test_log(void)
{
    static char big[COPRA_LOG_MAX + 1];
    EXPECT("log valid", coco_log("conformance log line", 20), 0);
    EXPECT("log too long", coco_log(big, sizeof(big)), COPRA_ERANGE);
    EXPECT("log kernel pointer", sys(COPRA_SYS_LOG, KPTR, 16, 0, 0, 0), COPRA_EFAULT);
    EXPECT("log unmapped pointer", sys(COPRA_SYS_LOG, UNMAPPED, 16, 0, 0, 0), COPRA_EFAULT);
    EXPECT("log huge length", sys(COPRA_SYS_LOG, (uint64_t)big, HUGE, 0, 0, 0), COPRA_ERANGE);
}

static void test_exec_wait(void)
{
    const char *args[] = { "child", "args", "A", "BB", "CCC" };
    int64_t p = coco_spawn("child", 5, args, NULL, 0);
    int64_t status = -1;
    CHECK("exec valid", p > 0);
    EXPECT("wait gives the child's status (argv passed)", coco_wait_process((copra_handle_t)p, &status) == 0 ? status : -1, 0);
    coco_close((copra_handle_t)p);

    const char *ex[] = { "child", "exit", "42" };
    p = coco_spawn("child", 3, ex, NULL, 0);
    EXPECT("exit status reaches the parent", coco_wait_process((copra_handle_t)p, &status) == 0 ? status : -1, 42);
    struct copra_wait_item item = { .handle = (copra_handle_t)p };
    EXPECT("wait on an exited process is ready at once", coco_wait(&item, 1, 0), 1);
    CHECK("wait item reports ready and value", item.ready == 1 && item.value == 42);
    coco_close((copra_handle_t)p);

    /* Handle moving: the child reads the file through the moved handle. */
    copra_handle_t h = open_data();
    const char *hv[] = { "child", "handle" };
    p = coco_spawn("child", 2, hv, &h, 1);
    EXPECT("exec moving a handle; the child can use it", coco_wait_process((copra_handle_t)p, &status) == 0 ? status : -1, 0);
    EXPECT("a moved handle is closed in the parent", coco_close(h), COPRA_EBADH);
    coco_close((copra_handle_t)p);

    /* Timeouts. */
    const char *sp[] = { "child", "spin", "50000000" };
    p = coco_spawn("child", 3, sp, NULL, 0);
    item.handle = (copra_handle_t)p;
    EXPECT("wait poll on a running process", coco_wait(&item, 1, 0), COPRA_ETIMEOUT);
    EXPECT("wait 30 ms timeout", coco_wait(&item, 1, 30000000ull), COPRA_ETIMEOUT);
    EXPECT("wait forever", coco_wait(&item, 1, COPRA_WAIT_FOREVER), 1);
    CHECK("spinning child's status", item.value == 7);
    coco_close((copra_handle_t)p);

    struct copra_exec_args a = { .path = (uint64_t)"child", .path_len = 5 };
    EXPECT("exec args kernel pointer", coco_exec((void *)KPTR), COPRA_EFAULT);
    EXPECT("exec args unmapped pointer", coco_exec((void *)UNMAPPED), COPRA_EFAULT);
    a.path = KPTR;
    EXPECT("exec path kernel pointer", coco_exec(&a), COPRA_EFAULT);
    a.path = (uint64_t)"child";
    a.path_len = 0;
    EXPECT("exec empty path", coco_exec(&a), COPRA_EINVAL);
    a.path_len = HUGE;
    EXPECT("exec huge path length", coco_exec(&a), COPRA_ERANGE);
    a.path = (uint64_t)"nothing";
    a.path_len = 7;
    EXPECT("exec missing file", coco_exec(&a), COPRA_ENOENT);
    a.path = (uint64_t)data_path;
    a.path_len = sizeof(data_path) - 1;
    EXPECT("exec a non-ELF file", coco_exec(&a), COPRA_ENOEXEC);
    a.path = (uint64_t)"child";
    a.path_len = 5;
    a.argv = (uint64_t)"child\0exit\0";
    a.argv_len = 11;
    a.argc = 3;
    EXPECT("exec argc disagrees with argv", coco_exec(&a), COPRA_EINVAL);
    a.argv_len = 10;
    a.argc = 2;
    EXPECT("exec argv not NUL-terminated", coco_exec(&a), COPRA_EINVAL);
    a.argv_len = HUGE;
    EXPECT("exec huge argv", coco_exec(&a), COPRA_ERANGE);
    a.argv_len = 11;
    a.argc = 1000;
    EXPECT("exec too many args", coco_exec(&a), COPRA_ERANGE);
    a.argc = 2;
    a.argv = KPTR;
    EXPECT("exec argv kernel pointer", coco_exec(&a), COPRA_EFAULT);
    a.argv = (uint64_t)"child\0exit\0";
    a.nhandles = COPRA_EXEC_HANDLES_MAX + 1;
    EXPECT("exec too many handles", coco_exec(&a), COPRA_ERANGE);
    copra_handle_t hs[2] = { FORGED, FORGED };
    a.handles = (uint64_t)hs;
    a.nhandles = 1;
    EXPECT("exec moving a forged handle", coco_exec(&a), COPRA_EBADH);
    hs[0] = hs[1] = open_data();
    a.nhandles = 2;
    EXPECT("exec moving one handle twice", coco_exec(&a), COPRA_EINVAL);
    a.handles = UNMAPPED;
    EXPECT("exec handle list unmapped", coco_exec(&a), COPRA_EFAULT);
    EXPECT("handle survives failed execs", coco_close(hs[0]), 0);

    EXPECT("wait zero items", coco_wait(&item, 0, 0), COPRA_EINVAL);
    EXPECT("wait too many items", coco_wait(&item, COPRA_WAIT_MAX + 1, 0), COPRA_ERANGE);
    EXPECT("wait kernel pointer", coco_wait((void *)KPTR, 1, 0), COPRA_EFAULT);
    EXPECT("wait unmapped pointer", coco_wait((void *)UNMAPPED, 1, 0), COPRA_EFAULT);
    item.handle = FORGED;
    EXPECT("wait forged handle", coco_wait(&item, 1, 0), COPRA_EBADH);
    item.handle = (copra_handle_t)p;
    EXPECT("wait closed handle", coco_wait(&item, 1, 0), COPRA_EBADH);
    item.handle = open_data();
    EXPECT("wait on a file handle", coco_wait(&item, 1, 0), COPRA_ETYPE);
    coco_close(item.handle);
}

static void test_sysinfo_and_numbers(void)
{
    struct copra_sysinfo info;
    EXPECT("sysinfo valid", coco_sysinfo(&info, sizeof(info)), 0);
    CHECK("sysinfo abi version", info.abi_version == COPRA_ABI_VERSION);
    CHECK("sysinfo memory counts", info.free_pages > 0 && info.free_pages <= info.total_pages);
    CHECK("sysinfo tsc", info.tsc_hz > 0);
    EXPECT("sysinfo short size", coco_sysinfo(&info, sizeof(info) - 1), COPRA_EINVAL);
    EXPECT("sysinfo kernel pointer", coco_sysinfo((void *)KPTR, sizeof(info)), COPRA_EFAULT);
    EXPECT("sysinfo unmapped pointer", coco_sysinfo((void *)UNMAPPED, sizeof(info)), COPRA_EFAULT);
    EXPECT("unknown syscall number", sys(COPRA_SYS_COUNT, 0, 0, 0, 0, 0), COPRA_ENOSYS);
    EXPECT("huge syscall number", sys(~0ull, 0, 0, 0, 0, 0), COPRA_ENOSYS);
}

static void test_handle_table_full(void)
{
    static copra_handle_t hs[COPRA_HANDLES_PER_PROCESS + 1];
    unsigned n = 0;
    int64_t h;
    while (n <= COPRA_HANDLES_PER_PROCESS && (h = coco_open(data_path, sizeof(data_path) - 1)) > 0)
        hs[n++] = (copra_handle_t)h;
    EXPECT("open into a full handle table", h, COPRA_EFULL);
    const char *argv[] = { "child", "exit", "0" };
    EXPECT("exec with a full handle table", coco_spawn("child", 3, argv, NULL, 0), COPRA_EFULL);
    unsigned closed = 0;
    while (n)
        closed += coco_close(hs[--n]) == 0;
    CHECK("every handle of a full table closes", closed > 200);
    h = coco_open(data_path, sizeof(data_path) - 1);
    CHECK("table usable again", h > 0);
    coco_close((copra_handle_t)h);
}

int main(void)
{
    test_open_close();
    test_read();
    test_mmap();
    test_log();
    test_exec_wait();
    test_sysinfo_and_numbers();
    test_handle_table_full();
    return coco_test_finish();
}
