/* Creating, destroying, mounting and unmounting a container. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct.h"
#include "net.h"
#include "error.h"
#include "log.h"
#include "util.h"

static const struct { const char *ext, *flag; } tar_kinds[] = {
	{ ".tar.gz", "-z" }, { ".tar.xz", "-J" }, { ".tar.zst", "--zstd" },
	{ ".tgz", "-z" }, { ".tar", NULL },
};

static int find_template(const struct vz_ct *ct, const char *name, char **path,
			 const char **flag, struct vz_error *err)
{
	if (!*name || strchr(name, '/') || name[0] == '.')
		return vz_fail(err, VZ_EUSAGE,
			       "invalid OS template name '%s': give the name of a tarball in %s/cache without its extension",
			       name, ct->template_dir);
	for (size_t i = 0; i < ARRAY_SIZE(tar_kinds); i++) {
		char *p = xasprintf("%s/cache/%s%s", ct->template_dir, name,
				    tar_kinds[i].ext);
		if (access(p, R_OK) == 0) {
			*path = p;
			*flag = tar_kinds[i].flag;
			return 0;
		}
		free(p);
	}
	return vz_fail(err, VZ_ENOENT,
		       "OS template '%s' not found: no %s/cache/%s.tar.{gz,xz,zst}%s",
		       name, ct->template_dir, name,
		       strcmp(name, "busybox") == 0 ? "; build it with vztmpl-busybox" : "");
}

/* Feeds the tarball to tar ourselves, so progress can be shown. */
static int unpack(const char *tarball, const char *flag, const char *dir,
		  struct vz_error *err)
{
	_cleanup_close_ int in = open(tarball, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "open %s", tarball);
	struct stat st;
	fstat(in, &st);
	_cleanup_free_ char *tar = vz_find_program("tar");
	if (!tar)
		return vz_fail(err, VZ_ENOSYS, "tar not found; install it (scripts/install-deps)");
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "fork");
	if (pid == 0) {
		dup2(p[0], 0);
		char *argv[12];
		int n = 0;
		argv[n++] = "tar";
		argv[n++] = "--numeric-owner";
		argv[n++] = "-xp";
		if (flag)
			argv[n++] = (char *)flag;
		argv[n++] = "-C";
		argv[n++] = (char *)dir;
		argv[n++] = "-f";
		argv[n++] = "-";
		argv[n] = NULL;
		execv(tar, argv);
		_exit(127);
	}
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	char buf[1 << 16];
	unsigned long long done = 0;
	int ret = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				ret = vz_fail_errno(err, VZ_ESYSTEM, "read %s", tarball);
			break;
		}
		ssize_t off = 0;
		while (off < n) {
			ssize_t w = write(p[1], buf + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				break;
			off += w;
		}
		if (off < n)
			break;  /* tar died: its status tells why */
		done += n;
		vz_progress("Unpacking", done, st.st_size, false);
	}
	close(p[1]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	vz_progress("Unpacking", done, st.st_size, true);
	if (ret == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		return vz_fail(err, VZ_ESYSTEM,
			       "unpack %s: tar failed (exit %d); the tarball may be corrupt",
			       tarball, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return ret;
}

int vz_ct_create(struct vz_ct *ct, const struct vz_create_opts *o,
		 struct vz_error *err)
{
	if (ct->exists)
		return vz_fail(err, VZ_EEXIST, "CT %s already exists (%s)",
			       ct->idstr, ct->conf_path);
	if (o->private_dir) {
		free(ct->private_dir);
		ct->private_dir = vz_conf_expand(o->private_dir, ct->idstr);
	}
	if (o->root) {
		free(ct->root);
		ct->root = vz_conf_expand(o->root, ct->idstr);
	}
	if (ct->private_dir[0] != '/' || ct->root[0] != '/')
		return vz_fail(err, VZ_EUSAGE, "--private and --root need absolute paths");
	if (vz_path_exists(ct->private_dir))
		return vz_fail(err, VZ_EEXIST,
			       "private area %s already exists; remove it or choose another --private",
			       ct->private_dir);

	const char *ostemplate = o->ostemplate ? o->ostemplate :
				 vz_conf_get(&ct->global, "DEF_OSTEMPLATE");
	if (!ostemplate)
		return vz_fail(err, VZ_EUSAGE,
			       "no OS template: give --ostemplate or set DEF_OSTEMPLATE in vz.conf");
	_cleanup_free_ char *tarball = NULL;
	const char *flag = NULL;
	if (find_template(ct, ostemplate, &tarball, &flag, err) < 0)
		return vz_prefix(err, "create CT %s", ct->idstr);

	/* the new config: the sample, plus what create was told */
	const char *sample = o->config ? o->config : vz_conf_get(&ct->global, "CONFIGFILE");
	struct vz_conf conf;
	vz_conf_init(&conf, ct->conf_path);
	if (sample && *sample) {
		if (strchr(sample, '/')) {
			vz_conf_free(&conf);
			return vz_fail(err, VZ_EUSAGE, "invalid --config name '%s'", sample);
		}
		_cleanup_free_ char *sp = xasprintf("%s/conf/ve-%s.conf-sample",
						    ct->confdir, sample);
		if (vz_conf_load(&conf, sp, err) < 0 || vz_conf_check(&conf, err) < 0) {
			vz_conf_free(&conf);
			if (err->code == VZ_ENOENT)
				err->code = VZ_ECONFIG;
			return vz_prefix(err, "create CT %s: config sample '%s'", ct->idstr, sample);
		}
		free(conf.path);
		conf.path = xstrdup(ct->conf_path);
	}
	vz_conf_set(&conf, "OSTEMPLATE", ostemplate);
	if (o->hostname)
		vz_conf_set(&conf, "HOSTNAME", o->hostname);
	if (o->private_dir)
		vz_conf_set(&conf, "VE_PRIVATE", o->private_dir);
	if (o->root)
		vz_conf_set(&conf, "VE_ROOT", o->root);

	_cleanup_free_ char *confd = xasprintf("%s/conf", ct->confdir);
	_cleanup_free_ char *tmp = xasprintf("%s.create-tmp", ct->private_dir);
	_cleanup_free_ char *parent = xstrdup(ct->private_dir);
	*strrchr(parent, '/') = '\0';
	if (vz_mkdir_p(confd, 0755, err) < 0 ||
	    (*parent && vz_mkdir_p(parent, 0755, err) < 0))
		goto fail;
	if (vz_rm_rf(tmp, err) < 0)  /* an earlier create that was killed */
		goto fail;
	if (mkdir(tmp, 0755) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "mkdir %s", tmp);
		goto fail;
	}
	vz_info("Creating CT %s from %s", ct->idstr, tarball);
	if (unpack(tarball, flag, tmp, err) < 0)
		goto fail_tmp;
	if (rename(tmp, ct->private_dir) < 0) {
		vz_fail_errno(err, VZ_ESYSTEM, "rename %s to %s", tmp, ct->private_dir);
		goto fail_tmp;
	}
	if (vz_mkdir_p(ct->root, 0755, err) < 0)
		goto fail_private;
	/* the config is written last: a CT exists once its config does */
	if (vz_conf_save(&conf, ct->conf_path, err) < 0)
		goto fail_private;
	vz_conf_free(&ct->conf);
	ct->conf = conf;
	ct->exists = true;
	vz_info("CT %s created", ct->idstr);
	return 0;

fail_private: {
	struct vz_error e2 = { 0 };
	vz_rm_rf(ct->private_dir, &e2);
	}
	goto fail;
fail_tmp: {
	struct vz_error e2 = { 0 };
	vz_rm_rf(tmp, &e2);
	}
fail:
	vz_conf_free(&conf);
	return vz_prefix(err, "create CT %s", ct->idstr);
}

int vz_ct_mount(struct vz_ct *ct, struct vz_error *err)
{
	if (!ct->exists)
		return vz_fail(err, VZ_ENOENT, "CT %s does not exist", ct->idstr);
	if (vz_ct_is_mounted(ct))
		return 0;
	struct stat st;
	if (stat(ct->private_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return vz_fail(err, VZ_ENOENT,
			       "mount CT %s: private area %s is missing", ct->idstr,
			       ct->private_dir);
	if (vz_mkdir_p(ct->root, 0755, err) < 0)
		return vz_prefix(err, "mount CT %s", ct->idstr);
	if (mount(ct->private_dir, ct->root, NULL, MS_BIND, NULL) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "mount CT %s: bind %s on %s",
				     ct->idstr, ct->private_dir, ct->root);
	/* a private mount: the host's later mounts do not leak into it */
	mount(NULL, ct->root, NULL, MS_PRIVATE, NULL);
	return 0;
}

int vz_ct_umount(struct vz_ct *ct, struct vz_error *err)
{
	if (!ct->exists)
		return vz_fail(err, VZ_ENOENT, "CT %s does not exist", ct->idstr);
	if (vz_ct_state(ct) == VZ_CT_RUNNING)
		return vz_fail(err, VZ_ESTATE, "CT %s is running; stop it first", ct->idstr);
	while (vz_ct_is_mounted(ct)) {
		if (umount2(ct->root, 0) < 0)
			return vz_fail_errno(err, VZ_ESYSTEM,
					     "unmount CT %s: %s", ct->idstr, ct->root);
	}
	return 0;
}

int vz_ct_cleanup_stopped(struct vz_ct *ct, bool umount, struct vz_error *err)
{
	struct vz_ct_runtime rt;
	if (vz_ct_runtime(ct, &rt)) {
		vz_ct_runtime_free(&rt);
		return 0;  /* it runs: nothing to clean */
	}
	vz_ct_runtime_remove(ct);
	/* veths die with the CT's netns; proxy entries must be removed */
	struct vz_error ne = { 0 };
	if (vz_ct_net_stop(ct, &ne) < 0)
		vz_warn("CT %s: %s", ct->idstr, ne.msg);
	if (vz_cg_destroy(&ct->cg, err) < 0)
		return -1;
	if (umount && vz_ct_is_mounted(ct))
		return vz_ct_umount(ct, err);
	return 0;
}

int vz_ct_destroy(struct vz_ct *ct, struct vz_error *err)
{
	if (!ct->exists)
		return vz_fail(err, VZ_ENOENT, "CT %s does not exist", ct->idstr);
	if (vz_ct_state(ct) == VZ_CT_RUNNING)
		return vz_fail(err, VZ_ESTATE,
			       "CT %s is running; stop it first (vzctl stop %s)",
			       ct->idstr, ct->idstr);
	if (vz_ct_cleanup_stopped(ct, true, err) < 0)
		return vz_prefix(err, "destroy CT %s", ct->idstr);
	if (vz_rm_rf(ct->private_dir, err) < 0)
		return vz_prefix(err, "destroy CT %s", ct->idstr);
	rmdir(ct->root);
	_cleanup_free_ char *dump = xasprintf("%s/%s", ct->dumpdir, ct->idstr);
	struct vz_error e2 = { 0 };
	vz_rm_rf(dump, &e2);
	_cleanup_free_ char *old = xasprintf("%s.destroyed", ct->conf_path);
	if (rename(ct->conf_path, old) < 0)
		return vz_fail_errno(err, VZ_ESYSTEM, "destroy CT %s: rename %s",
				     ct->idstr, ct->conf_path);
	ct->exists = false;
	vz_info("CT %s destroyed", ct->idstr);
	return 0;
}


int vz_ct_write_config_files(const struct vz_ct *ct, struct vz_error *err)
{
	/* hostname, hosts, resolv.conf and the distro's files: net room */
	return vz_ct_net_files(ct, err);
}
