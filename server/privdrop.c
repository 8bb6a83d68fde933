/* privdrop.c — see privdrop.h. */
#include "server/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contrib/base/err.h"
#include "contrib/base/log.h"

int srv_priv_resolve(const char *user, const char *group, srv_priv_t *p, const char **what)
{
	srv_priv_fini(p);
	struct passwd *pw = getpwnam(user);
	*what = user;
	if (pw == NULL)
		return SD_ENOTFOUND;
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	if (group != NULL) {
		struct group *gr = getgrnam(group);
		*what = group;
		if (gr == NULL)
			return SD_ENOTFOUND;
		p->gid = gr->gr_gid;
	}
	p->user = strdup(user);
	p->group = group ? strdup(group) : NULL;
	if (p->user == NULL || (group != NULL && p->group == NULL)) {
		srv_priv_fini(p);
		return -ENOMEM;
	}
	p->set = true;
	return 0;
}

void srv_priv_fini(srv_priv_t *p)
{
	free(p->user);
	free(p->group);
	*p = (srv_priv_t){0};
}

bool srv_priv_active(const srv_priv_t *p)
{
	return p->set && geteuid() == 0 && p->uid != 0;
}

int srv_priv_check(const srv_priv_t *p)
{
	uid_t euid = geteuid();
	if (!p->set) {
		if (euid == 0)
			log_warning(
			    "event=running-as-root hint=\"set server.user (or --user) to drop "
			    "privileges once the ports are bound\"");
		return 0;
	}
	if (euid != 0 && euid != p->uid) {
		log_error(
		    "event=privileges-failed user=%s uid=%u reason=\"cannot switch to it: not "
		    "started as root\"",
		    LOG_Q(p->user), (unsigned)euid);
		return -EPERM;
	}
	return 0;
}

int srv_priv_assume(const srv_priv_t *p)
{
	if (setgroups(1, &p->gid) != 0 || setegid(p->gid) != 0 || seteuid(p->uid) != 0) {
		int ret = sd_errno();
		log_error("event=privileges-failed user=%s reason=%s", LOG_Q(p->user),
		          LOG_Q(sd_strerror(ret)));
		return ret;
	}
	return 0;
}

int srv_priv_regain(void)
{
	if (seteuid(0) != 0 || setegid(0) != 0) {
		int ret = sd_errno();
		log_error("event=privileges-failed user=root reason=%s hint=\"root is needed back "
		          "to bind the ports\"",
		          LOG_Q(sd_strerror(ret)));
		return ret;
	}
	return 0;
}

int srv_priv_drop(const srv_priv_t *p)
{
	int ret = 0;
	if (setgroups(1, &p->gid) != 0 || setgid(p->gid) != 0 || setuid(p->uid) != 0)
		ret = sd_errno();
	else if (setuid(0) == 0 || geteuid() == 0) /* the drop must not be reversible */
		ret = -EPERM;
	if (ret < 0) {
		log_error("event=privileges-failed user=%s reason=%s", LOG_Q(p->user),
		          LOG_Q(sd_strerror(ret)));
		return ret;
	}
	log_notice("event=privileges-dropped user=%s uid=%u gid=%u", LOG_Q(p->user),
	           (unsigned)p->uid, (unsigned)p->gid);
	return 0;
}

int srv_priv_state_dir(const srv_priv_t *p, const char *dir, bool created)
{
	if (created) {
		if (chown(dir, p->uid, p->gid) == 0)
			return 0;
		int ret = sd_errno();
		log_error("event=state-dir-failed file=%s user=%s reason=%s", LOG_Q(dir),
		          LOG_Q(p->user), LOG_Q(sd_strerror(ret)));
		return ret;
	}
	struct stat st;
	if (stat(dir, &st) != 0)
		return sd_errno();
	if (st.st_uid == p->uid)
		return 0;
	log_error("event=state-dir-failed file=%s owner_uid=%u user=%s uid=%u reason=\"it "
	          "belongs to uid %u, not to server.user %s\" hint=\"chown -R it to that user\"",
	          LOG_Q(dir), (unsigned)st.st_uid, LOG_Q(p->user), (unsigned)p->uid,
	          (unsigned)st.st_uid, p->user);
	return -EPERM;
}
