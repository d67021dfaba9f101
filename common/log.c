#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"

static const char *prog_name = "vz";
static int verbosity = VZ_LOG_WARN;
static FILE *log_file;
static int log_file_level = VZ_LOG_INFO;
static int progress_drawn;
static struct timespec t0;

void vz_log_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');
	prog_name = slash ? slash + 1 : prog;
	clock_gettime(CLOCK_MONOTONIC, &t0);
}

const char *vz_prog(void)
{
	return prog_name;
}

void vz_log_set_verbosity(int v)
{
	verbosity = v;
}

int vz_log_verbosity(void)
{
	return verbosity;
}

void vz_log_open_file(const char *path, int level)
{
	vz_log_close_file();
	if (!path || !*path)
		return;
	log_file = fopen(path, "ae");
	if (!log_file) {
		vz_warn("cannot open log file %s: %m", path);
		return;
	}
	setvbuf(log_file, NULL, _IOLBF, 0);
	log_file_level = level;
}

void vz_log_close_file(void)
{
	if (log_file)
		fclose(log_file);
	log_file = NULL;
}

static void end_progress_line(void)
{
	if (progress_drawn) {
		fputc('\n', stderr);
		progress_drawn = 0;
	}
}

void vz_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level <= verbosity) {
		end_progress_line();
		va_start(ap, fmt);
		fprintf(stderr, "%s: ", prog_name);
		if (level >= VZ_LOG_DEBUG) {
			/* the details come with the time since start: where it goes */
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			fprintf(stderr, "[+%.2f ms] ", (t.tv_sec - t0.tv_sec) * 1e3 +
				(t.tv_nsec - t0.tv_nsec) / 1e6);
		}
		if (level == VZ_LOG_WARN)
			fputs("warning: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	if (log_file && level <= log_file_level) {
		char ts[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S",
			 localtime_r(&now, &tm));
		va_start(ap, fmt);
		fprintf(log_file, "%s %s[%d]: ", ts, prog_name, (int)getpid());
		vfprintf(log_file, fmt, ap);
		fputc('\n', log_file);
		va_end(ap);
	}
}

int vz_report(const struct vz_error *err)
{
	vz_log(VZ_LOG_ERROR, "%s", err->msg[0] ? err->msg : "failed");
	return err->code ? err->code : VZ_EFAIL;
}

bool vz_progress_wanted(void)
{
	return verbosity >= VZ_LOG_WARN && isatty(STDERR_FILENO);
}

void vz_progress(const char *label, unsigned long long cur,
		 unsigned long long total, bool done)
{
	if (!vz_progress_wanted())
		return;
	unsigned pct = total ? (unsigned)(cur * 100 / total) : 0;
	if (pct > 100)
		pct = 100;
	fprintf(stderr, "\r%s: %3u%% (%llu of %llu MiB)", label, pct,
		cur >> 20, total >> 20);
	progress_drawn = 1;
	if (done)
		end_progress_line();
	fflush(stderr);
}
