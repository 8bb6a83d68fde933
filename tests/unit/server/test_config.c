/* Unit tests for the daemon's configuration (server/config.c) and listen addresses
 * (server/sock.c); the text buffer they collect errors in is contrib/base/strbuf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"
#include "contrib/base/strbuf.h"
#include "health/conf.h" /* to look inside the parsed health section */
#include "server/config.h"
#include "server/sock.h"

/* Every error line logged while a test runs. */
static sd_strbuf_t lines;

static void hook(log_level_t level, const char *line, void *data)
{
	(void)data;
	if (level == LOG_LEVEL_ERROR)
		sd_strbuf_printf(&lines, "%s\n", line);
}

static int setup(void **state)
{
	(void)state;
	sd_strbuf_reset(&lines);
	log_set_hook(hook, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_hook(NULL, NULL);
	sd_strbuf_free(&lines);
	return 0;
}

static unsigned count_lines(void)
{
	unsigned n = 0;
	for (const char *s = sd_strbuf_str(&lines); *s; s++)
		n += *s == '\n';
	return n;
}

static void test_full_config(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	const char *text = "server:\n"
	                   "  listen: [\"127.0.0.1:5353\", \"[::1]:5354\", \"192.0.2.1\"]\n"
	                   "  workers: 3\n"
	                   "  identity: \"ns1.example\"\n"
	                   "  udp-payload: 4096\n"
	                   "  tcp-idle-timeout: 2500ms\n"
	                   "  tcp-max-connections: 64\n"
	                   "  control-socket: run/ctl.sock\n"
	                   "  state-dir: .\n"
	                   "  log-level: debug\n"
	                   "  log-target: syslog\n"
	                   "zones:\n"
	                   "  - name: Example.COM\n"
	                   "    file: zones/example.com.zone\n"
	                   "  - name: example.org.\n"
	                   "    file: /abs/example.org.zone\n";
	/* state-dir need not exist: the daemon creates it at start */
	assert_int_equal(srv_config_load_string(text, "conf/t.yaml", &cfg), 0);
	assert_string_equal(cfg->state_dir, "conf/.");
	assert_int_equal(count_lines(), 0);
	assert_int_equal(cfg->listen_count, 3);
	assert_int_equal(cfg->listen[0].addr.ss.ss_family, AF_INET);
	assert_int_equal(srv_addr_port(&cfg->listen[0].addr), 5353);
	assert_int_equal(cfg->listen[1].addr.ss.ss_family, AF_INET6);
	assert_int_equal(srv_addr_port(&cfg->listen[1].addr), 5354);
	assert_int_equal(srv_addr_port(&cfg->listen[2].addr), 53);
	assert_string_equal(cfg->listen[1].where, "conf/t.yaml:2");
	assert_int_equal(cfg->workers, 3);
	assert_string_equal(cfg->identity, "ns1.example");
	assert_int_equal(cfg->udp_payload, 4096);
	assert_int_equal(cfg->tcp_idle_ms, 2500);
	assert_int_equal(cfg->tcp_max_conns, 64);
	assert_string_equal(cfg->control_socket, "conf/run/ctl.sock");
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	assert_true(cfg->log_syslog);
	assert_int_equal(cfg->zone_count, 2);
	assert_string_equal(cfg->zones[0].file, "conf/zones/example.com.zone");
	assert_string_equal(cfg->zones[1].file, "/abs/example.org.zone");
	assert_memory_equal(cfg->zones[0].apex, "\7example\3com", 13);
	assert_string_equal(cfg->zones[1].where, "conf/t.yaml:15");
	assert_ptr_equal(srv_config_zone(cfg, (const uint8_t *)"\7example\3org"), &cfg->zones[1]);
	assert_null(srv_config_zone(cfg, (const uint8_t *)"\7example\3net"));
	srv_config_free(cfg);
}

static void test_defaults(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	assert_int_equal(
	    srv_config_load_string("server:\n  listen: 127.0.0.1:53\n", "t.yaml", &cfg), 0);
	assert_int_equal(cfg->listen_count, 1);
	assert_int_equal(cfg->workers, 0);
	assert_true(srv_config_workers(cfg) >= 1);
	assert_null(cfg->identity);
	assert_int_equal(cfg->udp_payload, 1232);
	assert_int_equal(cfg->tcp_idle_ms, 10000);
	assert_int_equal(cfg->tcp_max_conns, 1024);
	assert_string_equal(cfg->state_dir, ".");
	assert_non_null(strstr(cfg->control_socket, "steerdns"));
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	assert_false(cfg->log_syslog);
	assert_int_equal(cfg->zone_count, 0);
	assert_int_equal(count_lines(), 0);
	srv_config_free(cfg);
}

/* The `health:` section: parsed by health/ with the config file's directory, its errors
 * reported with the rest, the state file defaulting to <state-dir>/health.state. */
static void test_health_section(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	assert_int_equal(
	    srv_config_load_string("server:\n  listen: 127.0.0.1:53\n", "conf/t.yaml", &cfg), 0);
	assert_non_null(cfg->health); /* no section: an empty prober, overrides still kept */
	assert_int_equal(cfg->health->ntargets, 0);
	assert_string_equal(cfg->health->state_file, "conf/health.state");
	srv_config_free(cfg);

	const char *good = "server:\n"
	                   "  listen: 127.0.0.1:53\n"
	                   "health:\n"
	                   "  state-file: run/ovr.state\n"
	                   "  templates:\n"
	                   "    - {name: t, type: tcp, port: 9}\n"
	                   "  targets:\n"
	                   "    - {name: a, address: 127.0.0.1, template: t, pool: p}\n";
	assert_int_equal(srv_config_load_string(good, "conf/t.yaml", &cfg), 0);
	assert_int_equal(cfg->health->ntargets, 1);
	assert_string_equal(cfg->health->targets[0].name, "a");
	assert_string_equal(cfg->health->state_file, "conf/run/ovr.state");
	srv_config_free(cfg);

	const char *bad = "server:\n"                                          /* 1 */
	                  "  workers: many\n"                                  /* 2 */
	                  "  listen: 127.0.0.1:53\n"                           /* 3 */
	                  "health:\n"                                          /* 4 */
	                  "  templates:\n"                                     /* 5 */
	                  "    - {name: t, type: ftp}\n"                       /* 6 */
	                  "  targets:\n"                                       /* 7 */
	                  "    - {name: a, address: 127.0.0.1, template: x}\n" /* 8 */
	                  "  colour: red\n";                                   /* 9 */
	assert_int_equal(srv_config_load_string(bad, "t.yaml", &cfg), SD_ECONFIG);
	const char *expect[] = {
	    "t.yaml:2: server.workers:",
	    "t.yaml:6: health.templates[0].type: unknown check type 'ftp'",
	    "t.yaml:8: health.targets[0].template: no template named 'x'",
	    "t.yaml:9: health.colour: unknown key",
	};
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		if (!strstr(sd_strbuf_str(&lines), expect[i]))
			fail_msg("missing error '%s' in:\n%s", expect[i], sd_strbuf_str(&lines));
	assert_int_equal(count_lines(), sizeof(expect) / sizeof(expect[0]));
	assert_non_null(cfg->health); /* --check goes on with an empty prober config */
	assert_int_equal(cfg->health->ntargets, 0);
	srv_config_free(cfg);
}

/* The steering section: bound to a served zone, with a template of the health section;
 * errors carry file:line and the key path. */
static void test_steering_section(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	const char *good = "server: {listen: 127.0.0.1:53}\n"
	                   "zones: [{name: example.com, file: example.com.zone}]\n"
	                   "health: {templates: [{name: t, type: tcp, port: 9}]}\n"
	                   "steering:\n"
	                   "  - {name: api.example.com, health: t, answers: 2}\n";
	assert_int_equal(srv_config_load_string(good, "t.yaml", &cfg), 0);
	assert_non_null(cfg->steering);
	assert_int_equal(cfg->steering->count, 1);
	assert_int_equal(cfg->steering->policies[0].answers, 2);
	srv_config_free(cfg);

	const char *bad = "server: {listen: 127.0.0.1:53}\n"                       /* 1 */
	                  "zones: [{name: example.com, file: example.com.zone}]\n" /* 2 */
	                  "health: {templates: [{name: t, type: tcp, port: 9}]}\n" /* 3 */
	                  "steering:\n"                                            /* 4 */
	                  "  - {name: api.example.net, health: t}\n"               /* 5 */
	                  "  - {name: b.example.com, health: nope}\n"              /* 6 */
	                  "  - {name: c.example.com, health: t, colour: red}\n";   /* 7 */
	assert_int_equal(srv_config_load_string(bad, "t.yaml", &cfg), SD_ECONFIG);
	const char *expect[] = {
	    "t.yaml:5: steering[0].name: 'api.example.net' is outside every served zone",
	    "t.yaml:6: steering[1].health: unknown health template 'nope'",
	    "t.yaml:7: steering[2].colour: unknown key",
	};
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		if (!strstr(sd_strbuf_str(&lines), expect[i]))
			fail_msg("missing error '%s' in:\n%s", expect[i], sd_strbuf_str(&lines));
	srv_config_free(cfg);
}

static void test_identity_off(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	assert_int_equal(srv_config_load_string("server:\n  listen: 127.0.0.1\n  identity: off\n",
	                                        "t.yaml", &cfg),
	                 0);
	assert_null(cfg->identity);
	srv_config_free(cfg);
	/* Quoted, it is the text "off". */
	assert_int_equal(srv_config_load_string(
	                     "server:\n  listen: 127.0.0.1\n  identity: \"off\"\n", "t.yaml", &cfg),
	                 0);
	assert_string_equal(cfg->identity, "off");
	srv_config_free(cfg);
}

/* server.user/group become ids at load (root always exists, group root too); an unknown
 * name or a group without a user is an error naming the key. */
static void test_user_group(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	assert_int_equal(srv_config_load_string("server:\n  listen: 127.0.0.1\n", "t.yaml", &cfg),
	                 0);
	assert_false(cfg->priv.set);
	srv_config_free(cfg);
	assert_int_equal(
	    srv_config_load_string("server:\n  listen: 127.0.0.1\n  user: root\n  group: root\n",
	                           "t.yaml", &cfg),
	    0);
	assert_true(cfg->priv.set);
	assert_int_equal(cfg->priv.uid, 0);
	assert_int_equal(cfg->priv.gid, 0);
	assert_string_equal(cfg->priv.user, "root");
	srv_config_free(cfg);
	assert_int_equal(
	    srv_config_load_string("server:\n  listen: 127.0.0.1\n  user: no-such-user-sd14\n",
	                           "t.yaml", &cfg),
	    SD_ECONFIG);
	assert_non_null(strstr(sd_strbuf_str(&lines), "no user named 'no-such-user-sd14'"));
	srv_config_free(cfg);
	assert_int_equal(
	    srv_config_load_string("server:\n  listen: 127.0.0.1\n  group: root\n", "t.yaml", &cfg),
	    SD_ECONFIG);
	assert_non_null(strstr(sd_strbuf_str(&lines), "server.group root needs server.user"));
	srv_config_free(cfg);
}

/* server.rrl: off by default (rate 0) with the documented defaults; every key read; a
 * bad whitelist entry or slip is an error. */
static void test_rrl(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	assert_int_equal(srv_config_load_string("server:\n  listen: 127.0.0.1\n", "t.yaml", &cfg),
	                 0);
	assert_int_equal(cfg->rrl.rate, 0);
	assert_int_equal(cfg->rrl.slip, 2);
	assert_int_equal(cfg->rrl.ipv4_prefix, 24);
	assert_int_equal(cfg->rrl.ipv6_prefix, 56);
	srv_config_free(cfg);
	assert_int_equal(
	    srv_config_load_string(
	        "server:\n  listen: 127.0.0.1\n  rrl:\n    rate: 20\n    slip: 3\n"
	        "    ipv4-prefix: 32\n    ipv6-prefix: 64\n    log-only: true\n"
	        "    table-size: 1000\n    whitelist: [192.0.2.0/24, \"2001:db8::/32\"]\n",
	        "t.yaml", &cfg),
	    0);
	assert_int_equal(cfg->rrl.rate, 20);
	assert_int_equal(cfg->rrl.slip, 3);
	assert_int_equal(cfg->rrl.ipv4_prefix, 32);
	assert_int_equal(cfg->rrl.ipv6_prefix, 64);
	assert_true(cfg->rrl.log_only);
	assert_int_equal(cfg->rrl.table_size, 1000);
	assert_int_equal(cfg->rrl.nwhitelist, 2);
	srv_config_free(cfg);
	assert_int_equal(
	    srv_config_load_string("server:\n  listen: 127.0.0.1\n  rrl:\n    slip: 11\n"
	                           "    whitelist: [192.0.2.1/24]\n    burst: 3\n",
	                           "t.yaml", &cfg),
	    SD_ECONFIG);
	assert_int_equal(count_lines(), 3);
	assert_non_null(strstr(sd_strbuf_str(&lines), "'192.0.2.1/24' is not an address"));
	srv_config_free(cfg);
}

static void test_every_error_reported(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	const char *text = "server:\n"                                       /* 1 */
	                   "  listen: [\"127.0.0.1:99999\", \"nonsense\"]\n" /* 2: two errors */
	                   "  workers: many\n"                               /* 3 */
	                   "  identity: \"\"\n"                              /* 4 */
	                   "  udp-payload: 100\n"                            /* 5 */
	                   "  tcp-idle-timeout: 10 parsecs\n"                /* 6 */
	                   "  log-target: printer\n"                         /* 7 */
	                   "  bogus: 1\n"                                    /* 8 */
	                   "zones:\n"                                        /* 9 */
	                   "  - name: example.com\n"                         /* 10 */
	                   "    file: a.zone\n"                              /* 11 */
	                   "  - name: EXAMPLE.com.\n"                        /* 12: duplicate */
	                   "    file: b.zone\n"                              /* 13 */
	                   "  - name: \"a..b\"\n"                            /* 14 */
	                   "    file: c.zone\n"                              /* 15 */
	                   "  - file: d.zone\n"                              /* 16: no name */
	                   "    color: blue\n"                               /* 17: unknown */
	                   "policies: {}\n";                                 /* 18 */
	assert_int_equal(srv_config_load_string(text, "t.yaml", &cfg), SD_ECONFIG);
	const char *expect[] = {
	    "t.yaml:2: server.listen[0]:",
	    "t.yaml:2: server.listen[1]:",
	    "t.yaml:3: server.workers:",
	    "t.yaml:4: server.identity:",
	    "t.yaml:5: server.udp-payload:",
	    "t.yaml:6: server.tcp-idle-timeout:",
	    "t.yaml:7: server.log-target:",
	    "t.yaml:8: server.bogus: unknown key",
	    "t.yaml:12: zones[1].name: zone 'EXAMPLE.com.' is already defined at t.yaml:10",
	    "t.yaml:14: zones[2].name:",
	    "t.yaml:16: zones[3]: missing key 'name'",
	    "t.yaml:17: zones[3].color: unknown key",
	    "t.yaml:18: policies: unknown key",
	};
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		if (!strstr(sd_strbuf_str(&lines), expect[i]))
			fail_msg("missing error '%s' in:\n%s", expect[i], sd_strbuf_str(&lines));
	assert_int_equal(count_lines(), sizeof(expect) / sizeof(expect[0]));
	assert_int_equal(cfg->zone_count, 1); /* the valid entry survives for --check */
	srv_config_free(cfg);
}

/* state-dir: something other than a directory is an error with file:line; --state-dir
 * overrides the file (and the health state file follows it). */
static void test_state_dir(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	char dir[] = "/tmp/sd-cfg-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char file[64], yaml[64];
	snprintf(file, sizeof(file), "%s/plain", dir);
	snprintf(yaml, sizeof(yaml), "%s/t.yaml", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(srv_config_load_string("server:\n  listen: 127.0.0.1:53\n"
	                                        "  state-dir: plain\n",
	                                        yaml, &cfg),
	                 SD_ECONFIG);
	assert_non_null(strstr(sd_strbuf_str(&lines), "t.yaml:3: server.state-dir:"));
	assert_non_null(strstr(sd_strbuf_str(&lines), "is not a directory"));
	srv_config_free(cfg);
	f = fopen(yaml, "w");
	assert_non_null(f);
	fputs("server:\n  listen: 127.0.0.1:53\n  state-dir: missing/state\n", f);
	fclose(f);
	srv_cli_t cli = {.config_file = yaml};
	assert_int_equal(srv_config_load(&cli, &cfg), 0);
	assert_true(strstr(cfg->state_dir, "/missing/state") != NULL);
	srv_config_free(cfg);
	cli.state_dir = "elsewhere";
	assert_int_equal(srv_config_load(&cli, &cfg), 0);
	assert_string_equal(cfg->state_dir, "elsewhere");
	srv_config_free(cfg);
	unlink(yaml);
	unlink(file);
	rmdir(dir);
}

/* A zone whose state file names ("<zone>.snapshot.tmpXXXXXX") would exceed NAME_MAX could
 * never write its journal or snapshot: rejected at its name, file:line; one that fits is
 * not. */
static void test_zone_name_fits_state_files(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	char label[64], name[256], yaml[600];
	memset(label, 'a', 63);
	label[63] = '\0';
	/* 4 labels of 63 + 3 dots = 255 characters: a valid name, 274 with the suffix */
	snprintf(name, sizeof(name), "%s.%s.%s.%.60s", label, label, label, label);
	snprintf(yaml, sizeof(yaml),
	         "server:\n  listen: 127.0.0.1:53\nzones:\n  - name: short.example\n"
	         "    file: a.zone\n  - name: %s\n    file: b.zone\n",
	         name);
	assert_int_equal(srv_config_load_string(yaml, "t.yaml", &cfg), SD_ECONFIG);
	assert_non_null(strstr(sd_strbuf_str(&lines), "t.yaml:6: zones[1].name: zone '"));
	assert_non_null(strstr(sd_strbuf_str(&lines), "too long for its state files"));
	assert_int_equal(count_lines(), 1);
	assert_int_equal(cfg->zone_count, 1);
	srv_config_free(cfg);
}

static void test_listen_required(void **state)
{
	(void)state;
	srv_config_t *cfg = NULL;
	assert_int_equal(srv_config_load_string("zones: []\n", "t.yaml", &cfg), SD_ECONFIG);
	assert_non_null(strstr(sd_strbuf_str(&lines), "server.listen is required"));
	srv_config_free(cfg);
	assert_int_equal(srv_config_load_string("server: [\n", "t.yaml", &cfg), SD_EPARSE);
	assert_null(cfg);
}

static void test_quick_mode(void **state)
{
	(void)state;
	const char *listen[] = {"127.0.0.1:5300", "[::1]:5300"};
	const char *zones[] = {"example.com=ex.zone", "example.org=/z/org.zone"};
	srv_cli_t cli = {.listen = listen,
	                 .listen_count = 2,
	                 .zones = zones,
	                 .zone_count = 2,
	                 .workers = "2",
	                 .control = "/tmp/x.sock",
	                 .log_level = "warning"};
	srv_config_t *cfg = NULL;
	assert_int_equal(srv_config_load(&cli, &cfg), 0);
	assert_int_equal(cfg->listen_count, 2);
	assert_int_equal(cfg->zone_count, 2);
	assert_string_equal(cfg->zones[0].file, "ex.zone");
	assert_string_equal(cfg->zones[1].name, "example.org");
	assert_int_equal(cfg->workers, 2);
	assert_string_equal(cfg->control_socket, "/tmp/x.sock");
	assert_int_equal(cfg->log_level, LOG_LEVEL_WARNING);
	assert_string_equal(cfg->state_dir, SRV_STATE_DIR_QUICK); /* not the working directory */
	srv_config_free(cfg);
	cli.state_dir = "/var/tmp/sd-state";
	assert_int_equal(srv_config_load(&cli, &cfg), 0);
	assert_string_equal(cfg->state_dir, "/var/tmp/sd-state");
	srv_config_free(cfg);

	const char *bad_zones[] = {"example.com", "x=y", "x=z"};
	srv_cli_t bad = {.listen = listen,
	                 .listen_count = 1,
	                 .zones = bad_zones,
	                 .zone_count = 3,
	                 .workers = "lots"};
	assert_int_equal(srv_config_load(&bad, &cfg), SD_ECONFIG);
	assert_int_equal(count_lines(), 3); /* no '=', x given twice, workers */
	srv_config_free(cfg);

	srv_cli_t mixed = {.config_file = "t.yaml", .listen = listen, .listen_count = 1};
	assert_int_equal(srv_config_load(&mixed, &cfg), SD_ECONFIG);
	assert_null(cfg);
}

static void test_addr_parse(void **state)
{
	(void)state;
	srv_addr_t a;
	char buf[SRV_ADDR_STRLEN];
	assert_int_equal(srv_addr_parse("192.0.2.1:53", &a), 0);
	assert_string_equal(srv_addr_str((struct sockaddr *)&a.ss, buf, sizeof(buf)),
	                    "192.0.2.1:53");
	assert_int_equal(srv_addr_parse("[2001:db8::1]:5353", &a), 0);
	assert_string_equal(srv_addr_str((struct sockaddr *)&a.ss, buf, sizeof(buf)),
	                    "[2001:db8::1]:5353");
	assert_int_equal(srv_addr_parse("::1", &a), 0);
	assert_int_equal(srv_addr_port(&a), 53);
	assert_int_equal(srv_addr_parse("[::]", &a), 0);
	assert_int_equal(a.len, sizeof(struct sockaddr_in6));
	assert_int_equal(srv_addr_parse("0.0.0.0:0", &a), 0);
	srv_addr_set_port(&a, 9);
	assert_int_equal(srv_addr_port(&a), 9);
	const char *bad[] = {"",     ":53",    "1.2.3.4:",     "1.2.3.4:65536",  "1.2.3.4:5x",
	                     "[::1", "[::1]x", "[1.2.3.4]:53", "example.com:53", "1.2.3:53",
	                     "[]:53"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (srv_addr_parse(bad[i], &a) != SD_EPARSE)
			fail_msg("'%s' parsed", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_full_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_section, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_identity_off, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rrl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_error_reported, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zone_name_fits_state_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listen_required, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quick_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_addr_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_steering_section, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
