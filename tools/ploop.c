/* ploop: manage image-backed container disks.  Options and output only;
 * the behaviour lives in common/ploop*.c. */
#include <inttypes.h>
#include <stdarg.h>
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "opts.h"
#include "ploop.h"
#include "util.h"

static char *opt_size, *opt_type, *opt_mnt, *opt_guid, *opt_opts, *opt_dst,
	*opt_stop, *opt_cluster;
static int opt_repair, opt_json, opt_ro;

static struct poptOption options[] = {
	{ "size", 's', POPT_ARG_STRING, &opt_size, 0,
	  "disk size (K/M/G/T; bare number: KiB); for copy: the source disk", "SIZE" },
	{ "type", 't', POPT_ARG_STRING, &opt_type, 0, "file system to create (ext4)", "FS" },
	{ "blocksize", 'b', POPT_ARG_STRING, &opt_cluster, 0,
	  "cluster size (default 1M)", "SIZE" },
	{ "mount-point", 'm', POPT_ARG_STRING, &opt_mnt, 0, "mount the fs here", "DIR" },
	{ "uuid", 'u', POPT_ARG_STRING, &opt_guid, 0, "snapshot GUID", "{GUID}" },
	{ "options", 'o', POPT_ARG_STRING, &opt_opts, 0, "fs mount options", "OPTS" },
	{ "repair", 'r', POPT_ARG_NONE, &opt_repair, 0,
	  "check: repair; mount: read-only", NULL },
	{ "read-only", 0, POPT_ARG_NONE, &opt_ro, 0, "mount read-only", NULL },
	{ "json", 'j', POPT_ARG_NONE, &opt_json, 0, "JSON output", NULL },
	{ "dest", 'd', POPT_ARG_STRING, &opt_dst, 0, "copy: receive into this image", "FILE" },
	{ "stop-cmd", 'F', POPT_ARG_STRING, &opt_stop, 0,
	  "copy: command run before the frozen final pass", "CMD" },
	VZ_POPT_COMMON,
	POPT_TABLEEND
};

static const char usage[] =
	"COMMAND [OPTIONS] DISK\n"
	"Commands:\n"
	"  init -s SIZE [-t ext4] [-b CLUSTER] IMAGE   new image + DiskDescriptor.xml\n"
	"  mount [-m DIR] [-r] DISK                    prints /dev/loopN\n"
	"  umount DISK\n"
	"  info [-j] DISK | list [-j]\n"
	"  check [-r] IMAGE|DISK\n"
	"  restore-descriptor IMAGE                    rebuild DiskDescriptor.xml\n"
	"  snapshot DISK | snapshot-list [-j] DISK\n"
	"  snapshot-mount -u GUID [-m DIR] DISK | snapshot-umount -u GUID DISK\n"
	"  snapshot-merge [-u GUID] DISK | snapshot-delete -u GUID DISK\n"
	"  snapshot-switch -u GUID DISK\n"
	"  resize -s SIZE DISK | compact DISK\n"
	"  copy -s DISK [-F CMD] > STREAM | copy -d IMAGE < STREAM\n"
	"DISK is a DiskDescriptor.xml, its directory or an image beside it.";

static int fail(struct vz_error *err) { return vz_report(err); }

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vz_err("%s (see --help)", msg);
	return VZ_EUSAGE;
}

static int parse_size(const char *s, uint64_t *out)
{
	if (!s)
		return usage_error("%s: -s SIZE is required", "size");
	if (vz_parse_size(s, 1024, out) < 0 || *out == 0)
		return usage_error("bad size '%s' (a number with K, M, G or T)", s);
	return 0;
}

static void print_size(FILE *f, uint64_t b)
{
	char buf[32];
	vz_format_size(b, buf, sizeof(buf));
	fputs(buf, f);
}

static int cmd_info(const char *disk)
{
	struct vz_error err;
	struct ploop_info in;
	if (ploop_get_info(disk, &in, &err) < 0)
		return fail(&err);
	if (opt_json) {
		struct vz_json j;
		vz_json_init(&j, stdout, true);
		vz_json_begin_object(&j);
		vz_json_kv_string(&j, "descriptor", in.desc);
		vz_json_kv_uint(&j, "size", in.size);
		vz_json_kv_uint(&j, "cluster", in.cluster);
		vz_json_kv_bool(&j, "mounted", in.mounted);
		vz_json_kv_string(&j, "device", in.device);
		vz_json_kv_string(&j, "mountpoint", in.mountpoint);
		if (in.server_pid)
			vz_json_kv_int(&j, "server_pid", in.server_pid);
		vz_json_key(&j, "deltas");
		vz_json_begin_array(&j);
		for (size_t i = 0; i < in.ndeltas; i++) {
			struct ploop_delta_info *d = &in.deltas[i];
			vz_json_begin_object(&j);
			vz_json_kv_string(&j, "guid", d->guid);
			vz_json_kv_string(&j, "parent", d->parent);
			vz_json_kv_string(&j, "file", d->file);
			vz_json_kv_uint(&j, "file_size", d->file_size);
			vz_json_kv_uint(&j, "clusters", d->clusters);
			vz_json_kv_bool(&j, "dirty", d->dirty);
			vz_json_kv_bool(&j, "top", i + 1 == in.ndeltas);
			vz_json_end_object(&j);
		}
		vz_json_end_array(&j);
		vz_json_key(&j, "snapshot_views");
		vz_json_begin_array(&j);
		for (size_t i = 0; i < in.nviews; i++) {
			vz_json_begin_object(&j);
			vz_json_kv_string(&j, "guid", in.views[i].guid);
			vz_json_kv_string(&j, "device", in.views[i].device);
			vz_json_kv_string(&j, "mountpoint", in.views[i].mountpoint);
			vz_json_end_object(&j);
		}
		vz_json_end_array(&j);
		vz_json_end_object(&j);
		vz_json_finish(&j);
	} else {
		printf("descriptor: %s\nsize: ", in.desc);
		print_size(stdout, in.size);
		printf(" (%" PRIu64 " sectors)\ncluster: ", in.size / 512);
		print_size(stdout, in.cluster);
		if (in.mounted)
			printf("\nstate: mounted%s%s%s%s (server pid %d)\n",
			       in.device ? " " : "", in.device ? in.device : "",
			       in.mountpoint ? " on " : "", in.mountpoint ? in.mountpoint : "",
			       in.server_pid);
		else
			printf("\nstate: not mounted\n");
		printf("deltas (base first):\n");
		for (size_t i = 0; i < in.ndeltas; i++) {
			struct ploop_delta_info *d = &in.deltas[i];
			printf("  %s %s %" PRIu64 " clusters, ", d->guid, d->file, d->clusters);
			print_size(stdout, d->file_size);
			printf("%s%s\n", i + 1 == in.ndeltas ? " [top]" : "",
			       d->dirty ? " [dirty]" : "");
		}
		for (size_t i = 0; i < in.nviews; i++)
			printf("snapshot view: %s %s%s%s\n", in.views[i].guid,
			       in.views[i].device ? in.views[i].device : "-",
			       in.views[i].mountpoint ? " on " : "",
			       in.views[i].mountpoint ? in.views[i].mountpoint : "");
	}
	ploop_info_free(&in);
	return 0;
}

static int cmd_snapshot_list(const char *disk)
{
	struct vz_error err;
	_cleanup_free_ char *path = ploop_find_desc(disk, &err);
	struct ploop_desc d;
	if (!path || ploop_desc_read(path, &d, &err) < 0)
		return fail(&err);
	_cleanup_strv_ char **chain = NULL;
	if (ploop_desc_chain(&d, NULL, &chain, &err) < 0) {
		ploop_desc_free(&d);
		return fail(&err);
	}
	struct vz_json j;
	if (opt_json) {
		vz_json_init(&j, stdout, true);
		vz_json_begin_array(&j);
	} else {
		printf("%-38s %-38s %s\n", "GUID", "PARENT", "FILE");
	}
	for (size_t i = 0; i < d.nsnaps; i++) {
		struct ploop_snap *s = &d.snaps[i];
		struct ploop_image *im = ploop_desc_image(&d, s->guid);
		bool cur = vz_strv_contains(chain, s->guid);
		bool top = !strcasecmp(s->guid, d.top_guid);
		if (opt_json) {
			vz_json_begin_object(&j);
			vz_json_kv_string(&j, "guid", s->guid);
			vz_json_kv_string(&j, "parent", s->parent);
			vz_json_kv_string(&j, "file", im->file);
			vz_json_kv_bool(&j, "current", cur);
			vz_json_kv_bool(&j, "top", top);
			vz_json_end_object(&j);
		} else {
			printf("%-38s %-38s %s%s\n", s->guid, s->parent, im->file,
			       top ? " [top]" : cur ? " [in use]" : "");
		}
	}
	if (opt_json) {
		vz_json_end_array(&j);
		vz_json_finish(&j);
	}
	ploop_desc_free(&d);
	return 0;
}

static int cmd_list(void)
{
	struct vz_error err;
	_cleanup_strv_ char **descs = NULL;
	if (ploop_list_mounted(&descs, &err) < 0)
		return fail(&err);
	struct vz_json j;
	if (opt_json) {
		vz_json_init(&j, stdout, true);
		vz_json_begin_array(&j);
	}
	for (size_t i = 0; descs && descs[i]; i++) {
		struct ploop_info in;
		if (ploop_get_info(descs[i], &in, &err) < 0) {
			vz_warn("%s: %s", descs[i], err.msg);
			continue;
		}
		if (opt_json) {
			vz_json_begin_object(&j);
			vz_json_kv_string(&j, "descriptor", in.desc);
			vz_json_kv_string(&j, "device", in.device);
			vz_json_kv_string(&j, "mountpoint", in.mountpoint);
			vz_json_end_object(&j);
		} else {
			printf("%s %s %s\n", in.device ? in.device : "-", in.desc,
			       in.mountpoint ? in.mountpoint : "-");
		}
		ploop_info_free(&in);
	}
	if (opt_json) {
		vz_json_end_array(&j);
		vz_json_finish(&j);
	}
	return 0;
}

static int cmd_copy(const char *extra)
{
	struct vz_error err;
	if (extra)
		return usage_error("copy: unexpected argument '%s'", extra);
	if (opt_dst && opt_size)
		return usage_error("%s: give either -s DISK (send) or -d IMAGE (receive)", "copy");
	if (opt_dst) {
		if (isatty(0))
			return usage_error("copy -d %s: the stream comes on stdin", opt_dst);
		if (ploop_copy_recv(opt_dst, 0, &err) < 0)
			return fail(&err);
		return 0;
	}
	if (!opt_size)
		return usage_error("%s: -s DISK or -d IMAGE is required", "copy");
	if (isatty(1))
		return usage_error("copy -s %s: stdout is a terminal; pipe it", opt_size);
	struct ploop_copy_param p = { .stop_cmd = opt_stop, .fd = 1 };
	struct ploop_copy_stats st;
	if (ploop_copy_send(opt_size, &p, &st, &err) < 0)
		return fail(&err);
	vz_info("copy: %u passes, %" PRIu64 " bytes, frozen %" PRIu64 " ms",
		st.passes, st.bytes, st.frozen_ms);
	return 0;
}

static int run(poptContext ctx)
{
	struct vz_error err;
	int val, rc = vz_popt_next(ctx, &val);
	while (rc == 0 && val)
		rc = vz_popt_next(ctx, &val);
	if (rc)
		return rc;
	const char *cmd = poptGetArg(ctx);
	const char *arg = poptGetArg(ctx);
	const char *extra = poptGetArg(ctx);
	if (!cmd) {
		poptPrintUsage(ctx, stderr, 0);
		return VZ_EUSAGE;
	}
	if (extra)
		return usage_error("unexpected argument '%s'", extra);
	if (!strcmp(cmd, "list"))
		return arg ? usage_error("list: unexpected argument '%s'", arg) : cmd_list();
	if (!strcmp(cmd, "copy"))
		return cmd_copy(arg);
	if (!arg)
		return usage_error("%s: which disk?", cmd);

	if (!strcmp(cmd, "init")) {
		struct ploop_init_param p = { .fstype = opt_type };
		if ((rc = parse_size(opt_size, &p.size)))
			return rc;
		if (opt_cluster) {
			uint64_t cb;
			if (vz_parse_size(opt_cluster, 1024, &cb) < 0 || cb % 512 || cb / 512 > UINT32_MAX)
				return usage_error("bad cluster size '%s'", opt_cluster);
			p.cluster_sectors = (uint32_t)(cb / 512);
		}
		if (ploop_init(arg, &p, &err) < 0)
			return fail(&err);
		return 0;
	}
	if (!strcmp(cmd, "mount") || !strcmp(cmd, "snapshot-mount")) {
		if (!strcmp(cmd, "snapshot-mount") && !opt_guid)
			return usage_error("%s: -u GUID is required", cmd);
		struct ploop_mount_param p = { .target = opt_mnt, .guid = opt_guid,
					       .options = opt_opts, .readonly = opt_repair || opt_ro,
					       .fstype = opt_type };
		char *dev = NULL;
		if (ploop_mount(arg, &p, &dev, &err) < 0)
			return fail(&err);
		printf("%s\n", dev);
		free(dev);
		return 0;
	}
	if (!strcmp(cmd, "umount") || !strcmp(cmd, "snapshot-umount")) {
		if (ploop_umount(arg, opt_guid, &err) < 0)
			return fail(&err);
		return 0;
	}
	if (!strcmp(cmd, "info"))
		return cmd_info(arg);
	if (!strcmp(cmd, "snapshot-list"))
		return cmd_snapshot_list(arg);
	if (!strcmp(cmd, "check")) {
		struct ploop_check_stats st;
		struct stat sb;
		size_t al = strlen(arg);
		bool disk = (stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode)) ||
			    (al >= 4 && !strcmp(arg + al - 4, ".xml"));
		int fl = opt_repair ? PLOOP_CHECK_REPAIR : 0;
		rc = disk ? ploop_check_disk(arg, fl, stdout, &st, &err) :
			    ploop_check(arg, fl, stdout, &st, &err);
		fflush(stdout);
		if (rc < 0)
			return fail(&err);
		if (st.defects)
			printf("%s: %u defect(s) repaired\n", arg, st.repaired);
		else
			printf("%s: clean, %" PRIu64 " clusters in use\n", arg, st.clusters);
		return 0;
	}
	if (!strcmp(cmd, "restore-descriptor")) {
		if (ploop_restore_desc(arg, &err) < 0)
			return fail(&err);
		return 0;
	}
	if (!strcmp(cmd, "snapshot")) {
		char guid[39];
		if (ploop_snapshot(arg, guid, &err) < 0)
			return fail(&err);
		printf("%s\n", guid);
		return 0;
	}
	if (!strcmp(cmd, "snapshot-merge") || !strcmp(cmd, "snapshot-delete") ||
	    !strcmp(cmd, "snapshot-switch")) {
		if (!opt_guid && strcmp(cmd, "snapshot-merge"))
			return usage_error("%s: -u GUID is required", cmd);
		if (opt_guid && !ploop_guid_valid(opt_guid))
			return usage_error("bad GUID '%s' (want {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx})",
					   opt_guid);
		if (!strcmp(cmd, "snapshot-merge"))
			rc = ploop_snapshot_merge(arg, opt_guid, &err);
		else if (!strcmp(cmd, "snapshot-delete"))
			rc = ploop_snapshot_delete(arg, opt_guid, &err);
		else
			rc = ploop_snapshot_switch(arg, opt_guid, &err);
		return rc < 0 ? fail(&err) : 0;
	}
	if (!strcmp(cmd, "resize")) {
		uint64_t size;
		if ((rc = parse_size(opt_size, &size)))
			return rc;
		if (ploop_resize(arg, size, &err) < 0)
			return fail(&err);
		return 0;
	}
	if (!strcmp(cmd, "compact")) {
		uint64_t freed;
		if (ploop_compact(arg, &freed, &err) < 0)
			return fail(&err);
		printf("freed ");
		print_size(stdout, freed);
		printf("\n");
		return 0;
	}
	return usage_error("unknown command '%s'", cmd);
}

int main(int argc, const char **argv)
{
	vz_log_init("ploop");
	poptContext ctx = poptGetContext("ploop", argc, argv, options, 0);
	poptSetOtherOptionHelp(ctx, usage);
	int rc = run(ctx);
	poptFreeContext(ctx);
	return rc;
}
