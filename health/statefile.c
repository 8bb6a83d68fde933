/* statefile.c — operator overrides kept across restarts, one per line. */
#include "health/internal.h"
#include "contrib/base/err.h"
#include "contrib/base/fsutil.h"
#include "contrib/base/log.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void health_overrides_free(health_override_t *ovr, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(ovr[i].name);
	free(ovr);
}

static int parse_line(char *line, health_override_t *o)
{
	char *save = NULL;
	char *kind = strtok_r(line, " \t\r\n", &save);
	char *name = strtok_r(NULL, " \t\r\n", &save);
	char *mode = strtok_r(NULL, " \t\r\n", &save);
	if (!kind || !name || !mode || strtok_r(NULL, " \t\r\n", &save))
		return SD_EPARSE;
	if (strcmp(kind, "target") != 0 && strcmp(kind, "pool") != 0)
		return SD_EPARSE;
	if (!health_name_valid(name))
		return SD_EPARSE;
	if (strcmp(mode, "up") == 0)
		o->mode = HEALTH_FORCE_UP;
	else if (strcmp(mode, "down") == 0)
		o->mode = HEALTH_FORCE_DOWN;
	else
		return SD_EPARSE;
	o->pool = kind[0] == 'p';
	o->name = strdup(name);
	return o->name ? 0 : -ENOMEM;
}

int health_overrides_load(const char *path, health_override_t **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	int fd = sd_open_regular(path, O_RDONLY, 0); /* never a FIFO or device (fsutil.h) */
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		int ret = fd >= 0 ? sd_errno() : fd;
		if (fd >= 0)
			close(fd);
		return ret == -ENOENT ? 0 : ret;
	}
	int ret = 0;
	health_override_t *v = NULL;
	size_t n = 0, cap = 0;
	char line[512];
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			health_override_t *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				ret = -ENOMEM;
				goto out;
			}
			v = nv;
		}
		ret = parse_line(p, &v[n]);
		if (ret < 0) {
			/* a diagnostic of the file's text: file:line, as config errors */
			log_error("%s:%u: expected 'target|pool NAME up|down'", path, lineno);
			goto out;
		}
		n++;
	}
	if (ferror(f))
		ret = -EIO;
out:
	fclose(f);
	if (ret < 0) {
		health_overrides_free(v, n);
		return ret;
	}
	*out = v;
	*count = n;
	return 0;
}

int health_overrides_save(const char *path, const health_override_t *ovr, size_t count)
{
	int ret = 0;
	char *tmp = NULL;
	FILE *f = NULL;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	/* Only a regular file (or none) is replaced: the rename below would destroy a FIFO or
	 * a device node named as the state file. The temporary is created afresh, never
	 * opened where something else stands. */
	ret = sd_regular_or_absent(path);
	if (ret == 0 && unlink(tmp) != 0 && errno != ENOENT)
		ret = sd_errno();
	int fd = ret == 0 ? sd_open_regular(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644) : ret;
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = sd_errno();
		close(fd);
		goto out;
	}
	fprintf(f, "# steerdns health overrides (written by steerdns; steerctl health force-*)\n");
	for (size_t i = 0; i < count; i++)
		fprintf(f, "%s %s %s\n", ovr[i].pool ? "pool" : "target", ovr[i].name,
		        ovr[i].mode == HEALTH_FORCE_DOWN ? "down" : "up");
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ret = sd_errno();
	if (fclose(f) != 0 && ret == 0)
		ret = sd_errno();
	f = NULL;
	if (ret == 0 && rename(tmp, path) != 0)
		ret = sd_errno();
	if (ret == 0)
		ret = sd_fsync_dir(path);
out:
	if (ret < 0) {
		log_error("event=health-state-file-failed file=%s reason=%s", LOG_Q(path),
		          LOG_Q(sd_strerror(ret)));
		unlink(tmp);
	}
	free(tmp);
	return ret;
}
