/* SPDX-License-Identifier: MIT */
/*
 * QEMU's fw_cfg through its I/O ports (0x510 selector, 0x511 data): the
 * `fwcfg` device model (servers/devmodel/fwcfg.c), or QEMU itself.  The
 * command line says what to expect: `cpus=N,mib=N` (the VCPU count and
 * the RAM in MiB; QEMU's multiboot mem_upper leaves out what its firmware keeps).  Checks the
 * signature, the ID, NB_CPUS / MAX_CPUS, RAM_SIZE, reads of a missing key
 * and past an item's end, the rewind on select, the directory (count,
 * sorted names, keys) and two files: etc/e820 (the RAM as one range) and
 * opt/copra/greeting (fwcfg-greeting.txt, given by the VM description or
 * by QEMU's -fw_cfg).  The same checks pass on plain QEMU (README).
 */
#include "guest.h"

#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA     0x511
#define GREETING        "hello from fw_cfg\n"

static void fw_select(uint16_t key)
{
    outw(FW_CFG_SELECTOR, key);
}

static void fw_read(void *out, unsigned n)
{
    uint8_t *p = out;
    for (unsigned i = 0; i < n; i++)
        p[i] = inb(FW_CFG_DATA);
}

static uint64_t fw_read_le(unsigned n)
{
    uint8_t b[8];
    uint64_t v = 0;
    fw_read(b, n);
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | b[i];
    return v;
}

static uint64_t fw_read_be(unsigned n)
{
    uint8_t b[8];
    uint64_t v = 0;
    fw_read(b, n);
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | b[i];
    return v;
}

static int str_cmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}


struct file {
    uint32_t size;
    uint16_t key;
    char name[56];
};

static unsigned directory_read(struct file *files, unsigned max, unsigned *count)
{
    fw_select(0x19);
    *count = (unsigned)fw_read_be(4);
    unsigned n = 0;
    for (unsigned i = 0; i < *count && i < max; i++, n++) {
        files[i].size = (uint32_t)fw_read_be(4);
        files[i].key = (uint16_t)fw_read_be(2);
        fw_read_be(2);
        fw_read(files[i].name, sizeof files[i].name);
        files[i].name[55] = '\0';
    }
    return n;
}

int guest_main(unsigned cpu, uint32_t info_gpa)
{
    unsigned cpus = guest_cmdline_number(info_gpa, "cpus=", 1);
    uint64_t ram = (uint64_t)guest_cmdline_number(info_gpa, "mib=", 0) << 20;
    guest_printf("fwcfg guest on vcpu %u: expecting %u cpus, %llu MiB\n", cpu, cpus,
                 (unsigned long long)(ram >> 20));

    char sig[5];
    fw_select(0x0000);
    fw_read(sig, 5);
    CHECK("signature 'QEMU'", memcmp(sig, "QEMU", 4) == 0);
    CHECK_EQ("a read past the signature's end gives 0", sig[4], 0);
    fw_select(0x0000);
    CHECK_EQ("select rewinds: 'Q' again", inb(FW_CFG_DATA), 'Q');
    CHECK_EQ("an 8-bit read at 0x510 is a data read too", inb(FW_CFG_SELECTOR), 'E');

    fw_select(0x0001);
    uint32_t id = (uint32_t)fw_read_le(4);
    guest_printf("ID 0x%x\n", id);
    CHECK("ID: the traditional interface", id & 1);
    fw_select(0x0005);
    CHECK_EQ("NB_CPUS", fw_read_le(2), cpus);
    fw_select(0x000f);
    CHECK_EQ("MAX_CPUS", fw_read_le(2), cpus);
    fw_select(0x0003);
    CHECK_EQ("RAM_SIZE", fw_read_le(8), ram);
    fw_select(0x001c);
    CHECK_EQ("a key without an item reads 0", fw_read_le(4), 0);
    fw_select(0x3fff);
    CHECK_EQ("a key beyond every item reads 0", fw_read_le(4), 0);

    struct file files[32];
    unsigned count;
    unsigned n = directory_read(files, 32, &count);
    guest_printf("directory: %u files\n", count);
    CHECK("directory: 1 to 32 files", count >= 1 && count <= 32);
    bool sorted = true, keys = true;
    int e820 = -1, greeting = -1;
    for (unsigned i = 0; i < n; i++) {
        guest_printf("  0x%x %u %s\n", files[i].key, files[i].size, files[i].name);
        if (i > 0 && str_cmp(files[i - 1].name, files[i].name) >= 0)
            sorted = false;
        if (files[i].key < 0x20 || files[i].key >= 0x20 + 32)
            keys = false;
        if (str_cmp(files[i].name, "etc/e820") == 0)
            e820 = (int)i;
        if (str_cmp(files[i].name, "opt/copra/greeting") == 0)
            greeting = (int)i;
    }
    CHECK("directory sorted by name", sorted);
    CHECK("file keys in 0x20..0x3f", keys);

    CHECK("etc/e820 is there", e820 >= 0);
    if (e820 >= 0) {
        /* QEMU 7.2 also lists the AMD HyperTransport window (reserved)
         * for an EPYC guest; Copra maps nothing there. */
        unsigned entries = files[e820].size / 20, ram_entries = 0;
        uint64_t ram_bytes = 0;
        bool from_zero = false;
        CHECK("etc/e820: 20-byte entries", entries >= 1 && files[e820].size % 20 == 0);
        fw_select(files[e820].key);
        for (unsigned i = 0; i < entries; i++) {
            uint64_t addr = fw_read_le(8), len = fw_read_le(8);
            uint32_t type = (uint32_t)fw_read_le(4);
            guest_printf("etc/e820: 0x%llx +0x%llx type %u\n", (unsigned long long)addr,
                         (unsigned long long)len, type);
            if (type == 1) {
                ram_entries++;
                ram_bytes += len;
                from_zero |= addr == 0 && len == ram;
            }
        }
        CHECK("etc/e820: the RAM as one range from 0", ram_entries == 1 && from_zero && ram_bytes == ram);
        CHECK_EQ("etc/e820: zeros past the end", fw_read_le(4), 0);
    }
    CHECK("opt/copra/greeting is there", greeting >= 0);
    if (greeting >= 0) {
        char text[sizeof GREETING];
        CHECK_EQ("opt/copra/greeting: its size", files[greeting].size, sizeof GREETING - 1);
        fw_select(files[greeting].key);
        fw_read(text, sizeof text);
        CHECK("opt/copra/greeting: its contents, then 0",
              memcmp(text, GREETING, sizeof GREETING - 1) == 0 && text[sizeof GREETING - 1] == 0);
    }

    /* Accesses QEMU's memory core refuses: 16/32-bit reads give 0 and move
     * nothing; 8-bit and 32-bit writes select nothing. */
    fw_select(0x0000);
    uint16_t w = inw(FW_CFG_SELECTOR);
    uint32_t l = inl(FW_CFG_SELECTOR);
    guest_printf("inw 0x510: 0x%x, inl 0x510: 0x%x\n", w, l);
    CHECK("16/32-bit reads give 0", w == 0 && l == 0);
    outb(FW_CFG_DATA, 0x01);
    outl(FW_CFG_SELECTOR, 0x0001);
    CHECK_EQ("...and moved nothing; 8/32-bit writes select nothing", inb(FW_CFG_DATA), 'Q');
    outw(FW_CFG_DATA, 0x0000);
    CHECK_EQ("a 16-bit write at 0x511 selects nothing", inb(FW_CFG_DATA), 'E');
    return guest_finish();
}
