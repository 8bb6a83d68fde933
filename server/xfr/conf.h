/* conf.h — the transfer-related configuration: TSIG keys and per-zone primary settings.
 *
 *   keys:                                   zones:
 *     - name: xfr-key                         - name: example.com
 *       algorithm: hmac-sha256                  file: example.com.zone
 *       secret: "base64..."  | secret-file      serial-policy: increment | unixtime | dateserial
 *                                               notify: [ "ADDR:PORT", {address, key} ]
 *                                               transfer-acl: [ {address: PREFIX, key: NAME} ]
 *                                               journal-max-size: BYTES
 *                                               journal-max-depth: ENTRIES
 *
 * Key names used by notify and transfer-acl must be declared under keys (a dangling name is
 * a config error with file:line). Parsing reports every problem through conf_error and goes
 * on. Everything parsed is owned by the structs here and freed by their *_free. Control
 * thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "contrib/base/conf.h"
#include "server/xfr/acl.h"
#include "server/xfr/notify.h"
#include "server/xfr/tsig.h"
#include "zone/journal.h"
#include "zone/serial.h"

typedef struct xfr_keys {
	tsig_key_t *keys;
	size_t count;
} xfr_keys_t;

typedef struct xfr_zone_conf {
	zone_serial_policy_t policy;
	zone_journal_limits_t limits;
	xfr_notify_target_t *notify; /* key pointers point into notify_keys */
	tsig_key_t *notify_keys;     /* copies, one per target (unused when the target has none) */
	size_t notify_count;
	xfr_acl_rule_t *acl;
	size_t acl_count;
} xfr_zone_conf_t;

/* Keys a zone entry may carry besides name and file (NULL-terminated). */
extern const char *const xfr_zone_conf_keys[];

/* Parse the top-level "keys" sequence; dir resolves relative secret-file paths. Returns 0 or
 * -ENOMEM (errors are counted in ctx). */
int xfr_conf_keys(conf_ctx_t *ctx, const conf_node_t *node, const char *dir, xfr_keys_t *out)
    SD_NONNULL(1, 2, 3, 4) SD_WUR;
void xfr_keys_free(xfr_keys_t *keys);
const tsig_key_t *xfr_keys_find(const xfr_keys_t *keys, const uint8_t *name) SD_NONNULL(1, 2);
/* The key a config node names (a string, a key defined under `keys`), or NULL with the
 * error reported at the node (unknown key, not a string). */
const tsig_key_t *xfr_conf_key_ref(conf_ctx_t *ctx, const conf_node_t *n, const xfr_keys_t *keys)
    SD_NONNULL(1, 2, 3);

/* Parse the transfer keys of one zone entry (a map; absent keys keep the defaults). */
int xfr_conf_zone(conf_ctx_t *ctx, const conf_node_t *zone, const xfr_keys_t *keys,
                  xfr_zone_conf_t *out) SD_NONNULL(1, 2, 3, 4) SD_WUR;
/* Deep copy (for state that outlives the config). */
int xfr_zone_conf_copy(const xfr_zone_conf_t *from, xfr_zone_conf_t *to) SD_NONNULL(1, 2) SD_WUR;
void xfr_zone_conf_free(xfr_zone_conf_t *c);
