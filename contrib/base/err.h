/* err.h — the one error convention of steerdns.
 *
 * A function that can fail returns int: 0 on success, a negative code otherwise. Codes in
 * (-4096, 0) are negated errno values; codes at or below SD_EBASE are steerdns's own.
 * DNS outcomes (NXDOMAIN, REFUSED, ...) are results, never errors.
 */
#pragma once

#include <errno.h>

enum {
	SD_OK = 0,
	SD_EBASE = -10000,
	SD_EPARSE = SD_EBASE, /* malformed input (text or wire) */
	SD_ESEMANTIC,         /* well-formed but violates a rule (zone or config) */
	SD_ENOTFOUND,         /* a looked-up object does not exist */
	SD_EEXIST,            /* an object that must be unique exists already */
	SD_ELIMIT,            /* a configured or protocol limit was reached */
	SD_ESPACE,            /* the output does not fit the buffer */
	SD_ECONFIG,           /* the configuration is invalid */
	SD_ECHECKSUM,         /* stored data failed its checksum */
	SD_ETSIG,             /* TSIG verification failed */
	SD_EREFUSED,          /* an operation was refused by policy */
	SD_EPROTO,            /* a peer broke the protocol */
	SD_ETIMEOUT,          /* an operation timed out */
	SD_ETLS,              /* TLS handshake or verification failed */
	SD_EFIFO,             /* a file to read or replace is a FIFO */
	SD_EDEVICE,           /* a file to read or replace is a device node */
	SD_ENOTREG,           /* a file to read or replace is a socket or other special file */
	SD_EEND_,             /* not a code: end marker */
};

/* Return a static, human-readable text for any code this convention produces.
 * Thread-safe; never NULL. */
const char *sd_strerror(int code);

/* Convert the current errno into a negative code (never 0). */
static inline int sd_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}
