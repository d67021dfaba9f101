#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static int vfail(struct vz_error *err, int code, int errnum,
		 const char *fmt, va_list ap)
{
	if (!err)
		return -1;
	err->code = code ? code : VZ_EFAIL;
	err->errnum = errnum;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (errnum && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
			 strerror(errnum));
	return -1;
}

int vz_fail(struct vz_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, code, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int vz_fail_errno(struct vz_error *err, int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vfail(err, code, saved, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

int vz_fail_errnum(struct vz_error *err, int code, int errnum,
		   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, code, errnum < 0 ? -errnum : errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int vz_prefix(struct vz_error *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char ctx[512], old[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* truncation of an over-long message is acceptable */
	size_t n = strnlen(ctx, sizeof(ctx) - 1);
	memcpy(err->msg, ctx, n);
	memcpy(err->msg + n, ": ", 2);
	size_t room = sizeof(err->msg) - n - 3;
	size_t m = strnlen(old, room);
	memcpy(err->msg + n + 2, old, m);
	err->msg[n + 2 + m] = '\0';
	if (!err->code)
		err->code = VZ_EFAIL;
	return -1;
}

void vz_error_clear(struct vz_error *err)
{
	if (err) {
		err->code = 0;
		err->errnum = 0;
		err->msg[0] = '\0';
	}
}
