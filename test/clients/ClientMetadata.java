// test/clients/ClientMetadata.java: what pgjdbc's DatabaseMetaData shows of a
// segmentation, the way a BI tool's navigator asks for it: getTables for
// TABLE and VIEW, then getColumns of each table.  Prints one line a table
// ("T", name, type, remarks) and one a column ("C", table, column, type
// name, remarks), tab-separated, for test/clients/clients.sh to compare with
// the catalog.  Usage: java -cp postgresql.jar ClientMetadata.java URL USER PASSWORD SCHEMA
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

public class ClientMetadata {
	// Tabs and line breaks inside a remark would break the line format
	static String flat(String text) {
		return text == null ? "" : text.replace('\t', ' ').replace('\n', ' ');
	}

	public static void main(String[] args) throws Exception {
		try (Connection connection = DriverManager.getConnection(args[0], args[1], args[2])) {
			DatabaseMetaData metadata = connection.getMetaData();
			List<String> tables = new ArrayList<>();
			try (ResultSet rows = metadata.getTables(null, args[3], "%", new String[] {"TABLE", "VIEW"})) {
				while (rows.next()) {
					tables.add(rows.getString("TABLE_NAME"));
					System.out.println("T\t" + rows.getString("TABLE_NAME") + "\t" + rows.getString("TABLE_TYPE")
							+ "\t" + flat(rows.getString("REMARKS")));
				}
			}
			for (String table : tables) {
				try (ResultSet rows = metadata.getColumns(null, args[3], table, "%")) {
					while (rows.next()) {
						System.out.println("C\t" + table + "\t" + rows.getString("COLUMN_NAME") + "\t"
								+ rows.getString("TYPE_NAME") + "\t" + flat(rows.getString("REMARKS")));
					}
				}
			}
		}
	}
}
