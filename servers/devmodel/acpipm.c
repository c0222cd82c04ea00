/* SPDX-License-Identifier: MIT */
/* The hardware-reduced ACPI power registers' logic (see acpipm.h). */
#include "acpipm.h"

void acpipm_init(struct acpipm *p)
{
    *p = (struct acpipm){ 0 };
}

static uint8_t register_read(const struct acpipm *p, unsigned offset)
{
    return offset == ACPIPM_SLEEP_STATUS ? p->status : 0;
}

uint64_t acpipm_read(const struct acpipm *p, unsigned offset, unsigned size)
{
    uint64_t value = 0;
    for (unsigned i = 0; i < size && i < 8; i++)
        value |= (uint64_t)register_read(p, offset + i) << (8 * i);
    return value;
}

static enum acpipm_action register_write(struct acpipm *p, unsigned offset, uint8_t value,
                                         unsigned *sleep_type)
{
    switch (offset) {
    case ACPIPM_SLEEP_CONTROL:
        if (!(value & ACPIPM_SLP_EN))
            return ACPIPM_NONE;   /* SLP_TYP alone does nothing until SLP_EN */
        *sleep_type = (value & ACPIPM_SLP_TYP_MASK) >> ACPIPM_SLP_TYP_SHIFT;
        if (*sleep_type == ACPIPM_SLP_TYP_S5)
            return ACPIPM_POWEROFF;
        /* No other sleep state exists here: report the wake-up at once, so
         * an OS polling WAK_STS (ACPICA's acpi_hw_extended_sleep) resumes. */
        p->status |= ACPIPM_WAK_STS;
        return ACPIPM_SLEEP_IGNORED;
    case ACPIPM_SLEEP_STATUS:
        p->status &= (uint8_t)~(value & ACPIPM_WAK_STS);   /* write 1 to clear */
        return ACPIPM_NONE;
    case ACPIPM_RESET:
        return value == ACPIPM_RESET_VALUE ? ACPIPM_RESET_REQUEST : ACPIPM_NONE;
    default:
        return ACPIPM_NONE;
    }
}

enum acpipm_action acpipm_write(struct acpipm *p, unsigned offset, unsigned size, uint64_t value,
                                unsigned *sleep_type)
{
    enum acpipm_action result = ACPIPM_NONE;
    unsigned type = 0;

    for (unsigned i = 0; i < size && i < 8; i++) {
        enum acpipm_action a = register_write(p, offset + i, (uint8_t)(value >> (8 * i)), &type);
        if (a == ACPIPM_NONE)
            continue;
        result = a;
        *sleep_type = type;
        if (a != ACPIPM_SLEEP_IGNORED)
            break;   /* power-off or reset: the VM is going away */
    }
    return result;
}

bool acpipm_first_ignored(struct acpipm *p, unsigned type)
{
    uint8_t bit = (uint8_t)(1u << (type & 7));
    bool first = !(p->ignored_types & bit);
    p->ignored_types |= bit;
    return first;
}
