/* The options every tool shares: -v/--verbose, -q/--quiet, --help,
 * --version.  Include VZ_POPT_COMMON in each popt table. */
#ifndef VZ_OPTS_H
#define VZ_OPTS_H

#include <popt.h>

extern struct poptOption vz_common_popt[];

#define VZ_POPT_COMMON \
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, vz_common_popt, 0, \
	  "Common options:", NULL }

/* Parses all options of ctx; on a bad option prints one line naming it and
 * returns VZ_EUSAGE, else 0.  Unknown rc values from table entries with a
 * val are returned to the caller through *val (0 when done). */
int vz_popt_next(poptContext ctx, int *val);

#endif
