/* Validation of the `next` redirect target: only local paths. Pure. */
#ifndef AUTHGATE_REDIRECT_H
#define AUTHGATE_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when `target` is a local absolute path safe to put in a Location
 * header: starts with '/', not "//" nor "/\" (browsers read both as another
 * host), no scheme, only printable ASCII (no control characters, which
 * browsers strip and so could turn "/\t/evil" into "//evil", no spaces, no
 * bytes >= 0x80), at most REDIRECT_MAX_LEN bytes.
 */
bool redirect_is_local(const char *target, size_t len);

#define REDIRECT_MAX_LEN 2048

#endif
