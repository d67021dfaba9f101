/* Messages to the user and to the log file.
 *
 * The tools are quiet by default: errors and warnings go to stderr, -v adds
 * the steps (info), -vv the details (debug).  -q keeps only errors.  When a
 * LOGFILE is set, everything at or below LOG_LEVEL is appended there with a
 * timestamp, whatever the terminal verbosity.
 */
#ifndef VZ_LOG_H
#define VZ_LOG_H

#include <stdbool.h>

struct vz_error;

enum vz_log_level {
	VZ_LOG_ERROR = 0,
	VZ_LOG_WARN = 1,
	VZ_LOG_INFO = 2,
	VZ_LOG_DEBUG = 3,
};

void vz_log_init(const char *prog);
const char *vz_prog(void);
/* Terminal verbosity: messages with level <= v are printed to stderr. */
void vz_log_set_verbosity(int v);
int vz_log_verbosity(void);
/* Opens (appends) the log file; failure is a warning, never fatal. */
void vz_log_open_file(const char *path, int level);
void vz_log_close_file(void);

void vz_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define vz_err(...) vz_log(VZ_LOG_ERROR, __VA_ARGS__)
#define vz_warn(...) vz_log(VZ_LOG_WARN, __VA_ARGS__)
#define vz_info(...) vz_log(VZ_LOG_INFO, __VA_ARGS__)
#define vz_debug(...) vz_log(VZ_LOG_DEBUG, __VA_ARGS__)

/* Prints "prog: message" for err and returns its exit code. */
int vz_report(const struct vz_error *err);

/* True when progress may be drawn: stderr is a terminal and not -q. */
bool vz_progress_wanted(void);
/* Draws "label: NN% (X of Y MiB)" in place on stderr; done=true ends it. */
void vz_progress(const char *label, unsigned long long cur,
		 unsigned long long total, bool done);

#endif
