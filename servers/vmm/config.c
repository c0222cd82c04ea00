/* SPDX-License-Identifier: MIT */
/*
 * Parser for the VM description (format in config.h).  Pure C: no libc
 * beyond <stdarg.h>, no allocation, no syscalls; builds on the host for the
 * unit test and the fuzzer.  Every read of the text is bounded by `len`.
 */
#include "config.h"

#include <stdarg.h>

/* A line holds at most "server <path> <8 args>" or "device <name> <8 params>". */
#define LINE_TOKENS_MAX (2u + VMM_CONFIG_SERVER_ARGS_MAX)
_Static_assert(LINE_TOKENS_MAX >= 2u + VMM_CONFIG_DEVICE_PARAMS_MAX, "device fits a line");

/* How much of an offending token an error message quotes. */
#define QUOTE_MAX 40u

struct token {
    const char *start;
    size_t len;
};

struct parser {
    struct vmm_config *config;
    struct vmm_config_error *error;
    unsigned line;
    /* Lines of the single-use directives, for "duplicate" messages. */
    unsigned memory_line, vcpus_line, guest_line;
    struct token tokens[LINE_TOKENS_MAX];
    unsigned ntokens;        /* tokens on the line; may exceed LINE_TOKENS_MAX */
};

/* ---- Error messages --------------------------------------------------- */

struct message {
    char *buf;
    size_t used;             /* < VMM_CONFIG_MESSAGE_MAX, buf[used] == 0 */
};

static void message_char(struct message *m, char c)
{
    if (m->used + 1 < VMM_CONFIG_MESSAGE_MAX) {
        m->buf[m->used++] = c;
        m->buf[m->used] = '\0';
    }
}

static void message_string(struct message *m, const char *s)
{
    while (*s)
        message_char(m, *s++);
}

static void message_unsigned(struct message *m, uint64_t v)
{
    char digits[20];
    unsigned n = 0;

    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n)
        message_char(m, digits[--n]);
}

/* Quote a token as 'text', shortened and with unprintable bytes as '?'. */
static void message_token(struct message *m, const struct token *t)
{
    size_t n = t->len > QUOTE_MAX ? QUOTE_MAX : t->len;

    message_char(m, '\'');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t->start[i];
        message_char(m, c >= 0x20 && c < 0x7f ? (char)c : '?');
    }
    if (n < t->len)
        message_string(m, "...");
    message_char(m, '\'');
}

/*
 * Record an error as "line N: " + `format`, where %s is a C string, %u an
 * unsigned, %t a const struct token * (quoted).  Returns `status`.
 */
static enum vmm_config_status parser_fail(struct parser *p, enum vmm_config_status status,
                                          const char *format, ...)
{
    struct message m = { .buf = p->error->message, .used = 0 };
    va_list ap;

    m.buf[0] = '\0';
    p->error->status = status;
    p->error->line = p->line;
    message_string(&m, "line ");
    message_unsigned(&m, p->line);
    message_string(&m, ": ");

    va_start(ap, format);
    for (const char *f = format; *f; f++) {
        if (*f != '%' || f[1] == '\0') {
            message_char(&m, *f);
            continue;
        }
        switch (*++f) {
        case 's': message_string(&m, va_arg(ap, const char *)); break;
        case 'u': message_unsigned(&m, va_arg(ap, unsigned)); break;
        case 't': message_token(&m, va_arg(ap, const struct token *)); break;
        default:  message_char(&m, *f); break;
        }
    }
    va_end(ap);
    return status;
}

/* ---- Tokens and numbers ----------------------------------------------- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool token_is(const struct token *t, const char *word)
{
    size_t i = 0;

    for (; i < t->len; i++)
        if (word[i] == '\0' || word[i] != t->start[i])
            return false;
    return word[i] == '\0';
}

/*
 * Copy `len` bytes at `src` to dst (`size` bytes with the NUL), dropping the
 * double quotes.  Fails (ETOKEN_TOO_LONG) if it does not fit.
 */
static enum vmm_config_status token_copy(struct parser *p, char *dst, size_t size, const char *src,
                                         size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (src[i] == '"')
            continue;
        if (n + 1 >= size) {
            struct token t = { .start = src, .len = len };
            return parser_fail(p, VMM_CONFIG_ETOKEN_TOO_LONG, "%t too long (max %u bytes)", &t,
                               (unsigned)(size - 1));
        }
        dst[n++] = src[i];
    }
    dst[n] = '\0';
    return VMM_CONFIG_OK;
}
#define TOKEN_COPY(p, dst, src, len)                                               \
    do {                                                                           \
        enum vmm_config_status copy_status = token_copy(p, dst, sizeof(dst), src, len); \
        if (copy_status != VMM_CONFIG_OK)                                          \
            return copy_status;                                                    \
    } while (0)

/*
 * Split [start, end) into p->tokens, stopping at a token that starts with '#'.
 * Double quotes make blanks and '#' part of a token ("a b" is one token, the
 * quotes are not part of its value); there is no escape, so a value cannot
 * hold '"'.  A token without quotes is at most VMM_CONFIG_TOKEN_MAX bytes,
 * one with quotes (a command line) VMM_CONFIG_QUOTED_MAX.
 */
static enum vmm_config_status line_split(struct parser *p, const char *start, const char *end)
{
    const char *c = start;

    p->ntokens = 0;
    for (;;) {
        while (c < end && is_blank(*c))
            c++;
        if (c == end || *c == '#')
            return VMM_CONFIG_OK;

        struct token t = { .start = c, .len = 0 };
        bool quoted = false, open = false;
        size_t chars = 0;
        while (c < end && (open || !is_blank(*c))) {
            if (*c == '"')
                open = !open, quoted = true;
            else
                chars++;
            c++;
        }
        t.len = (size_t)(c - t.start);
        if (open)
            return parser_fail(p, VMM_CONFIG_EQUOTE, "token %t has no closing quote", &t);
        if (chars == 0)
            return parser_fail(p, VMM_CONFIG_EQUOTE, "token %t is empty", &t);
        if (t.len > (quoted ? VMM_CONFIG_QUOTED_MAX : VMM_CONFIG_TOKEN_MAX))
            return parser_fail(p, VMM_CONFIG_ETOKEN_TOO_LONG,
                               "token %t too long (max %u bytes)", &t,
                               (unsigned)(quoted ? VMM_CONFIG_QUOTED_MAX : VMM_CONFIG_TOKEN_MAX));
        if (p->ntokens < LINE_TOKENS_MAX)
            p->tokens[p->ntokens] = t;
        if (p->ntokens < ~0u)
            p->ntokens++;
    }
}

enum number_result { NUMBER_OK, NUMBER_BAD, NUMBER_OVERFLOW };

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 16;
}

/*
 * Parse the leading unsigned number of `t`: decimal, or hex after "0x"/"0X".
 * *used is set to the bytes consumed (the caller decides what may follow).
 */
static enum number_result number_parse(const struct token *t, uint64_t *value, size_t *used)
{
    size_t i = 0;
    unsigned base = 10;
    uint64_t v = 0;
    bool overflow = false;

    if (t->len > 2 && t->start[0] == '0' && (t->start[1] == 'x' || t->start[1] == 'X')) {
        base = 16;
        i = 2;
    }
    size_t first_digit = i;
    for (; i < t->len; i++) {
        unsigned d = (unsigned)digit_value(t->start[i]);
        if (d >= base)
            break;
        if (v > (UINT64_MAX - d) / base)
            overflow = true;
        else
            v = v * base + d;
    }
    *used = i;
    if (i == first_digit)
        return NUMBER_BAD;
    *value = v;
    return overflow ? NUMBER_OVERFLOW : NUMBER_OK;
}

/* ---- Directives ------------------------------------------------------- */

static enum vmm_config_status directive_server(struct parser *p)
{
    struct vmm_config *config = p->config;

    if (p->ntokens < 2)
        return parser_fail(p, VMM_CONFIG_EMISSING, "server: missing initrd path");
    if (p->ntokens - 2 > VMM_CONFIG_SERVER_ARGS_MAX)
        return parser_fail(p, VMM_CONFIG_ETOO_MANY_ARGS,
                           "server: too many arguments (%u, max %u)", p->ntokens - 2,
                           (unsigned)VMM_CONFIG_SERVER_ARGS_MAX);
    if (config->nservers == VMM_CONFIG_SERVERS_MAX)
        return parser_fail(p, VMM_CONFIG_ETOO_MANY_SERVERS, "too many servers (max %u)",
                           (unsigned)VMM_CONFIG_SERVERS_MAX);

    struct vmm_config_server *server = &config->servers[config->nservers++];
    TOKEN_COPY(p, server->path, p->tokens[1].start, p->tokens[1].len);
    server->argc = p->ntokens - 2;
    for (unsigned i = 0; i < server->argc; i++)
        TOKEN_COPY(p, server->args[i], p->tokens[2 + i].start, p->tokens[2 + i].len);
    server->line = p->line;
    return VMM_CONFIG_OK;
}

static enum vmm_config_status directive_memory(struct parser *p)
{
    const struct token *size = &p->tokens[1];
    uint64_t value = 0, multiplier = 1;
    size_t used;

    if (p->ntokens < 2)
        return parser_fail(p, VMM_CONFIG_EMISSING, "memory: missing size");
    if (p->ntokens > 2)
        return parser_fail(p, VMM_CONFIG_ETOO_MANY_ARGS, "memory: too many arguments");
    if (p->memory_line != 0)
        return parser_fail(p, VMM_CONFIG_EDUPLICATE, "duplicate memory (first on line %u)",
                           p->memory_line);

    enum number_result r = number_parse(size, &value, &used);
    if (r == NUMBER_BAD)
        return parser_fail(p, VMM_CONFIG_EBAD_NUMBER, "bad memory size %t", size);
    if (used < size->len) {
        switch (size->start[used]) {
        case 'K': case 'k': multiplier = 1ull << 10; break;
        case 'M': case 'm': multiplier = 1ull << 20; break;
        case 'G': case 'g': multiplier = 1ull << 30; break;
        default:
            return parser_fail(p, VMM_CONFIG_EBAD_NUMBER,
                               "bad memory size %t (suffix must be K, M or G)", size);
        }
        if (used + 1 != size->len)
            return parser_fail(p, VMM_CONFIG_EBAD_NUMBER,
                               "bad memory size %t (suffix must be K, M or G)", size);
    }
    if (r == NUMBER_OVERFLOW || value > UINT64_MAX / multiplier)
        return parser_fail(p, VMM_CONFIG_EOVERFLOW, "memory size overflows");
    value *= multiplier;
    if (value == 0)
        return parser_fail(p, VMM_CONFIG_ERANGE, "memory size must not be zero");
    if (value % VMM_CONFIG_MEMORY_ALIGN != 0)
        return parser_fail(p, VMM_CONFIG_ERANGE, "memory size %t is not a multiple of %u",
                           size, (unsigned)VMM_CONFIG_MEMORY_ALIGN);

    p->config->has_memory = true;
    p->config->memory_bytes = value;
    p->memory_line = p->line;
    return VMM_CONFIG_OK;
}

static enum vmm_config_status directive_vcpus(struct parser *p)
{
    const struct token *count = &p->tokens[1];
    uint64_t value = 0;
    size_t used;

    if (p->ntokens < 2)
        return parser_fail(p, VMM_CONFIG_EMISSING, "vcpus: missing count");
    if (p->ntokens > 2)
        return parser_fail(p, VMM_CONFIG_ETOO_MANY_ARGS, "vcpus: too many arguments");
    if (p->vcpus_line != 0)
        return parser_fail(p, VMM_CONFIG_EDUPLICATE, "duplicate vcpus (first on line %u)",
                           p->vcpus_line);

    enum number_result r = number_parse(count, &value, &used);
    if (r == NUMBER_BAD || used != count->len)
        return parser_fail(p, VMM_CONFIG_EBAD_NUMBER, "bad vcpus count %t", count);
    if (r == NUMBER_OVERFLOW || value < 1 || value > VMM_CONFIG_VCPUS_MAX)
        return parser_fail(p, VMM_CONFIG_ERANGE, "vcpus count %t out of range 1..%u", count,
                           (unsigned)VMM_CONFIG_VCPUS_MAX);

    p->config->has_vcpus = true;
    p->config->vcpus = (unsigned)value;
    p->vcpus_line = p->line;
    return VMM_CONFIG_OK;
}

static size_t token_find(const struct token *t, char c);

/* One `key=value` option after the guest format. */
static enum vmm_config_status guest_option(struct parser *p, const struct token *t)
{
    size_t eq = token_find(t, '=');
    struct token key = { .start = t->start, .len = eq };
    struct token value = { .start = t->start + eq + 1, .len = t->len - eq - 1 };

    if (eq == 0 || eq == t->len)
        return parser_fail(p, VMM_CONFIG_EBAD_PARAM, "guest: option %t is not key=value", t);
    if (token_is(&key, "cmdline")) {
        return token_copy(p, p->config->guest_cmdline, sizeof p->config->guest_cmdline, value.start,
                          value.len);
    }
    if (token_is(&key, "initrd"))
        return token_copy(p, p->config->guest_initrd, sizeof p->config->guest_initrd, value.start,
                          value.len);
    if (token_is(&key, "aps")) {
        if (token_is(&value, "sipi"))
            p->config->guest_aps = VMM_APS_SIPI;
        else if (token_is(&value, "entry"))
            p->config->guest_aps = VMM_APS_ENTRY;
        else
            return parser_fail(p, VMM_CONFIG_EBAD_PARAM, "guest: aps=%t (sipi or entry)", &value);
        return VMM_CONFIG_OK;
    }
    if (token_is(&key, "expect")) {
        if (token_is(&value, "shutdown"))
            p->config->guest_expect = VMM_EXPECT_SHUTDOWN;
        else if (token_is(&value, "halt"))
            p->config->guest_expect = VMM_EXPECT_HALT;
        else if (token_is(&value, "exit"))
            p->config->guest_expect = VMM_EXPECT_EXIT;
        else
            return parser_fail(p, VMM_CONFIG_EBAD_PARAM,
                               "guest: expect=%t (exit, shutdown or halt)", &value);
        return VMM_CONFIG_OK;
    }
    return parser_fail(p, VMM_CONFIG_EBAD_PARAM,
                       "guest: unknown option %t (cmdline=, initrd=, aps= or expect=)", &key);
}

static enum vmm_config_status directive_guest(struct parser *p)
{
    enum vmm_guest_format format;

    if (p->ntokens < 2)
        return parser_fail(p, VMM_CONFIG_EMISSING, "guest: missing initrd path");
    if (p->ntokens < 3)
        return parser_fail(p, VMM_CONFIG_EMISSING, "guest: missing format (flat, multiboot or linux)");
    if (p->ntokens > LINE_TOKENS_MAX)
        return parser_fail(p, VMM_CONFIG_ETOO_MANY_ARGS, "guest: too many arguments");
    if (p->guest_line != 0)
        return parser_fail(p, VMM_CONFIG_EDUPLICATE, "duplicate guest (first on line %u)",
                           p->guest_line);

    if (token_is(&p->tokens[2], "flat"))
        format = VMM_GUEST_FLAT;
    else if (token_is(&p->tokens[2], "multiboot"))
        format = VMM_GUEST_MULTIBOOT;
    else if (token_is(&p->tokens[2], "linux"))
        format = VMM_GUEST_LINUX;
    else
        return parser_fail(p, VMM_CONFIG_EBAD_FORMAT,
                           "unknown guest format %t (flat, multiboot or linux)", &p->tokens[2]);
    for (unsigned i = 3; i < p->ntokens; i++) {
        enum vmm_config_status status = guest_option(p, &p->tokens[i]);
        if (status != VMM_CONFIG_OK)
            return status;
    }
    if (p->config->guest_initrd[0] != '\0' && format != VMM_GUEST_LINUX)
        return parser_fail(p, VMM_CONFIG_EBAD_PARAM, "guest: initrd= needs the linux format");

    p->config->has_guest = true;
    TOKEN_COPY(p, p->config->guest_path, p->tokens[1].start, p->tokens[1].len);
    p->config->guest_format = format;
    p->guest_line = p->line;
    return VMM_CONFIG_OK;
}

static size_t token_find(const struct token *t, char c)
{
    size_t i = 0;

    while (i < t->len && t->start[i] != c)
        i++;
    return i;
}

static enum vmm_config_status directive_device(struct parser *p)
{
    struct vmm_config *config = p->config;
    const struct token *name = &p->tokens[1];

    if (p->ntokens < 2)
        return parser_fail(p, VMM_CONFIG_EMISSING, "device: missing name");
    if (p->ntokens - 2 > VMM_CONFIG_DEVICE_PARAMS_MAX)
        return parser_fail(p, VMM_CONFIG_ETOO_MANY_ARGS,
                           "device: too many parameters (%u, max %u)", p->ntokens - 2,
                           (unsigned)VMM_CONFIG_DEVICE_PARAMS_MAX);
    if (config->ndevices == VMM_CONFIG_DEVICES_MAX)
        return parser_fail(p, VMM_CONFIG_ETOO_MANY_DEVICES, "too many devices (max %u)",
                           (unsigned)VMM_CONFIG_DEVICES_MAX);
    if (token_find(name, '=') < name->len)
        return parser_fail(p, VMM_CONFIG_EBAD_PARAM,
                           "device: name %t must not contain '='", name);
    for (unsigned i = 2; i < p->ntokens; i++) {
        size_t eq = token_find(&p->tokens[i], '=');
        if (eq == 0 || eq == p->tokens[i].len)
            return parser_fail(p, VMM_CONFIG_EBAD_PARAM,
                               "device: parameter %t is not key=value", &p->tokens[i]);
    }

    struct vmm_config_device *device = &config->devices[config->ndevices++];
    TOKEN_COPY(p, device->name, name->start, name->len);
    device->nparams = p->ntokens - 2;
    for (unsigned i = 0; i < device->nparams; i++) {
        const struct token *t = &p->tokens[2 + i];
        size_t eq = token_find(t, '=');
        TOKEN_COPY(p, device->params[i].key, t->start, eq);
        if (device->params[i].key[0] == '\0')
            return parser_fail(p, VMM_CONFIG_EBAD_PARAM, "device: parameter %t has an empty key", t);
        TOKEN_COPY(p, device->params[i].value, t->start + eq + 1, t->len - eq - 1);
    }
    device->line = p->line;
    return VMM_CONFIG_OK;
}

static enum vmm_config_status directive_module(struct parser *p)
{
    struct vmm_config *config = p->config;

    if (p->ntokens < 2)
        return parser_fail(p, VMM_CONFIG_EMISSING, "module: missing initrd path");
    if (p->ntokens > 3)
        return parser_fail(p, VMM_CONFIG_ETOO_MANY_ARGS, "module: too many arguments");
    if (config->nmodules == VMM_CONFIG_MODULES_MAX)
        return parser_fail(p, VMM_CONFIG_ETOO_MANY_MODULES, "too many modules (max %u)",
                           (unsigned)VMM_CONFIG_MODULES_MAX);
    struct vmm_config_module *module = &config->modules[config->nmodules];
    TOKEN_COPY(p, module->path, p->tokens[1].start, p->tokens[1].len);
    size_t n = 0;
    while (module->path[n] != '\0') {
        module->string[n] = module->path[n];
        n++;
    }
    module->string[n] = '\0';
    if (p->ntokens == 3) {
        const struct token *t = &p->tokens[2];
        size_t eq = token_find(t, '=');
        struct token key = { .start = t->start, .len = eq };
        if (eq == t->len || !token_is(&key, "cmdline"))
            return parser_fail(p, VMM_CONFIG_EBAD_PARAM, "module: option %t is not cmdline=<text>", t);
        module->string[n++] = ' ';
        enum vmm_config_status status = token_copy(p, module->string + n, sizeof module->string - n,
                                                   t->start + eq + 1, t->len - eq - 1);
        if (status != VMM_CONFIG_OK)
            return status;
    }
    module->line = p->line;
    config->nmodules++;
    return VMM_CONFIG_OK;
}

static enum vmm_config_status parser_line(struct parser *p)
{
    const struct token *directive = &p->tokens[0];

    if (token_is(directive, "server"))
        return directive_server(p);
    if (token_is(directive, "memory"))
        return directive_memory(p);
    if (token_is(directive, "vcpus"))
        return directive_vcpus(p);
    if (token_is(directive, "guest"))
        return directive_guest(p);
    if (token_is(directive, "device"))
        return directive_device(p);
    if (token_is(directive, "module"))
        return directive_module(p);
    return parser_fail(p, VMM_CONFIG_EUNKNOWN, "unknown directive %t", directive);
}

/* ---- Entry ------------------------------------------------------------ */

enum vmm_config_status vmm_config_parse(const char *text, size_t len,
                                        struct vmm_config *config,
                                        struct vmm_config_error *error)
{
    struct parser p = { .config = config, .error = error };
    size_t pos = 0;

    if (error == NULL)
        return VMM_CONFIG_EINVAL;
    error->status = VMM_CONFIG_OK;
    error->line = 0;
    error->message[0] = '\0';
    if (config == NULL || (text == NULL && len > 0)) {
        struct message m = { .buf = error->message, .used = 0 };
        message_string(&m, "invalid arguments");
        error->status = VMM_CONFIG_EINVAL;
        return VMM_CONFIG_EINVAL;
    }

    unsigned char *bytes = (unsigned char *)config;
    for (size_t i = 0; i < sizeof *config; i++)
        bytes[i] = 0;
    config->vcpus = 1;

    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        if (p.line < ~0u)
            p.line++;

        for (size_t i = pos; i < end; i++)
            if (text[i] == '\0')
                return parser_fail(&p, VMM_CONFIG_ENUL, "NUL byte in file (offset %u)",
                                   i > ~0u ? ~0u : (unsigned)i);

        enum vmm_config_status status = line_split(&p, text + pos, text + end);
        if (status == VMM_CONFIG_OK && p.ntokens > 0)
            status = parser_line(&p);
        if (status != VMM_CONFIG_OK)
            return status;
        pos = end < len ? end + 1 : len;
    }
    return VMM_CONFIG_OK;
}

const char *vmm_guest_format_name(enum vmm_guest_format format)
{
    switch (format) {
    case VMM_GUEST_FLAT:      return "flat";
    case VMM_GUEST_MULTIBOOT: return "multiboot";
    case VMM_GUEST_LINUX:     return "linux";
    case VMM_GUEST_NONE:      break;
    }
    return "none";
}
