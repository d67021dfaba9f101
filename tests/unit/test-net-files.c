/* hostname, hosts and resolv.conf written inside a CT root, never outside
 * it, whatever symlinks the CT holds. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "net.h"
#include "util.h"
#include "unit.h"

static char *slurp(const char *path)
{
	char *d = NULL;
	size_t n;
	if (vz_read_file(path, &d, &n, NULL) < 0)
		return NULL;
	return d;
}

static void put(const char *path, const char *text)
{
	vz_write_file_atomic(path, text, strlen(text), 0644, NULL);
}

int main(void)
{
	struct vz_error err = { 0 };
	char tmpl[] = "/tmp/vz-test-net-files.XXXXXX";
	char *base = mkdtemp(tmpl);
	if (!base) {
		perror("mkdtemp");
		return 1;
	}
	_cleanup_free_ char *root = xasprintf("%s/root", base);
	_cleanup_free_ char *outside = xasprintf("%s/outside", base);
	_cleanup_free_ char *etc = xasprintf("%s/etc", root);
	vz_mkdir_p(etc, 0755, NULL);
	vz_mkdir_p(outside, 0755, NULL);

	struct vz_net_conf nc = { .ctid = 101 };
	vz_iplist_parse("198.51.100.11 2001:db8::11", &nc.ips, NULL);
	nc.hostname = xstrdup("web1.example.net");
	nc.nameservers = vz_strv_split("192.0.2.53 2001:db8::53", " ");
	nc.searchdomains = vz_strv_split("example.net", " ");

	_cleanup_free_ char *hosts = xasprintf("%s/hosts", etc);
	_cleanup_free_ char *resolv = xasprintf("%s/resolv.conf", etc);
	_cleanup_free_ char *hostname = xasprintf("%s/hostname", etc);
	put(hosts, "127.0.0.1\tlocalhost\n10.0.0.5 db\n");
	put(resolv, "options ndots:2\nnameserver 10.0.0.1\nsearch old.example\n");
	chmod(resolv, 0640);

	CHECK(vz_ct_files_apply(root, &nc, &err) == 0, "apply (%s)", err.msg);
	char *t = slurp(hostname);
	CHECK_STR(t, "web1.example.net\n", "hostname file");
	free(t);
	t = slurp(hosts);
	CHECK(t && strstr(t, "10.0.0.5 db\n") && strstr(t, "127.0.0.1\tlocalhost\n") &&
	      strstr(t, "198.51.100.11\tweb1.example.net web1\t# added by vz") &&
	      strstr(t, "2001:db8::11\tweb1.example.net web1") && strstr(t, "::1"),
	      "hosts keeps user lines and adds ours");
	free(t);
	t = slurp(resolv);
	CHECK_STR(t, "search example.net\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n"
		  "options ndots:2\n", "resolv.conf replaced servers, kept options");
	free(t);
	struct stat st;
	CHECK(stat(resolv, &st) == 0 && (st.st_mode & 0777) == 0640, "mode kept");

	/* again, with a new name: our line is replaced, not added twice */
	free(nc.hostname);
	nc.hostname = xstrdup("web2");
	vz_iplist_free(&nc.ips);
	CHECK(vz_ct_files_apply(root, &nc, &err) == 0, "apply again");
	t = slurp(hosts);
	CHECK(t && !strstr(t, "web1") && strstr(t, "127.0.1.1\tweb2\t# added by vz") &&
	      strstr(t, "10.0.0.5 db"), "hosts rewritten");
	free(t);

	/* hostile CT: resolv.conf an absolute symlink to a host file */
	_cleanup_free_ char *victim = xasprintf("%s/victim", outside);
	put(victim, "host secret\n");
	unlink(resolv);
	symlinkat(victim, AT_FDCWD, resolv);
	CHECK(vz_ct_files_apply(root, &nc, &err) == 0, "apply through a dangling-in-root link (%s)",
	      err.msg);
	t = slurp(victim);
	CHECK_STR(t, "host secret\n", "host file behind an absolute symlink untouched");
	free(t);
	CHECK(lstat(resolv, &st) == 0 && S_ISREG(st.st_mode),
	      "the dangling (inside the root) link became a file");

	/* ../../ escape: hosts -> ../../outside/victim */
	unlink(hosts);
	symlinkat("../../outside/victim", AT_FDCWD, hosts);
	_cleanup_free_ char *clamp = xasprintf("%s/outside", root);
	vz_mkdir_p(clamp, 0755, NULL);
	_cleanup_free_ char *inside_victim = xasprintf("%s/victim", clamp);
	put(inside_victim, "ct file\n");
	CHECK(vz_ct_files_apply(root, &nc, &err) == 0, "apply through a ../.. link (%s)", err.msg);
	t = slurp(victim);
	CHECK_STR(t, "host secret\n", "host file behind a ../.. symlink untouched");
	free(t);
	t = slurp(inside_victim);
	CHECK(t && strstr(t, "web2"), "the link was followed inside the root instead");
	free(t);

	/* /etc itself a link to the host's directory */
	_cleanup_free_ char *etc2 = xasprintf("%s/etc.real", root);
	rename(etc, etc2);
	symlinkat(outside, AT_FDCWD, etc);
	_cleanup_free_ char *ohost = xasprintf("%s/hostname", outside);
	vz_ct_files_apply(root, &nc, &err);
	CHECK(access(ohost, F_OK) != 0, "no hostname file appeared in the host directory");

	/* a FIFO is not read (it would block) */
	unlink(etc);
	rename(etc2, etc);
	unlink(hosts);
	mkfifo(hosts, 0644);
	CHECK(vz_ct_files_apply(root, &nc, &err) < 0 && strstr(err.msg, "regular file"),
	      "a FIFO as /etc/hosts is refused: %s", err.msg);

	vz_net_conf_free(&nc);
	vz_rm_rf(base, NULL);
	UNIT_DONE();
}
