# test/clients/client_metadata_odbc.py: what psqlODBC (through unixODBC and
# pyodbc) shows of a segmentation, the way a BI tool's navigator asks for it:
# SQLTables for "TABLE,VIEW", then SQLColumns of each table.  Prints the same
# lines as ClientMetadata.java.  Usage: python3 client_metadata_odbc.py SCHEMA
# (the connection comes from PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD).
import os
import sys

import pyodbc


def flat(text):
    """Tabs and line breaks inside a remark would break the line format."""
    return (text or "").replace("\t", " ").replace("\n", " ")


def main():
    schema = sys.argv[1]
    connection = pyodbc.connect(
        "Driver={PostgreSQL Unicode};Server=%s;Port=%s;Database=%s;Uid=%s;Pwd=%s"
        % (os.environ.get("PGHOST", "localhost"), os.environ.get("PGPORT", "5432"),
           os.environ["PGDATABASE"], os.environ.get("PGUSER", ""), os.environ.get("PGPASSWORD", "")))
    cursor = connection.cursor()
    tables = cursor.tables(schema=schema, tableType="TABLE,VIEW").fetchall()
    for table in tables:
        print("T\t%s\t%s\t%s" % (table.table_name, table.table_type, flat(table.remarks)))
    for table in tables:
        for column in cursor.columns(schema=schema, table=table.table_name).fetchall():
            print("C\t%s\t%s\t%s\t%s" % (table.table_name, column.column_name, column.type_name,
                                         flat(column.remarks)))


main()
