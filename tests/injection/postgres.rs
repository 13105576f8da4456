//! `PostgreSQL` reads `'a\'` as a complete string only with
//! `standard_conforming_strings = on`, which is what drctl's SQL lexer
//! assumes. A database or role may default it to off; drctl turns it on for
//! every session it opens, so a backslash in a literal cannot shift where the
//! server thinks a string ends and turn a placeholder's value into SQL.

use crate::support::Test;
use crate::support::pg::TempCluster;
use crate::support::state::step_output;

#[test]
fn backslash_literals_cannot_turn_values_into_sql_when_the_database_disables_standard_strings() {
    let pg = TempCluster::shared();
    let url = pg.database("inj_scs");
    pg.psql("ALTER DATABASE inj_scs SET standard_conforming_strings = off");
    pg.psql_in("inj_scs", "CREATE TABLE victim (id int)");
    let q = |s: &str| serde_json::to_string(s).expect("a string");
    let yaml = format!(
        "version: 1\nname: scs\ninputs:\n  v: {{ required: true }}\n  t: {{ required: true }}\nsteps:\n\
         \x20 - id: show\n    postgres: {{ url: {url}, query: \"SHOW standard_conforming_strings\" }}\n\
         \x20 - id: setting\n    needs: [show]\n    shell: {{ run: \"printf '%s' {{{{ steps.show.result.rows[0].standard_conforming_strings }}}}\" }}\n\
         \x20 - id: lit\n    postgres: {{ url: {url}, query: {lit} }}\n\
         \x20 - id: lit-out\n    needs: [lit]\n    shell: {{ run: \"printf '%s|%s' {{{{ steps.lit.result.rows[0].a }}}} {{{{ steps.lit.result.rows[0].v }}}}\" }}\n\
         \x20 - id: ident\n    continue_on_error: true\n    postgres: {{ url: {url}, script: {ident} }}\n",
        url = q(&url),
        lit = q("SELECT 'a\\' AS a, {{ inputs.v }}::text AS v"),
        ident = q("SELECT 'x\\' AS a, {{ inputs.t | ident }} AS b;"),
    );
    let value = "b' OR true; DROP TABLE victim; --";
    let output = Test::new()
        .file("runbooks/scs.yaml", yaml)
        .args(["run", "scs", "--set"])
        .arg(format!("v={value}"))
        .args(["--set", "t='; DROP TABLE victim; --"])
        .run();
    assert_eq!(
        pg.psql_in("inj_scs", "SELECT count(*) FROM victim").trim(),
        "0",
        "the victim table is gone\n{}",
        output.report()
    );
    assert_eq!(
        step_output(output.path(), "setting", "stdout"),
        "on",
        "{}",
        output.report()
    );
    assert_eq!(
        step_output(output.path(), "lit-out", "stdout"),
        format!("a\\|{value}"),
        "{}",
        output.report()
    );
}
