/* tls.h — the prober's TLS client contexts (OpenSSL stays in tls.c and check.c).
 *
 * One SSL_CTX per https template, created at config load and shared by every check of that
 * template (SSL_CTX is safe to share once configured). Sessions are never resumed, so every
 * check verifies the certificate chain afresh. Any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "contrib/base/compiler.h"

/* Verify against ca_file, or the system store when NULL; insecure skips verification.
 * On failure writes OpenSSL's reason to err and returns SD_ETLS. */
int health_tls_ctx_new(const char *ca_file, bool insecure, void **out, char *err, size_t errlen)
    SD_NONNULL(3, 4) SD_WUR;
void health_tls_ctx_free(void *ctx);
