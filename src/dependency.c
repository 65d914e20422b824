/*-------------------------------------------------------------------------
 *
 * dependency.c
 *	  A segmentation's tables depend on the extension
 *
 * The registry of segmentations is a table of the extension, so DROP
 * EXTENSION segment would take every segmentation's record (its models, the
 * user's labels, the scores) with it and leave its tables behind, orphaned.
 * Each table of a segmentation therefore gets a normal dependency on the
 * extension, as a column of an extension's type has: DROP EXTENSION then
 * refuses, naming the tables, and DROP EXTENSION ... CASCADE drops them
 * with the registry, because it was asked to in so many words.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(depend_on_extension);

/*
 * depend_on_extension(relation regclass) -> void: record that a table its
 * caller owns depends on extension segment (once: a second call changes
 * nothing).
 */
Datum
depend_on_extension(PG_FUNCTION_ARGS)
{
	Oid			relation = PG_GETARG_OID(0);
	Oid			extension = get_extension_oid("segment", false);
	HeapTuple	tuple;
	Oid			owner;
	char		kind;
	ObjectAddress dependent;
	ObjectAddress referenced;

	/*
	 * Lock both ends first, so that neither is dropped under the new
	 * pg_depend row (as get_object_address locks what it returns); a
	 * concurrent DROP EXTENSION waits, then sees the dependency.
	 */
	LockDatabaseObject(ExtensionRelationId, extension, 0, AccessShareLock);
	LockRelationOid(relation, AccessShareLock);
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relation));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relation)));
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	kind = ((Form_pg_class) GETSTRUCT(tuple))->relkind;
	ReleaseSysCache(tuple);

	if (kind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relation))));
	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s", get_rel_name(relation))));

	if (get_extension_name(extension) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"segment\" was dropped")));

	ObjectAddressSet(dependent, RelationRelationId, relation);
	ObjectAddressSet(referenced, ExtensionRelationId, extension);
	deleteDependencyRecordsForSpecific(RelationRelationId, relation, DEPENDENCY_NORMAL,
									   ExtensionRelationId, extension);
	recordDependencyOn(&dependent, &referenced, DEPENDENCY_NORMAL);

	PG_RETURN_VOID();
}
