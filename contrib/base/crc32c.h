/* crc32c.h — CRC32C (Castagnoli, RFC 3720 B.4), the checksum of the journal's entries. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* CRC32C of data, continuing from crc (start with 0). Pure; any thread. */
uint32_t sd_crc32c(uint32_t crc, const void *data, size_t len);
