#include "health/tls.h"
#include "contrib/base/err.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>

int health_tls_ctx_new(const char *ca_file, bool insecure, void **out, char *err, size_t errlen)
{
	int ret = SD_ETLS;
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		goto out;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	if (!insecure) {
		int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
		                 : SSL_CTX_set_default_verify_paths(ctx);
		if (!ok)
			goto out;
	}
	*out = ctx;
	ctx = NULL;
	ret = 0;
out:
	if (ret < 0) {
		unsigned long e = ERR_peek_last_error();
		snprintf(err, errlen, "%s",
		         e ? ERR_reason_error_string(e) : "cannot create context");
		if (!ERR_reason_error_string(e))
			snprintf(err, errlen, "cannot load CA file");
	}
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

void health_tls_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}
