#include <stddef.h>

#include "res-opts.h"
#include "util.h"

#define R(i, name, key, help, arg) \
	{ name, '\0', POPT_ARG_STRING, NULL, VZ_RES_OPT_BASE + (i), help, arg }

static const char *const keys[] = {
	"PHYSPAGES", "SWAPPAGES", "CPUUNITS", "CPULIMIT", "CPUS", "CPUMASK",
	"IOLIMIT", "IOPSLIMIT", "IOPRIO",
	"NUMPROC", "KMEMSIZE", "LOCKEDPAGES", "PRIVVMPAGES", "SHMPAGES",
	"VMGUARPAGES", "OOMGUARPAGES", "NUMTCPSOCK", "NUMFLOCK", "NUMPTY",
	"NUMSIGINFO", "TCPSNDBUF", "TCPRCVBUF", "OTHERSOCKBUF", "DGRAMRCVBUF",
	"NUMOTHERSOCK", "DCACHESIZE", "NUMFILE", "NUMIPTENT", "PHYSPAGES",
	"SWAPPAGES",
};

struct poptOption vz_res_popt[] = {
	R(0, "ram", "PHYSPAGES", "RAM (VSwap), bytes or with K/M/G", "SIZE"),
	R(1, "swap", "SWAPPAGES", "swap (VSwap), bytes or with K/M/G", "SIZE"),
	R(2, "cpuunits", "CPUUNITS", "CPU weight, 8..500000 (default 1000)", "N"),
	R(3, "cpulimit", "CPULIMIT", "CPU limit, % of one CPU (0: none)", "N[%]"),
	R(4, "cpus", "CPUS", "number of CPUs (0: all)", "N"),
	R(5, "cpumask", "CPUMASK", "CPUs to run on", "LIST|all"),
	R(6, "iolimit", "IOLIMIT", "disk bandwidth, MiB/s or with K/M/G (0: none)", "RATE"),
	R(7, "iopslimit", "IOPSLIMIT", "disk operations per second (0: none)", "N"),
	R(8, "ioprio", "IOPRIO", "I/O priority 0..7 (default 4)", "N"),
	R(9, "numproc", "NUMPROC", "processes and threads", "N[:N]"),
	R(10, "kmemsize", "KMEMSIZE", "UBC kmemsize", "B[:L]"),
	R(11, "lockedpages", "LOCKEDPAGES", "UBC lockedpages", "B[:L]"),
	R(12, "privvmpages", "PRIVVMPAGES", "UBC privvmpages", "B[:L]"),
	R(13, "shmpages", "SHMPAGES", "UBC shmpages", "B[:L]"),
	R(14, "vmguarpages", "VMGUARPAGES", "UBC vmguarpages", "B[:L]"),
	R(15, "oomguarpages", "OOMGUARPAGES", "UBC oomguarpages", "B[:L]"),
	R(16, "numtcpsock", "NUMTCPSOCK", "UBC numtcpsock", "B[:L]"),
	R(17, "numflock", "NUMFLOCK", "UBC numflock", "B[:L]"),
	R(18, "numpty", "NUMPTY", "UBC numpty", "B[:L]"),
	R(19, "numsiginfo", "NUMSIGINFO", "UBC numsiginfo", "B[:L]"),
	R(20, "tcpsndbuf", "TCPSNDBUF", "UBC tcpsndbuf", "B[:L]"),
	R(21, "tcprcvbuf", "TCPRCVBUF", "UBC tcprcvbuf", "B[:L]"),
	R(22, "othersockbuf", "OTHERSOCKBUF", "UBC othersockbuf", "B[:L]"),
	R(23, "dgramrcvbuf", "DGRAMRCVBUF", "UBC dgramrcvbuf", "B[:L]"),
	R(24, "numothersock", "NUMOTHERSOCK", "UBC numothersock", "B[:L]"),
	R(25, "dcachesize", "DCACHESIZE", "UBC dcachesize", "B[:L]"),
	R(26, "numfile", "NUMFILE", "UBC numfile", "B[:L]"),
	R(27, "numiptent", "NUMIPTENT", "UBC numiptent", "B[:L]"),
	R(28, "physpages", "PHYSPAGES", "UBC physpages (VSwap: 0:RAM)", "B[:L]"),
	R(29, "swappages", "SWAPPAGES", "UBC swappages (VSwap: 0:SWAP)", "B[:L]"),
	POPT_TABLEEND
};

const char *vz_res_opt_key(int val)
{
	int i = val - VZ_RES_OPT_BASE;
	if (i < 0 || (size_t)i >= ARRAY_SIZE(keys))
		return NULL;
	return keys[i];
}
