/* SPDX-License-Identifier: MIT */
/* Host-side initrd packing; see pack.h. */
#define _POSIX_C_SOURCE 200809L

#include "pack.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gelf.h>
#include <libelf.h>
#include <mbedtls/sha512.h>
#include <mbedtls/version.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the manifest is written with the host's layout, which must be little endian"
#endif

/* newc: 6-byte magic and 13 fields of 8 hex digits (cpio(5), "New ASCII Format"). */
#define CPIO_MAGIC        "070701"
#define CPIO_HEADER_SIZE  110u
#define CPIO_TRAILER      "TRAILER!!!"
#define CPIO_FIELD_MAX    0xffffffffull

static int error_set(struct pack_error *error, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int error_set(struct pack_error *error, const char *format, ...)
{
    va_list args;

    if (error) {
        va_start(args, format);
        vsnprintf(error->text, sizeof(error->text), format, args);
        va_end(args);
    }
    return -1;
}

/* ---- list ---------------------------------------------------------------- */

void pack_list_init(struct pack_list *list)
{
    memset(list, 0, sizeof(*list));
}

void pack_list_free(struct pack_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->entries[i].source);
        free(list->entries[i].data);
    }
    free(list->entries);
    pack_list_init(list);
}

const char *pack_path_check(const char *path)
{
    size_t length = strlen(path);

    if (length == 0)
        return "empty path";
    if (length >= COPRA_MANIFEST_NAME_MAX)
        return "path too long (the manifest holds at most 95 bytes)";
    if (path[0] == '/')
        return "path must be relative (no leading '/')";
    for (const char *p = path; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f)
            return "path contains a space or control character";
    }
    /* Walk the components: none may be empty, "." or "..". */
    for (const char *start = path;;) {
        const char *end = strchr(start, '/');
        size_t n = end ? (size_t)(end - start) : strlen(start);
        if (n == 0)
            return "path has an empty component";
        if (n == 2 && start[0] == '.' && start[1] == '.')
            return "path contains '..'";
        if (n == 1 && start[0] == '.')
            return "path contains a '.' component";
        if (!end)
            break;
        start = end + 1;
    }
    if (strcmp(path, COPRA_MANIFEST_PATH) == 0)
        return "path is reserved for the manifest";
    if (strcmp(path, CPIO_TRAILER) == 0)
        return "path is reserved for the cpio trailer";
    return NULL;
}

int pack_list_add(struct pack_list *list, const char *name, const char *source,
                  unsigned line, struct pack_error *error)
{
    const char *reason = pack_path_check(name);
    struct pack_entry *entry;

    if (reason)
        return error_set(error, "line %u: initrd path '%s': %s", line, name, reason);
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->entries[i].name, name) == 0)
            return error_set(error, "line %u: initrd path '%s' already listed on line %u",
                             line, name, list->entries[i].line);
    }
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        struct pack_entry *entries = realloc(list->entries, capacity * sizeof(*entries));
        if (!entries)
            return error_set(error, "out of memory");
        list->entries = entries;
        list->capacity = capacity;
    }
    entry = &list->entries[list->count];
    memset(entry, 0, sizeof(*entry));
    entry->source = strdup(source);
    if (!entry->source)
        return error_set(error, "out of memory");
    memcpy(entry->name, name, strlen(name) + 1); /* length checked above */
    entry->line = line;
    list->count++;
    return 0;
}

static bool is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_';
}

static int buffer_append(struct pack_buffer *buffer, const void *data, size_t size);

/* Expand @NAME@ and make the result absolute against list_dir.  An '@' that
 * does not start a well-formed @NAME@ is kept as it is. */
static char *source_expand(const char *token, const char *list_dir,
                           const struct pack_define *defines, size_t define_count,
                           unsigned line, struct pack_error *error)
{
    struct pack_buffer out = {0};
    const char *p = token;

    while (*p) {
        const char *q = p + 1;
        const struct pack_define *found = NULL;
        size_t n;

        if (*p != '@') {
            if (buffer_append(&out, p, 1) != 0)
                goto oom;
            p++;
            continue;
        }
        while (is_name_char(*q))
            q++;
        n = (size_t)(q - p - 1);
        if (*q != '@' || n == 0) {
            if (buffer_append(&out, p, 1) != 0)
                goto oom;
            p++;
            continue;
        }
        for (size_t i = define_count; i-- > 0;) { /* the last -D wins */
            if (strlen(defines[i].name) == n && memcmp(defines[i].name, p + 1, n) == 0) {
                found = &defines[i];
                break;
            }
        }
        if (!found) {
            pack_buffer_free(&out);
            error_set(error, "line %u: '%.*s' is not defined (use -D %.*s=VALUE)",
                      line, (int)n + 2, p, (int)n, p + 1);
            return NULL;
        }
        if (buffer_append(&out, found->value, strlen(found->value)) != 0)
            goto oom;
        p = q + 1;
    }
    if (buffer_append(&out, "", 1) != 0)
        goto oom;
    if (out.data[0] != '/') {
        char *joined = malloc(strlen(list_dir) + out.length + 1);
        if (!joined)
            goto oom;
        sprintf(joined, "%s/%s", list_dir, (char *)out.data);
        pack_buffer_free(&out);
        return joined;
    }
    return (char *)out.data;
oom:
    pack_buffer_free(&out);
    error_set(error, "out of memory");
    return NULL;
}

int pack_list_parse(struct pack_list *list, const char *text, size_t length,
                    const char *list_name, const char *list_dir,
                    const struct pack_define *defines, size_t define_count,
                    struct pack_error *error)
{
    const char *end = text + length;
    unsigned line = 0;

    for (const char *p = text; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop = eol ? eol : end;
        const char *tokens[3];
        size_t sizes[3];
        size_t count = 0;
        bool extra = false;

        line++;
        for (const char *q = p; q < stop;) {
            const char *start;
            if (*q == ' ' || *q == '\t' || *q == '\r') {
                q++;
                continue;
            }
            if (*q == '#')
                break;
            if (*q == '\0')
                return error_set(error, "%s:%u: NUL byte in list file", list_name, line);
            start = q;
            while (q < stop && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\0')
                q++;
            if (count == 3) {
                extra = true;
                break;
            }
            tokens[count] = start;
            sizes[count] = (size_t)(q - start);
            count++;
        }
        if (count == 1)
            return error_set(error, "%s:%u: expected '<initrd-path> <source-file>'",
                             list_name, line);
        bool guest = count == 3 && !extra && sizes[2] == 5 && memcmp(tokens[2], "guest", 5) == 0;
        if (count > 2 && !guest)
            return error_set(error, "%s:%u: unexpected '%.*s' after the source file "
                             "(only 'guest' may follow it)",
                             list_name, line, (int)sizes[2], tokens[2]);
        if (count >= 2) {
            char *name = strndup(tokens[0], sizes[0]);
            char *token = strndup(tokens[1], sizes[1]);
            char *source = NULL;
            int rc = -1;
            if (!name || !token) {
                error_set(error, "out of memory");
            } else {
                source = source_expand(token, list_dir, defines, define_count, line, error);
                if (source)
                    rc = pack_list_add(list, name, source, line, error);
                if (rc == 0)
                    list->entries[list->count - 1].guest_image = guest;
            }
            free(name);
            free(token);
            free(source);
            if (rc != 0) {
                /* Prefix the list name to errors that only name the line. */
                if (error && strncmp(error->text, "line ", 5) == 0) {
                    char copy[PACK_ERROR_MAX];
                    memcpy(copy, error->text, sizeof(copy));
                    error_set(error, "%s:%s", list_name, copy + 5);
                }
                return -1;
            }
        }
        p = eol ? eol + 1 : end;
    }
    return 0;
}

/* ---- files ---------------------------------------------------------------- */

static int file_read(const char *path, unsigned char **data, size_t *size, struct pack_error *error)
{
    struct stat st;
    unsigned char *buffer;
    FILE *file = fopen(path, "rb");

    if (!file)
        return error_set(error, "%s: %s", path, strerror(errno));
    if (fstat(fileno(file), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(file);
        return error_set(error, "%s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > CPIO_FIELD_MAX) {
        fclose(file);
        return error_set(error, "%s: larger than the 4 GiB a newc record can hold", path);
    }
    buffer = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buffer) {
        fclose(file);
        return error_set(error, "%s: out of memory", path);
    }
    if (fread(buffer, 1, (size_t)st.st_size, file) != (size_t)st.st_size || ferror(file)) {
        free(buffer);
        fclose(file);
        return error_set(error, "%s: read error", path);
    }
    fclose(file);
    *data = buffer;
    *size = (size_t)st.st_size;
    return 0;
}

bool pack_is_elf(const void *data, size_t size)
{
    return size >= SELFMAG && memcmp(data, ELFMAG, SELFMAG) == 0;
}

static int reason_set(char *reason, size_t reason_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int reason_set(char *reason, size_t reason_size, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vsnprintf(reason, reason_size, format, args);
    va_end(args);
    return -1;
}

static int elf_check_headers(Elf *elf, size_t size, char *reason, size_t reason_size)
{
    GElf_Ehdr ehdr;
    size_t phnum;
    bool entry_ok = false;

    if (!gelf_getehdr(elf, &ehdr))
        return reason_set(reason, reason_size, "bad ELF header: %s", elf_errmsg(-1));
    if (ehdr.e_machine != EM_X86_64)
        return reason_set(reason, reason_size, "not an x86-64 program (e_machine %u)",
                          (unsigned)ehdr.e_machine);
    if (ehdr.e_type == ET_DYN)
        return reason_set(reason, reason_size,
                          "position-independent executable (ET_DYN); link with -static -no-pie");
    if (ehdr.e_type != ET_EXEC)
        return reason_set(reason, reason_size, "not an executable (e_type %u, want ET_EXEC)",
                          (unsigned)ehdr.e_type);
    if (elf_getphdrnum(elf, &phnum) != 0)
        return reason_set(reason, reason_size, "bad program headers: %s", elf_errmsg(-1));
    if (phnum == 0)
        return reason_set(reason, reason_size, "no program headers");
    if (ehdr.e_phentsize != sizeof(Elf64_Phdr) || ehdr.e_phoff > size ||
        phnum > (size - ehdr.e_phoff) / sizeof(Elf64_Phdr))
        return reason_set(reason, reason_size, "program header table lies outside the file");

    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr phdr;

        if (!gelf_getphdr(elf, (int)i, &phdr))
            return reason_set(reason, reason_size, "program header %zu: %s", i, elf_errmsg(-1));
        if (phdr.p_type == PT_INTERP)
            return reason_set(reason, reason_size,
                              "has an interpreter (PT_INTERP); programs must be static");
        if (phdr.p_type == PT_DYNAMIC)
            return reason_set(reason, reason_size,
                              "has a dynamic section (PT_DYNAMIC); programs must be static");
        if (phdr.p_offset > size || phdr.p_filesz > size - phdr.p_offset)
            return reason_set(reason, reason_size, "segment %zu lies outside the file", i);
        if (phdr.p_type != PT_LOAD)
            continue;
        if ((phdr.p_flags & PF_W) && (phdr.p_flags & PF_X))
            return reason_set(reason, reason_size,
                              "segment %zu is both writable and executable (W^X)", i);
        if (phdr.p_filesz > phdr.p_memsz)
            return reason_set(reason, reason_size,
                              "segment %zu has a file size larger than its memory size", i);
        if ((phdr.p_flags & PF_X) && ehdr.e_entry >= phdr.p_vaddr &&
            ehdr.e_entry - phdr.p_vaddr < phdr.p_memsz)
            entry_ok = true;
    }
    if (!entry_ok)
        return reason_set(reason, reason_size,
                          "entry point 0x%llx is not inside an executable segment",
                          (unsigned long long)ehdr.e_entry);
    return 0;
}

int pack_elf_check(const void *data, size_t size, char *reason, size_t reason_size)
{
    const unsigned char *bytes = data;
    Elf *elf;
    int rc;

    if (!pack_is_elf(data, size))
        return reason_set(reason, reason_size, "not an ELF file");
    if (size < EI_NIDENT)
        return reason_set(reason, reason_size, "truncated ELF header");
    if (bytes[EI_CLASS] != ELFCLASS64)
        return reason_set(reason, reason_size, "not a 64-bit ELF file (EI_CLASS %u)",
                          (unsigned)bytes[EI_CLASS]);
    if (bytes[EI_DATA] != ELFDATA2LSB)
        return reason_set(reason, reason_size, "not a little-endian ELF file (EI_DATA %u)",
                          (unsigned)bytes[EI_DATA]);
    if (elf_version(EV_CURRENT) == EV_NONE)
        return reason_set(reason, reason_size, "libelf: %s", elf_errmsg(-1));
    /* libelf only reads from the image with ELF_C_READ; the cast drops const
     * for its prototype, not to write. */
    elf = elf_memory((char *)(uintptr_t)data, size);
    if (!elf)
        return reason_set(reason, reason_size, "libelf: %s", elf_errmsg(-1));
    if (elf_kind(elf) != ELF_K_ELF)
        rc = reason_set(reason, reason_size, "not an ELF object");
    else
        rc = elf_check_headers(elf, size, reason, reason_size);
    elf_end(elf);
    return rc;
}

void pack_sha384(const void *data, size_t size, uint8_t out[COPRA_SHA384_SIZE])
{
    unsigned char digest[64];

    /* is384 = 1: SHA-384 is SHA-512 with other initial values, truncated. */
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_sha512(data, size, digest, 1);
#else
    mbedtls_sha512_ret(data, size, digest, 1);
#endif
    memcpy(out, digest, COPRA_SHA384_SIZE);
}

int pack_list_load(struct pack_list *list, struct pack_error *error)
{
    char reason[512];

    for (size_t i = 0; i < list->count; i++) {
        struct pack_entry *entry = &list->entries[i];

        free(entry->data);
        entry->data = NULL;
        if (file_read(entry->source, &entry->data, &entry->size, error) != 0)
            return -1;
        entry->is_elf = pack_is_elf(entry->data, entry->size);
        if (entry->is_elf && !entry->guest_image && pack_elf_check(entry->data, entry->size, reason, sizeof(reason)) != 0)
            return error_set(error, "%s: %s", entry->source, reason);
        pack_sha384(entry->data, entry->size, entry->sha384);
    }
    return 0;
}

/* ---- output ---------------------------------------------------------------- */

void pack_buffer_free(struct pack_buffer *buffer)
{
    free(buffer->data);
    memset(buffer, 0, sizeof(*buffer));
}

static int buffer_append(struct pack_buffer *buffer, const void *data, size_t size)
{
    if (size > SIZE_MAX - buffer->length)
        return -1;
    if (buffer->length + size > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 4096;
        unsigned char *grown;
        while (capacity < buffer->length + size)
            capacity *= 2;
        grown = realloc(buffer->data, capacity);
        if (!grown)
            return -1;
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    if (size)
        memcpy(buffer->data + buffer->length, data, size);
    buffer->length += size;
    return 0;
}

static int buffer_pad4(struct pack_buffer *buffer)
{
    static const unsigned char zeros[3];
    return buffer_append(buffer, zeros, (4 - buffer->length % 4) % 4);
}

int pack_manifest_build(const struct pack_list *list, struct pack_buffer *out)
{
    struct copra_manifest_header header;

    if (list->count > UINT32_MAX)
        return -1;
    memset(&header, 0, sizeof(header));
    header.magic = COPRA_MANIFEST_MAGIC;
    header.version = COPRA_MANIFEST_VERSION;
    header.count = (uint32_t)list->count;
    if (buffer_append(out, &header, sizeof(header)) != 0)
        return -1;
    for (size_t i = 0; i < list->count; i++) {
        const struct pack_entry *source = &list->entries[i];
        struct copra_manifest_entry entry;

        memset(&entry, 0, sizeof(entry)); /* NUL padding of the name */
        memcpy(entry.sha384, source->sha384, sizeof(entry.sha384));
        entry.size = source->size;
        memcpy(entry.name, source->name, strlen(source->name));
        if (buffer_append(out, &entry, sizeof(entry)) != 0)
            return -1;
    }
    return 0;
}

int pack_cpio_append(struct pack_buffer *out, uint32_t ino, uint32_t mode,
                     const char *name, const void *data, size_t size)
{
    char header[CPIO_HEADER_SIZE + 1];
    size_t name_size = strlen(name) + 1;

    if ((unsigned long long)size > CPIO_FIELD_MAX)
        return -1;
    /* Fields: ino mode uid gid nlink mtime filesize devmajor devminor
     * rdevmajor rdevminor namesize check.  mtime 0 keeps the output
     * reproducible; the "check" field is 0 for the 070701 format. */
    snprintf(header, sizeof(header),
             CPIO_MAGIC "%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
             ino, mode, 0u, 0u, 1u, 0u, (unsigned)size, 0u, 0u, 0u, 0u,
             (unsigned)name_size, 0u);
    if (buffer_append(out, header, CPIO_HEADER_SIZE) != 0 ||
        buffer_append(out, name, name_size) != 0 || buffer_pad4(out) != 0 ||
        buffer_append(out, data, size) != 0 || buffer_pad4(out) != 0)
        return -1;
    return 0;
}

int pack_cpio_finish(struct pack_buffer *out)
{
    /* Like GNU cpio and Linux's gen_init_cpio: ino 0, mode 0, nlink 1. */
    char header[CPIO_HEADER_SIZE + 1];
    size_t name_size = sizeof(CPIO_TRAILER);

    snprintf(header, sizeof(header),
             CPIO_MAGIC "%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
             0u, 0u, 0u, 0u, 1u, 0u, 0u, 0u, 0u, 0u, 0u, (unsigned)name_size, 0u);
    if (buffer_append(out, header, CPIO_HEADER_SIZE) != 0 ||
        buffer_append(out, CPIO_TRAILER, name_size) != 0 || buffer_pad4(out) != 0)
        return -1;
    return 0;
}

int pack_image_build(const struct pack_list *list, struct pack_buffer *out,
                     uint8_t manifest_sha384[COPRA_SHA384_SIZE],
                     struct pack_error *error)
{
    struct pack_buffer manifest = {0};
    int rc = -1;

    if (list->count > UINT32_MAX - 2)
        return error_set(error, "too many files");
    if (pack_manifest_build(list, &manifest) != 0) {
        error_set(error, "out of memory");
        goto out;
    }
    pack_sha384(manifest.data, manifest.length, manifest_sha384);
    if (pack_cpio_append(out, 1, PACK_MODE_DATA, COPRA_MANIFEST_PATH,
                         manifest.data, manifest.length) != 0) {
        error_set(error, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < list->count; i++) {
        const struct pack_entry *entry = &list->entries[i];
        if (pack_cpio_append(out, (uint32_t)(i + 2),
                             entry->is_elf && !entry->guest_image ? PACK_MODE_EXEC : PACK_MODE_DATA,
                             entry->name, entry->data, entry->size) != 0) {
            error_set(error, "%s: cannot add to the archive (too large or out of memory)",
                      entry->source);
            goto out;
        }
    }
    if (pack_cpio_finish(out) != 0) {
        error_set(error, "out of memory");
        goto out;
    }
    rc = 0;
out:
    pack_buffer_free(&manifest);
    return rc;
}
