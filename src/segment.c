/*-------------------------------------------------------------------------
 *
 * segment.c
 *	  Module entry point of the segment extension
 *
 * segment does customer segmentation inside PostgreSQL.  Each concern has a
 * file of its own: per-customer features (features.c, keyset.c), reading
 * sources (source.c), scaling and encoding (scaler.c), k-means (kmeans.c,
 * model.c, elbow.c), scores (metrics.c), PCA (pca.c), with the shared
 * vector checks and distance kernels in vector.c and distance.c.  This file
 * holds only the module magic and the library's start-up.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dlfcn.h>

#include "fmgr.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Keep the BLAS that LAPACK runs on to one thread.  A backend is one
 * process serving one session: a multithreaded BLAS (OpenBLAS is Debian's
 * default) would start a thread per core in every backend that runs PCA and
 * oversubscribe the machine.  The BLAS in use is found by its symbols.
 */
static void
SegmentSingleThreadedBlas(void)
{
	static const char *const setters[] = {
		"openblas_set_num_threads",	/* OpenBLAS */
		"goto_set_num_threads",		/* GotoBLAS */
		"bli_thread_set_num_threads",	/* BLIS */
		"MKL_Set_Num_Threads"		/* Intel MKL */
	};

	for (int i = 0; i < (int) lengthof(setters); i++)
	{
		void		(*set_threads) (int) = (void (*) (int)) dlsym(RTLD_DEFAULT, setters[i]);

		if (set_threads != NULL)
			set_threads(1);
	}
}

/* Library start-up */
void
_PG_init(void)
{
	SegmentSingleThreadedBlas();
}
