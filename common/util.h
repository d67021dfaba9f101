/* Small helpers shared by every room: memory, strings, files, processes. */
#ifndef VZ_UTIL_H
#define VZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

struct vz_error;

static inline void vz_freep(void *p) { free(*(void **)p); }
void vz_closep(int *fd);
void vz_fclosep(FILE **f);
#define _cleanup_free_ __attribute__((cleanup(vz_freep)))
#define _cleanup_close_ __attribute__((cleanup(vz_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(vz_fclosep)))
#define _cleanup_strv_ __attribute__((cleanup(vz_strv_freep)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure in a command-line tool is fatal: these abort. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* NULL-terminated string vectors. */
char **vz_strv_push(char **v, const char *s);  /* copies s */
size_t vz_strv_len(char *const *v);
void vz_strv_free(char **v);
void vz_strv_freep(char ***v);
bool vz_strv_contains(char *const *v, const char *s);
/* Splits s at any of seps, dropping empty fields. */
char **vz_strv_split(const char *s, const char *seps);
char *vz_strv_join(char *const *v, const char *sep);

bool vz_streq(const char *a, const char *b);
bool vz_startswith(const char *s, const char *prefix);
char *vz_strstrip(char *s);

/* Numbers.  Return 0 or -1 (value invalid or out of range). */
int vz_parse_u64(const char *s, uint64_t *out);
int vz_parse_int(const char *s, long long min, long long max, long long *out);
/* Size with an optional K/M/G/T/P suffix (powers of 1024, also KB/KiB...).
 * A bare number is taken in units of `unit` bytes. */
int vz_parse_size(const char *s, uint64_t unit, uint64_t *bytes);
/* "1.5G", "512M": shortest exact form for messages and configs. */
void vz_format_size(uint64_t bytes, char *buf, size_t len);

/* Files. */
int vz_read_file(const char *path, char **data, size_t *len,
		 struct vz_error *err);
/* Writes path via a temporary file in the same directory, fsync, rename. */
int vz_write_file_atomic(const char *path, const char *data, size_t len,
			 mode_t mode, struct vz_error *err);
/* The same without fsync: for runtime state that a reboot voids anyway. */
int vz_write_file_replace(const char *path, const char *data, size_t len,
			  mode_t mode, struct vz_error *err);
/* Writes a short string to an existing file (sysfs, cgroupfs, procfs). */
int vz_write_string(const char *path, const char *s, struct vz_error *err);
int vz_mkdir_p(const char *path, mode_t mode, struct vz_error *err);
/* Removes a tree without following symlinks or crossing into other
 * mounts: what a mount below it hides is left alone and reported. */
int vz_rm_rf(const char *path, struct vz_error *err);
bool vz_path_exists(const char *path);
bool vz_is_mountpoint(const char *path);

/* Processes. */
/* Closes every fd >= from (close_range where the kernel has it). */
void vz_close_fds_from(int from);
/* Finds name in PATH (or a standard sbin/bin list); NULL if absent. */
char *vz_find_program(const char *name);
/* Runs argv (argv[0] looked up in PATH) with optional extra environment
 * (NULL-terminated "K=V" list), waits, returns the exit status (0..255),
 * 128+signal, or -1 with err set when it could not run. */
int vz_run(char *const argv[], char *const envp_extra[], struct vz_error *err);

/* Monotonic time in nanoseconds. */
uint64_t vz_now_ns(void);

/* One fd over a unix socket (SCM_RIGHTS, with one byte of data).
 * vz_recv_fd returns it close-on-exec, or -1 (EOF, error). */
int vz_send_fd(int sock, int fd);
int vz_recv_fd(int sock);

#endif
