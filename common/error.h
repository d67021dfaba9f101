/* Errors in libvz.
 *
 * Every fallible library function takes a `struct vz_error *err` as its last
 * argument and returns a negative value on failure after filling it with
 * vz_fail()/vz_fail_errno().  Callers that add context wrap the message with
 * vz_prefix() on the way up, so the tool prints one line that says what
 * failed and why:  "vzctl: start CT 101: mount /vz/private/101: No such file".
 *
 * The code is the documented exit status of the tools (man pages list them).
 */
#ifndef VZ_ERROR_H
#define VZ_ERROR_H

#include <stdarg.h>

enum vz_exit {
	VZ_OK = 0,
	VZ_EFAIL = 1,      /* operation failed (generic) */
	VZ_EUSAGE = 2,     /* bad command line: option, argument, value */
	VZ_ECONFIG = 3,    /* bad or unreadable config file or value */
	VZ_ENOENT = 4,     /* the container (or image, or file) does not exist */
	VZ_ESTATE = 5,     /* wrong state: running when it must be stopped, etc. */
	VZ_ELOCKED = 6,    /* locked by another command */
	VZ_ENOSYS = 7,     /* missing kernel feature or external program */
	VZ_ESYSTEM = 8,    /* a system call or external program failed */
	VZ_EEXIST = 9,     /* already exists */
	VZ_ECORRUPT = 10,  /* corrupt on-disk data (image, dump) */
};

struct vz_error {
	int code;        /* enum vz_exit */
	int errnum;      /* errno behind it, or 0 */
	char msg[1024];
};

/* Sets err and returns -1. */
int vz_fail(struct vz_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like vz_fail, appending ": strerror(errno)" for the current errno. */
int vz_fail_errno(struct vz_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like vz_fail_errno with an explicit errno value (e.g. from libnl). */
int vz_fail_errnum(struct vz_error *err, int code, int errnum,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Prepends "context: " to the message; keeps the code.  Returns -1. */
int vz_prefix(struct vz_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vz_error_clear(struct vz_error *err);

#endif
