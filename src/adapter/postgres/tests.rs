use super::decode::{interval, numeric};
use super::*;

#[test]
fn redacts_url_and_key_value_passwords() {
    assert_eq!(
        redact_url("postgres://u:s3cr%40t@h:5432/db"),
        "postgres://u:***@h:5432/db"
    );
    assert_eq!(redact_url("postgresql://u@h/db"), "postgresql://u@h/db");
    assert_eq!(
        redact_url("postgres://u:p:w@h/db?sslmode=require&password=x1y&a=b"),
        "postgres://u:***@h/db?sslmode=require&password=***&a=b"
    );
    assert_eq!(
        redact_url("host=h password='se cret\\'x' user=u"),
        "host=h password=*** user=u"
    );
    assert_eq!(redact_url("host=h password = pw"), "host=h password = ***");
    assert_eq!(
        redact_url("host=h password='unterminated"),
        "<connection string with a password, redacted>"
    );
}

#[test]
fn numeric_binary_keeps_every_digit_and_the_scale() {
    // 12345678901234567890.123456789: weight 4, dscale 9.
    let digits: [u16; 8] = [1234, 5678, 9012, 3456, 7890, 1234, 5678, 9000];
    let mut b = Vec::new();
    for w in [8u16, 4, 0, 9] {
        b.extend(w.to_be_bytes());
    }
    for d in digits {
        b.extend(d.to_be_bytes());
    }
    assert_eq!(numeric(&b).unwrap(), "12345678901234567890.123456789");
    // -0.05 with scale 3: one digit 500 at weight -1.
    let mut b = Vec::new();
    for w in [1u16, 0xFFFF, 0x4000, 3, 500] {
        b.extend(w.to_be_bytes());
    }
    assert_eq!(numeric(&b).unwrap(), "-0.050");
    assert!(numeric(&[0, 1]).is_err());
}

#[test]
fn interval_matches_postgres_style() {
    assert_eq!(interval(0, 0, 0), "00:00:00");
    assert_eq!(
        interval(14, 3, 14_706_789_000),
        "1 year 2 mons 3 days 04:05:06.789"
    );
    assert_eq!(interval(0, -1, 7_200_000_000), "-1 days +02:00:00");
    assert_eq!(interval(1, 1, 0), "1 mon 1 day");
    assert_eq!(interval(0, 0, -1_500_000), "-00:00:01.5");
}

#[test]
fn describe_redacts_and_lists_parameters() {
    let req = PgRequest {
        url: "postgres://admin:hunter2@db:5432/app".to_owned(),
        sql: "INSERT INTO notes(body, n) VALUES ($1, $2)".to_owned(),
        params: vec![Value::from("hi"), Value::from(3)],
        mode: PgMode::Query,
        timeout: Duration::from_secs(30),
        redactor: crate::secret::Redactor::new(),
    };
    assert_eq!(
        describe(&req),
        "postgres query on postgres://admin:***@db:5432/app (timeout 30s)\n  \
         INSERT INTO notes(body, n) VALUES ($1, $2)\n  $1 = \"hi\" (text)\n  $2 = 3 (int8)"
    );
}
