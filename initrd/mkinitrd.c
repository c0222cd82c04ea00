/* SPDX-License-Identifier: MIT */
/*
 * copra-mkinitrd: pack the files named in a list file into a newc cpio
 * archive whose first file is the measurement manifest.
 *
 *   copra-mkinitrd -o OUT.cpio [-D NAME=VALUE]... LISTFILE
 *
 * Nothing is written unless every file passes its checks; the archive is
 * written to a temporary file and renamed over OUT, so a failed run never
 * leaves a partial image behind.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pack.h"

#define PROGRAM "copra-mkinitrd"

static void usage(FILE *stream)
{
    fprintf(stream,
            "usage: " PROGRAM " -o OUT.cpio [-D NAME=VALUE]... LISTFILE\n"
            "  LISTFILE lines: <initrd-path> <source-file>   ('#' starts a comment)\n"
            "  @NAME@ in a source is replaced by the -D value; DIR defaults to the\n"
            "  list file's directory, against which relative sources are resolved.\n");
}

static int list_read(const char *path, char **text, size_t *length)
{
    FILE *file = fopen(path, "rb");
    size_t capacity = 4096, used = 0;
    char *buffer = NULL;

    if (!file)
        return -1;
    for (;;) {
        char *grown = realloc(buffer, capacity);
        if (!grown) {
            errno = ENOMEM;
            goto fail;
        }
        buffer = grown;
        used += fread(buffer + used, 1, capacity - used, file);
        if (ferror(file)) {
            errno = EIO;
            goto fail;
        }
        if (used < capacity)
            break;
        capacity *= 2;
    }
    fclose(file);
    *text = buffer;
    *length = used;
    return 0;
fail:
    free(buffer);
    fclose(file);
    return -1;
}

static int output_write(const char *path, const struct pack_buffer *image)
{
    size_t size = strlen(path) + 32;
    char *temporary = malloc(size);
    FILE *file;
    int saved;

    if (!temporary)
        return -1;
    snprintf(temporary, size, "%s.tmp%ld", path, (long)getpid());
    file = fopen(temporary, "wb");
    if (!file)
        goto fail;
    if (fwrite(image->data, 1, image->length, file) != image->length) {
        saved = errno;
        fclose(file);
        errno = saved;
        goto fail_unlink;
    }
    if (fclose(file) != 0)
        goto fail_unlink;
    if (rename(temporary, path) != 0)
        goto fail_unlink;
    free(temporary);
    return 0;
fail_unlink:
    saved = errno;
    unlink(temporary);
    errno = saved;
fail:
    saved = errno;
    free(temporary);
    errno = saved;
    return -1;
}

int main(int argc, char **argv)
{
    struct pack_define *defines = calloc((size_t)argc, sizeof(*defines));
    struct pack_list list;
    struct pack_buffer image = {0};
    struct pack_error error;
    uint8_t manifest_sha384[COPRA_SHA384_SIZE];
    const char *output = NULL;
    const char *list_path;
    size_t define_count = 0;
    char *list_dir, *slash, *text = NULL;
    size_t length;
    int option, status = 1;

    if (!defines) {
        fprintf(stderr, PROGRAM ": out of memory\n");
        return 1;
    }
    pack_list_init(&list);
    while ((option = getopt(argc, argv, "o:D:h")) != -1) {
        char *equals;
        switch (option) {
        case 'o':
            output = optarg;
            break;
        case 'D':
            equals = strchr(optarg, '=');
            if (!equals || equals == optarg) {
                fprintf(stderr, PROGRAM ": -D wants NAME=VALUE, not '%s'\n", optarg);
                return 2;
            }
            *equals = '\0';
            defines[define_count].name = optarg;
            defines[define_count].value = equals + 1;
            define_count++;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!output || optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    list_path = argv[optind];

    list_dir = strdup(list_path);
    if (!list_dir) {
        fprintf(stderr, PROGRAM ": out of memory\n");
        return 1;
    }
    slash = strrchr(list_dir, '/');
    if (!slash)
        strcpy(list_dir, ".");
    else if (slash == list_dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    /* DIR defaults to the list file's directory; a -D DIR=... after it wins. */
    {
        struct pack_define *all = calloc(define_count + 1, sizeof(*all));
        if (!all) {
            fprintf(stderr, PROGRAM ": out of memory\n");
            return 1;
        }
        all[0].name = "DIR";
        all[0].value = list_dir;
        memcpy(all + 1, defines, define_count * sizeof(*all));
        free(defines);
        defines = all;
        define_count++;
    }

    if (list_read(list_path, &text, &length) != 0) {
        fprintf(stderr, PROGRAM ": %s: %s\n", list_path, strerror(errno));
        goto out;
    }
    if (pack_list_parse(&list, text, length, list_path, list_dir, defines, define_count,
                        &error) != 0 ||
        pack_list_load(&list, &error) != 0 ||
        pack_image_build(&list, &image, manifest_sha384, &error) != 0) {
        fprintf(stderr, PROGRAM ": %s\n", error.text);
        goto out;
    }
    if (output_write(output, &image) != 0) {
        fprintf(stderr, PROGRAM ": %s: %s\n", output, strerror(errno));
        goto out;
    }
    printf("manifest sha384 ");
    for (size_t i = 0; i < sizeof(manifest_sha384); i++)
        printf("%02x", manifest_sha384[i]);
    printf("\n");
    status = fflush(stdout) == 0 ? 0 : 1;
out:
    pack_buffer_free(&image);
    pack_list_free(&list);
    free(text);
    free(list_dir);
    free(defines);
    return status;
}
