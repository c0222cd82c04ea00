/* SPDX-License-Identifier: MIT */
/* System Control Port A register logic (see port92.h). */
#include "port92.h"

void port92_init(struct port92 *p)
{
    p->value = PORT92_POWER_ON;
}

uint8_t port92_read(const struct port92 *p)
{
    return p->value;
}

bool port92_write(struct port92 *p, uint8_t value)
{
    bool reset = (value & PORT92_RESET) && !(p->value & PORT92_RESET);
    p->value = value;
    return reset;
}

bool port92_a20(const struct port92 *p)
{
    return (p->value & PORT92_A20) != 0;
}
