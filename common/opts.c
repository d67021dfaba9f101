#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "log.h"
#include "opts.h"

static void common_cb(poptContext ctx, enum poptCallbackReason reason,
		      const struct poptOption *opt, const char *arg,
		      void *data)
{
	(void)reason;
	(void)arg;
	(void)data;
	switch (opt->val) {
	case 'v':
		vz_log_set_verbosity(vz_log_verbosity() < VZ_LOG_INFO ?
				     VZ_LOG_INFO : vz_log_verbosity() + 1);
		break;
	case 'q':
		vz_log_set_verbosity(VZ_LOG_ERROR);
		break;
	case 'V':
		printf("%s (vz) %s\n", vz_prog(), VZ_VERSION);
		exit(0);
	case 'h':
		poptPrintHelp(ctx, stdout, 0);
		exit(0);
	}
}

struct poptOption vz_common_popt[] = {
	{ NULL, '\0', POPT_ARG_CALLBACK, (void *)common_cb, 0, NULL, NULL },
	{ "verbose", 'v', POPT_ARG_NONE, NULL, 'v',
	  "show the steps (twice: the details)", NULL },
	{ "quiet", 'q', POPT_ARG_NONE, NULL, 'q', "show errors only", NULL },
	{ "help", 'h', POPT_ARG_NONE, NULL, 'h', "show this help", NULL },
	{ "version", 'V', POPT_ARG_NONE, NULL, 'V', "show the version", NULL },
	POPT_TABLEEND
};

int vz_popt_next(poptContext ctx, int *val)
{
	int rc = poptGetNextOpt(ctx);
	if (rc >= 0) {
		*val = rc;
		return 0;
	}
	*val = 0;
	if (rc == -1)
		return 0;
	vz_err("%s: %s (see --help)", poptBadOption(ctx, POPT_BADOPTION_NOALIAS),
	       poptStrerror(rc));
	return VZ_EUSAGE;
}
