import XCTest
@testable import KitsuneServer

/// Migration files: statements split where they end, blocks kept whole, each dialect its own files.
final class MigrationsTests: XCTestCase {
    func testTriggerBodiesAndDollarQuotedFunctionsAreOneStatement() {
        let text = """
            -- a comment; with a semicolon;
            CREATE TABLE a (x INT);
            CREATE TRIGGER t AFTER INSERT ON a BEGIN
                UPDATE a SET x = 1;
                DELETE FROM a WHERE x = 2;
            END;
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO a VALUES (1);
                RETURN NULL;
            END
            $$;
            DROP TABLE b;
            """
        let statements = Migrations.split(text)
        XCTAssertEqual(statements.count, 4, "\(statements)")
        XCTAssertTrue(statements[1].hasPrefix("CREATE TRIGGER") && statements[1].contains("DELETE FROM a WHERE x = 2;") && statements[1].hasSuffix("END"))
        XCTAssertTrue(statements[2].contains("RETURN NULL;") && statements[2].hasSuffix("$$"))
        XCTAssertEqual(statements[3], "DROP TABLE b")
    }

    func testEachDialectGetsItsOwnFilesFirstThenTheSharedOne() throws {
        for dialect in [SQLDialect.sqlite, .postgres] {
            let migrations = try Migrations.bundled(for: dialect)
            XCTAssertEqual(migrations.map(\.version), migrations.map(\.version).sorted())
            XCTAssertEqual(Set(migrations.map(\.version)).count, migrations.count, "one migration per version")
            let counts = try XCTUnwrap(migrations.first { $0.version == 7 })
            XCTAssertTrue(counts.name.contains(".\(dialect.rawValue).sql") && !counts.name.contains(dialect == .sqlite ? "postgres" : "sqlite"), counts.name)
            XCTAssertTrue(counts.statements.first?.contains("CREATE TABLE IF NOT EXISTS event_counts") == true, "the table before the shared index")
            XCTAssertTrue(counts.statements.last?.hasPrefix("INSERT INTO event_counts") == true)
        }
    }
}
