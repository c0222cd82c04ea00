/* SPDX-License-Identifier: MIT */
/*
 * One flat error enum for every syscall.  A syscall returns a value >= 0 on
 * success and one of these (negative, in RAX) on failure.  abi/README.md says
 * which syscall returns which error and when.
 */
#ifndef COPRA_ABI_ERRORS_H
#define COPRA_ABI_ERRORS_H

enum copra_error {
    COPRA_OK        = 0,
    COPRA_EINVAL    = -1,  /* an argument is out of its documented range      */
    COPRA_ENOSYS    = -2,  /* no such syscall number                          */
    COPRA_ENOMEM    = -3,  /* out of physical memory or kernel heap           */
    COPRA_EBADH     = -4,  /* not a live handle of this process (stale, forged, closed) */
    COPRA_ETYPE     = -5,  /* the handle names an object of the wrong type    */
    COPRA_ERIGHTS   = -6,  /* the handle lacks a right the call needs         */
    COPRA_EFAULT    = -7,  /* a user pointer is not mapped, not user, or lacks access */
    COPRA_ENOENT    = -8,  /* no such file in the initrd                      */
    COPRA_EFULL     = -9,  /* a handle table or another fixed table is full, or a per-process limit is reached */
    COPRA_EALIGN    = -10, /* an address or size is not aligned as required   */
    COPRA_ERANGE    = -11, /* a length or count is larger than the documented maximum */
    COPRA_ENOEXEC   = -12, /* the file is not a valid Copra ELF executable    */
    COPRA_ETIMEOUT  = -13, /* a wait ended by its timeout                     */
    COPRA_EBUSY     = -14, /* the object is in a state that forbids the call  */
    COPRA_EEXIST    = -15, /* the range or object already exists / overlaps   */
    COPRA_EPERM     = -16, /* the call is refused by policy (e.g. W+X mapping) */
};

#endif
