/* vzctl set's resource options (--ram, --swap, --cpulimit, ..., and every
 * UBC name as --kmemsize B[:L]), as a popt table to include.  Each option
 * returns VZ_RES_OPT_BASE + index; vz_res_opt_key() gives its config
 * name for vz_res_conf_set(). */
#ifndef VZ_RES_OPTS_H
#define VZ_RES_OPTS_H

#include <popt.h>

#define VZ_RES_OPT_BASE 2000

extern struct poptOption vz_res_popt[];

/* Config name for an option value, or NULL if val is not one of ours. */
const char *vz_res_opt_key(int val);

#define VZ_RES_POPT \
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, vz_res_popt, 0, \
	  "Resources (see beancounter-check(8)):", NULL }

#endif
