#include "contrib/base/err.h"

#include <string.h>

static const char *const own_errors[] = {
    [SD_EPARSE - SD_EBASE] = "malformed input",
    [SD_ESEMANTIC - SD_EBASE] = "semantic error",
    [SD_ENOTFOUND - SD_EBASE] = "not found",
    [SD_EEXIST - SD_EBASE] = "already exists",
    [SD_ELIMIT - SD_EBASE] = "limit reached",
    [SD_ESPACE - SD_EBASE] = "no space in buffer",
    [SD_ECONFIG - SD_EBASE] = "invalid configuration",
    [SD_ECHECKSUM - SD_EBASE] = "checksum mismatch",
    [SD_ETSIG - SD_EBASE] = "TSIG verification failed",
    [SD_EREFUSED - SD_EBASE] = "refused",
    [SD_EPROTO - SD_EBASE] = "protocol error",
    [SD_ETIMEOUT - SD_EBASE] = "timed out",
    [SD_ETLS - SD_EBASE] = "TLS error",
    [SD_EFIFO - SD_EBASE] = "is a FIFO, not a regular file",
    [SD_EDEVICE - SD_EBASE] = "is a device node, not a regular file",
    [SD_ENOTREG - SD_EBASE] = "is not a regular file",
};

const char *sd_strerror(int code)
{
	if (code == 0)
		return "success";
	if (code > -4096 && code < 0) /* negated errno (err.h); our codes start at SD_EBASE */
		return strerrordesc_np(-code) ? strerrordesc_np(-code) : "unknown system error";
	if (code >= SD_EBASE && code < SD_EEND_ && own_errors[code - SD_EBASE])
		return own_errors[code - SD_EBASE];
	return "unknown error";
}
