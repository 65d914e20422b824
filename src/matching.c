/*-------------------------------------------------------------------------
 *
 * matching.c
 *	  segment.match_clusters: stable cluster numbers across refreshes
 *
 * A refresh fits a new model; its clusters are renumbered to match the
 * previous model's, so that an unchanged source keeps every customer's
 * number and a grown one keeps most.  The matching is the assignment of new
 * to old clusters with the least total squared distance between their
 * centroids, found with the Hungarian method (Kuhn 1955, Munkres 1957) in
 * its O(n^3) potential form.  With more new clusters than old, the extra
 * ones take the numbers after the old ones, in their own order; with fewer,
 * the matched numbers are compacted to 1..k in the order of the old numbers.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/float.h"

#include "distance.h"
#include "vector.h"

/* Largest k matched (the cost matrix is k × k) */
#define MATCHING_MAX_CLUSTERS 1000

/*
 * Minimum-cost assignment of rows to columns of an n × m cost matrix
 * (n <= m): assignment[row] = column.  Potentials u, v and the augmenting
 * path search follow the classic shortest-augmenting-path formulation.
 */
static void
HungarianAssign(const double *cost, int n, int m, int *assignment)
{
	double	   *u = palloc0((n + 1) * sizeof(double));
	double	   *v = palloc0((m + 1) * sizeof(double));
	int		   *p = palloc0((m + 1) * sizeof(int));	/* column -> row, 1-based */
	int		   *way = palloc0((m + 1) * sizeof(int));
	double	   *minv = palloc((m + 1) * sizeof(double));
	bool	   *used = palloc((m + 1) * sizeof(bool));

	for (int i = 1; i <= n; i++)
	{
		int			j0 = 0;

		CHECK_FOR_INTERRUPTS();
		p[0] = i;
		for (int j = 0; j <= m; j++)
		{
			minv[j] = get_float8_infinity();
			used[j] = false;
		}
		do
		{
			int			i0 = p[j0];
			int			j1 = 0;
			double		delta = get_float8_infinity();

			used[j0] = true;
			for (int j = 1; j <= m; j++)
			{
				if (used[j])
					continue;
				{
					double		current = cost[(Size) (i0 - 1) * m + (j - 1)] - u[i0] - v[j];

					if (current < minv[j])
					{
						minv[j] = current;
						way[j] = j0;
					}
					if (minv[j] < delta)
					{
						delta = minv[j];
						j1 = j;
					}
				}
			}
			for (int j = 0; j <= m; j++)
			{
				if (used[j])
				{
					u[p[j]] += delta;
					v[j] -= delta;
				}
				else
					minv[j] -= delta;
			}
			j0 = j1;
		} while (p[j0] != 0);
		do
		{
			int			j1 = way[j0];

			p[j0] = p[j1];
			j0 = j1;
		} while (j0 != 0);
	}
	for (int j = 1; j <= m; j++)
		if (p[j] != 0)
			assignment[p[j] - 1] = j - 1;
}

/*
 * match_clusters(previous, current): for each centroid (row) of current,
 * the number 1..k it should carry so that it matches previous best
 */
PG_FUNCTION_INFO_V1(match_clusters);
Datum
match_clusters(PG_FUNCTION_ARGS)
{
	int			old_k;
	int			old_dims;
	int			new_k;
	int			new_dims;
	const double *previous = MatrixFromArray(PG_GETARG_ARRAYTYPE_P(0), "previous", &old_k, &old_dims);
	const double *current = MatrixFromArray(PG_GETARG_ARRAYTYPE_P(1), "current", &new_k, &new_dims);
	int			n;
	int			m;
	bool		new_are_rows;
	double	   *cost;
	int		   *assignment;
	int		   *number;
	Datum	   *numbers;

	if (old_dims != new_dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("centroids of %d and %d elements cannot be matched", old_dims, new_dims)));
	if (old_k > MATCHING_MAX_CLUSTERS || new_k > MATCHING_MAX_CLUSTERS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("segment.match_clusters matches at most %d clusters", MATCHING_MAX_CLUSTERS)));

	/* The Hungarian method wants rows <= columns: rows are the smaller side */
	new_are_rows = new_k <= old_k;
	n = new_are_rows ? new_k : old_k;
	m = new_are_rows ? old_k : new_k;
	cost = palloc(MemoryProduct(n, m * sizeof(double)));
	for (int i = 0; i < n; i++)
		for (int j = 0; j < m; j++)
		{
			int			a = new_are_rows ? i : j;	/* new cluster */
			int			b = new_are_rows ? j : i;	/* old cluster */

			cost[(Size) i * m + j] = SquaredDistance(current + (Size) a * new_dims,
													 previous + (Size) b * old_dims, new_dims);
		}
	assignment = palloc(n * sizeof(int));
	HungarianAssign(cost, n, m, assignment);

	/* number[new] = the old cluster it matches, or -1 */
	number = palloc(new_k * sizeof(int));
	for (int c = 0; c < new_k; c++)
		number[c] = -1;
	for (int i = 0; i < n; i++)
	{
		if (new_are_rows)
			number[i] = assignment[i];
		else
			number[assignment[i]] = i;
	}

	/*
	 * Numbers 1..new_k: matched clusters keep their old number when it fits;
	 * with fewer new clusters the matched ones are ranked by old number, and
	 * with more the unmatched ones follow in their own order.
	 */
	numbers = palloc(new_k * sizeof(Datum));
	if (new_k <= old_k)
	{
		for (int c = 0; c < new_k; c++)
		{
			int			rank = 1;

			for (int other = 0; other < new_k; other++)
				if (number[other] < number[c])
					rank++;
			numbers[c] = Int32GetDatum(rank);
		}
	}
	else
	{
		int			next = old_k;

		for (int c = 0; c < new_k; c++)
			numbers[c] = Int32GetDatum(number[c] >= 0 ? number[c] + 1 : ++next);
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(numbers, new_k, INT4OID, sizeof(int32), true, TYPALIGN_INT));
}
